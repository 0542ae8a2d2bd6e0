import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EMBEDDED_DEFAULTS, loadConfig, resolveConfigFile } from '../../src/config/index.js';
import { runCli, tempDir } from '../helpers/broker.js';

describe('which configuration file is read', () => {
  it('uses --config when given, resolved against the working directory', () => {
    const dir = tempDir();
    expect(resolveConfigFile('conf/x.yaml', dir)).toBe(join(dir, 'conf/x.yaml'));
  });

  it('uses ./polybroker.yaml when present and no --config is given', () => {
    const dir = tempDir();
    expect(resolveConfigFile(undefined, dir)).toBeUndefined();
    writeFileSync(join(dir, 'polybroker.yaml'), 'listeners:\n  amqp: { port: 5999 }\n');
    expect(resolveConfigFile(undefined, dir)).toBe(join(dir, 'polybroker.yaml'));
    const loaded = loadConfig({ cwd: dir });
    expect(loaded.source).toBe(join(dir, 'polybroker.yaml'));
    expect(loaded.config.listeners.amqp.port).toBe(5999);
  });

  it('falls back to the embedded defaults when there is no file', () => {
    const loaded = loadConfig({ cwd: tempDir() });
    expect(loaded.source).toBe(EMBEDDED_DEFAULTS);
    expect(loaded.config.listeners.amqp.port).toBe(5672);
  });

  it('fails when the --config file does not exist', () => {
    expect(() => loadConfig({ file: 'missing.yaml', cwd: tempDir() })).toThrow(ConfigError);
  });

  it('`polybroker start` in a directory with polybroker.yaml reads it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'polybroker.yaml'), 'log:\n  levle: info\n');
    const result = await runCli(['start'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, 'polybroker.yaml')}:2:3: log.levle: expected one of the keys level, format, found the unknown key "levle"; did you mean "level"?`);
  });
});
