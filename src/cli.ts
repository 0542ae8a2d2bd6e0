#!/usr/bin/env node
import { Command } from 'commander';
import { Broker, StartError } from './broker.js';
import { ConfigError, EMBEDDED_DEFAULTS, loadConfig, parseConfig, type ConfigOverride } from './config/index.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataDirLockedError } from './data-dir-lock.js';
import { ListenError } from './listeners/bind.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';
import { registerCtl } from './ctl/ctl-command.js';

/** Errors a user can act on are printed as one clear message, without a stack trace. */
function explain(err: unknown): string {
  if (err instanceof ConfigError || err instanceof DataDirLockedError || err instanceof ListenError || err instanceof StartError) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function fail(err: unknown): never {
  process.stderr.write(`polybroker: ${explain(err)}\n`);
  process.exit(1);
}

async function start(options: { config?: string; dataDir?: string }): Promise<void> {
  const overrides: ConfigOverride[] = [];
  if (options.dataDir !== undefined) overrides.push({ path: ['node', 'dataDir'], value: options.dataDir, source: '--data-dir' });
  let loaded;
  try {
    loaded = loadConfig({ file: options.config, env: process.env, overrides });
  } catch (err) {
    fail(err);
  }
  const log = createLogger(loaded.config.log);
  const broker = new Broker({
    config: loaded.config,
    configSource: loaded.source,
    log,
    reloadConfig: () => loadConfig({ file: options.config, env: process.env, overrides }),
  });

  // First SIGTERM/SIGINT: graceful stop then exit 0. A second one: exit at once.
  let stopRequested = false;
  let starting = true;
  const stopAndExit = () => {
    broker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.fatal({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      log.warn({ signal }, 'second signal: exiting without finishing the stop');
      process.exit(1);
    }
    stopRequested = true;
    log.info({ signal }, 'stopping');
    if (!starting) stopAndExit();
  };
  // SIGHUP: hot reload (as `polybroker ctl reload`); the outcome goes to the log.
  process.on('SIGHUP', () => {
    if (starting || stopRequested) return;
    log.info({ signal: 'SIGHUP' }, 'reloading the config');
    void broker.reload();
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled promise rejection');
    process.exit(1);
  });

  try {
    await broker.start();
  } catch (err) {
    const known = err instanceof DataDirLockedError || err instanceof ListenError || err instanceof StartError;
    log.fatal(known ? {} : { err }, `cannot start: ${err instanceof Error ? err.message : String(err)}`);
    fail(err);
  }
  starting = false;
  if (stopRequested) stopAndExit();
}

function checkConfig(file: string): void {
  const path = resolve(file);
  try {
    parseConfig(readFileSync(path, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(`${file}: no such file`);
    fail(err);
  }
  process.stdout.write(`${file}: valid\n`);
}

const program = new Command()
  .name('polybroker')
  .description('One broker for AMQP 0-9-1, MQTT 3.1/3.1.1/5.0, STOMP 1.0-1.2 and Kafka on one shared commit log')
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('start')
  .description(`start the broker (config: --config FILE, else ./polybroker.yaml when present, else ${EMBEDDED_DEFAULTS})`)
  .option('-c, --config <file>', 'YAML configuration file')
  .option('-d, --data-dir <dir>', 'data directory (overrides node.dataDir and POLYBROKER_DATA_DIR)')
  .action(start);

program
  .command('check-config')
  .description('validate a configuration file and exit (0 when valid, 1 with every problem listed)')
  .argument('<file>', 'YAML configuration file')
  .action(checkConfig);

registerCtl(program);

await program.parseAsync(process.argv);
