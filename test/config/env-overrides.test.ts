import { describe, expect, it } from 'vitest';
import { ConfigError, environmentOverrides, parseConfig } from '../../src/config/index.js';

describe('environment overrides', () => {
  it('override the data dir and each listener host and port over the file', () => {
    const config = parseConfig('node: { dataDir: /from/file }\nlisteners:\n  amqp: { port: 1 }\n', 'x.yaml', {
      env: {
        POLYBROKER_DATA_DIR: '/from/env',
        POLYBROKER_AMQP_PORT: '0',
        POLYBROKER_MQTT_HOST: '127.0.0.1',
        POLYBROKER_MQTT_PORT: '11883',
        POLYBROKER_STOMP_PORT: '0',
        POLYBROKER_KAFKA_HOST: '::1',
        POLYBROKER_HTTP_PORT: '8080',
      },
    });
    expect(config.node.dataDir).toBe('/from/env');
    expect(config.listeners.amqp.port).toBe(0);
    expect(config.listeners.mqtt).toMatchObject({ host: '127.0.0.1', port: 11883 });
    expect(config.listeners.stomp.port).toBe(0);
    expect(config.listeners.kafka).toMatchObject({ host: '::1', port: 9092 });
    expect(config.listeners.http.port).toBe(8080);
  });

  it('ignores unrelated and empty variables', () => {
    expect(environmentOverrides({ POLYBROKER_AMQP_PORT: '', HOME: '/root', POLYBROKER_NOPE: '1' })).toEqual([]);
  });

  it('reports an invalid value by the variable that set it', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig('', 'x.yaml', { env: { POLYBROKER_KAFKA_PORT: 'ninety' } });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.issues[0]).toMatchObject({
      path: ['listeners', 'kafka', 'port'],
      origin: { kind: 'override', name: 'environment POLYBROKER_KAFKA_PORT=ninety' },
      found: '"ninety" (a string)',
    });
    expect(error!.message).toContain('environment POLYBROKER_KAFKA_PORT=ninety: listeners.kafka.port: expected an integer from 0 to 65535');
  });

  it('lets command-line overrides win over the environment', () => {
    const config = parseConfig('', 'x.yaml', {
      env: { POLYBROKER_DATA_DIR: '/env' },
      overrides: [{ path: ['node', 'dataDir'], value: '/flag', source: '--data-dir' }],
    });
    expect(config.node.dataDir).toBe('/flag');
  });

  it('replaces a section the file got wrong when an override sets a key in it', () => {
    // The file's `listeners.amqp: 5` is replaced by a map holding the override.
    const config = parseConfig('listeners:\n  amqp: { host: "127.0.0.1" }\n', 'x.yaml', { env: { POLYBROKER_AMQP_PORT: '5999' } });
    expect(config.listeners.amqp).toEqual({ enabled: true, host: '127.0.0.1', port: 5999 });
  });
});
