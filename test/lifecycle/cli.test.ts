import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, tempDir } from '../helpers/broker.js';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('polybroker CLI', () => {
  it('--version prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('--help lists the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: polybroker');
    expect(result.stdout).toMatch(/start \[options\]/);
    expect(result.stdout).toMatch(/check-config <file>/);
  });

  it('start --help lists --config and --data-dir', async () => {
    const result = await runCli(['start', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--config <file>');
    expect(result.stdout).toContain('--data-dir <dir>');
  });

  it('rejects an unknown command with a non-zero status', async () => {
    const result = await runCli(['strat']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown command 'strat'/);
  });

  it('check-config exits 1 and lists every problem with file, line and column', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'listeners:\n  amqp:\n    prot: 5672\nlog:\n  level: loud\n');
    const result = await runCli(['check-config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:3:5: listeners.amqp.prot: expected one of the keys enabled, host, port, found the unknown key "prot"; did you mean "port"?`);
    expect(result.stderr).toContain(`${file}:5:10: log.level: expected one of`);
  });

  it('check-config of a missing file exits 1 naming it', async () => {
    const result = await runCli(['check-config', '/nonexistent/polybroker.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/polybroker.yaml: no such file');
  });

  it('start with an invalid config exits 1 before touching the data dir', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'storage:\n  durability: fast\n');
    const result = await runCli(['start', '--config', file, '--data-dir', join(dir, 'data')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:2:15: storage.durability: expected one of "sync", "interval", "none", found "fast"`);
    expect(() => readFileSync(join(dir, 'data', 'polybroker.lock'))).toThrow();
  });

  it('start with a --config that does not exist exits 1 naming the file', async () => {
    const result = await runCli(['start', '--config', '/nonexistent/x.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/nonexistent/x.yaml');
    expect(result.stderr).toContain('no such file');
  });
});
