import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigIssue } from '../../src/config/index.js';

/** The issues parseConfig reports for `yaml` (fails the test when it accepts it). */
function issuesOf(yaml: string, env: NodeJS.ProcessEnv = {}): readonly ConfigIssue[] {
  try {
    parseConfig(yaml, 'test.yaml', { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('configuration was accepted');
}

function messageOf(yaml: string): string {
  try {
    parseConfig(yaml, 'test.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('configuration was accepted');
}

describe('config defaults', () => {
  it('fills every section from embedded defaults for an empty file', () => {
    const config = parseConfig('', 'empty.yaml');
    expect(config.node.dataDir).toBe('./data');
    expect(config.node.nodeId.length).toBeGreaterThan(0);
    expect(config.listeners).toMatchObject({
      amqp: { enabled: true, host: '::', port: 5672 },
      mqtt: { enabled: true, host: '::', port: 1883 },
      stomp: { enabled: true, host: '::', port: 61613 },
      kafka: { enabled: true, host: '::', port: 9092 },
      http: { enabled: true, host: '::', port: 15672 },
    });
    expect(config.storage).toEqual({
      segmentBytes: 128 * 1024 * 1024,
      durability: 'sync',
      intervalMs: 100,
      retentionMs: 7 * 24 * 3600 * 1000,
      retentionBytes: -1,
    });
    expect(config.log).toEqual({ level: 'info', format: 'auto' });
  });

  it('keeps given values and fills the rest of a partly given section', () => {
    const config = parseConfig('listeners:\n  amqp:\n    port: 5673\nstorage:\n  durability: interval\n', 'x.yaml');
    expect(config.listeners.amqp).toEqual({ enabled: true, host: '::', port: 5673 });
    expect(config.listeners.mqtt.port).toBe(1883);
    expect(config.storage.durability).toBe('interval');
    expect(config.storage.intervalMs).toBe(100);
  });

  it('accepts a file that is only comments', () => {
    expect(parseConfig('# nothing here\n', 'c.yaml').listeners.http.port).toBe(15672);
  });
});

describe('config validation errors', () => {
  it('names file, line, column, key path, expected and found for a wrong type', () => {
    const issues = issuesOf('listeners:\n  amqp:\n    port: "abc"\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      path: ['listeners', 'amqp', 'port'],
      origin: { kind: 'file', file: 'test.yaml', line: 3, column: 11 },
      expected: 'an integer from 0 to 65535',
      found: '"abc" (a string)',
    });
    expect(messageOf('listeners:\n  amqp:\n    port: "abc"\n')).toContain(
      'test.yaml:3:11: listeners.amqp.port: expected an integer from 0 to 65535, found "abc" (a string)',
    );
  });

  it('reports a number out of range with the allowed range', () => {
    const [issue] = issuesOf('listeners:\n  kafka: { port: 70000 }\n');
    expect(issue).toMatchObject({ path: ['listeners', 'kafka', 'port'], expected: 'an integer from 0 to 65535', found: '70000 (an integer)' });
    expect(issue!.origin).toMatchObject({ line: 2, column: 18 });
  });

  it('reports an unknown key at the key, listing the known keys and the close one', () => {
    const [issue] = issuesOf('listeners:\n  amqp:\n    prot: 5672\n');
    expect(issue).toMatchObject({
      path: ['listeners', 'amqp', 'prot'],
      origin: { line: 3, column: 5 },
      expected: 'one of the keys enabled, host, port',
      found: 'the unknown key "prot"',
      suggestion: 'port',
    });
    expect(messageOf('listeners:\n  amqp:\n    prot: 5672\n')).toContain('did you mean "port"?');
  });

  it('reports unknown top-level sections, with a suggestion only when one is close', () => {
    const issues = issuesOf('storag: {}\nwhatever: 1\n');
    expect(issues.map((i) => [i.path.join('.'), i.suggestion])).toEqual([
      ['storag', 'storage'],
      ['whatever', undefined],
    ]);
    expect(issues[1]!.origin).toMatchObject({ line: 2, column: 1 });
  });

  it('suggests the close value of an enum', () => {
    const [issue] = issuesOf('storage:\n  durability: snyc\n');
    expect(issue).toMatchObject({
      path: ['storage', 'durability'],
      expected: 'one of "sync", "interval", "none"',
      found: '"snyc" (a string)',
      suggestion: 'sync',
      origin: { line: 2, column: 15 },
    });
  });

  it('reports every problem of a file at once, in file order', () => {
    const issues = issuesOf(
      ['log:', '  level: loud', 'listeners:', '  mqtt:', '    enabled: yes please', '  stomp: 5', 'storage:', '  segmentBytes: 10', ''].join('\n'),
    );
    expect(issues.map((i) => [i.path.join('.'), i.origin.kind === 'file' ? i.origin.line : 0])).toEqual([
      ['log.level', 2],
      ['listeners.mqtt.enabled', 5],
      ['listeners.stomp', 6],
      ['storage.segmentBytes', 8],
    ]);
    expect(issues[1]!.expected).toBe('a boolean (true or false)');
    expect(issues[2]).toMatchObject({ expected: 'a map', found: '5 (an integer)' });
    expect(issues[3]!.expected).toBe('an integer from 65536 to 2147483647');
  });

  it('points an empty value at its key', () => {
    const [issue] = issuesOf('node:\n  dataDir:\n');
    expect(issue).toMatchObject({ path: ['node', 'dataDir'], found: 'nothing (an empty value)', origin: { line: 2 } });
  });

  it('rejects a section given as a list with its position', () => {
    const [issue] = issuesOf('log:\n  - level\n');
    expect(issue).toMatchObject({ path: ['log'], expected: 'a map', found: 'a list of 1 item', origin: { line: 2, column: 3 } });
  });

  it('rejects a top level that is not a map', () => {
    const [issue] = issuesOf('- a\n- b\n');
    expect(issue!.expected).toContain('a map of sections');
    expect(issue!.found).toBe('a list of 2 items');
  });

  it('reports YAML syntax errors with their position', () => {
    const [issue] = issuesOf('listeners:\n  amqp: [1, 2\n');
    expect(issue!.expected).toBe('valid YAML');
    expect(issue!.origin.kind).toBe('file');
  });

  it('rejects duplicate keys', () => {
    const [issue] = issuesOf('log: {}\nlog: {}\n');
    expect(issue!.found).toMatch(/unique/);
    expect(issue!.origin).toMatchObject({ line: 2, column: 1 });
  });

  it('checks patterns (nodeId)', () => {
    const [issue] = issuesOf('node:\n  nodeId: "has space"\n');
    expect(issue).toMatchObject({ path: ['node', 'nodeId'], found: '"has space" (a string)' });
    expect(issue!.expected).toMatch(/^a string matching/);
  });

  it('validates the vhosts section with paths through named vhosts and lists', () => {
    const issues = issuesOf('vhosts:\n  /:\n    queues:\n      - name: q\n        durabel: true\n    exchanges: [{ name: e, type: topick }]\n');
    expect(issues.map((i) => [i.path, i.suggestion, i.origin.kind === 'file' ? [i.origin.line, i.origin.column] : []])).toEqual([
      [['vhosts', '/', 'queues', '0', 'durabel'], 'durable', [5, 9]],
      [['vhosts', '/', 'exchanges', '0', 'type'], 'topic', [6, 34]],
    ]);
    expect(messageOf('vhosts:\n  /:\n    queues: [{ durable: true }]\n')).toContain(
      'test.yaml:3:14: vhosts["/"].queues[0].name: expected the required key "name", found nothing',
    );
  });
});
