import { resolve, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchHarness, type Harness } from './harness.js';

/**
 * `npm run bench -- <name> [--runs N] [--json FILE] [bench args...]`
 * Loads `bench/<name>.js` (compiled, beside this file), which exports `run(h: Harness)`.
 */

const USAGE = 'usage: npm run bench -- <name> [--runs N] [--json FILE] [bench args...]';

interface BenchModule {
  run(h: Harness): Promise<void>;
}

async function main(argv: string[]): Promise<number> {
  let runs = 3;
  let jsonFile: string | undefined;
  let name: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) {
        process.stderr.write(`--runs needs a positive integer\n${USAGE}\n`);
        return 2;
      }
    } else if (arg === '--json') {
      jsonFile = argv[++i];
      if (!jsonFile) {
        process.stderr.write(`--json needs a file name\n${USAGE}\n`);
        return 2;
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (name === undefined && !arg.startsWith('-')) {
      name = arg;
    } else {
      rest.push(arg);
    }
  }
  if (!name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(name)) {
    process.stderr.write(`bad bench name ${JSON.stringify(name)}\n`);
    return 2;
  }
  const file = resolve(dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  if (!existsSync(file)) {
    process.stderr.write(`no bench named ${name} (${file} does not exist; is it built?)\n`);
    return 2;
  }
  const mod = (await import(pathToFileURL(file).href)) as Partial<BenchModule>;
  if (typeof mod.run !== 'function') {
    process.stderr.write(`${file} does not export run(h: Harness)\n`);
    return 2;
  }
  const h = new BenchHarness(name, runs, rest);
  const stopOnSignal = () => {
    void h.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await mod.run(h);
  } finally {
    await h.cleanup();
    // Print what was measured even when a later workload failed.
    if (h.results.length > 0) h.printTable();
  }
  if (jsonFile) {
    h.writeJson(resolve(jsonFile));
    process.stdout.write(`results written to ${resolve(jsonFile)}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
