import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPolybroker, uniquePrefix, type MqttTarget } from './lib/target.js';
import { MQTTJS_SCENARIOS } from './scenarios/mqttjs.js';

let target: MqttTarget;
beforeAll(async () => { target = await startPolybroker(); });
afterAll(async () => { await target.stop(); });

describe('mqtt.js against polybroker', () => {
  for (const s of MQTTJS_SCENARIOS) {
    it(s.name, async () => {
      target.prefix = uniquePrefix();
      expect(await s.run(target)).toEqual(s.expected);
    });
  }
});
