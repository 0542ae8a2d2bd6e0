import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPolybroker, uniquePrefix, type MqttTarget } from './lib/target.js';
import { MOSQUITTO_SCENARIOS } from './scenarios/mosquitto.js';
import { PAHO_SCENARIOS } from './scenarios/paho.js';

let target: MqttTarget;
beforeAll(async () => { target = await startPolybroker(); });
afterAll(async () => { await target.stop(); });

describe('mosquitto_pub / mosquitto_sub against polybroker', () => {
  for (const s of MOSQUITTO_SCENARIOS) {
    it(s.name, async () => {
      target.prefix = uniquePrefix();
      expect(await s.run(target)).toEqual(s.expected);
    });
  }
});

describe('Eclipse Paho (python3-paho-mqtt) against polybroker', () => {
  for (const s of PAHO_SCENARIOS) {
    it(s.name, async () => {
      target.prefix = uniquePrefix();
      expect(await s.run(target)).toEqual(s.expected);
    });
  }
});
