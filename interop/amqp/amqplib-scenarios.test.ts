import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareObservations } from './compare.js';
import { RAW_SCENARIOS } from './raw-scenarios.js';
import { STOCK_CLIENT_SCENARIOS } from './stock-clients.js';
import { runScenario, type Observation } from './scenario-kit.js';
import { SCENARIOS } from './scenarios.js';
import { startTarget, type Target } from './target.js';

// What RabbitMQ 3.10 showed the same client code (recorded with `npm run interop:diff -- amqp --record`
// or interop/amqp/record-golden.ts). Every scenario must match it, except the differences
// written down as intended in compare.ts.
const golden = JSON.parse(readFileSync(new URL('./golden/rabbitmq.json', import.meta.url), 'utf8')) as Record<string, Observation[]>;

describe('amqplib (promise API) and raw frames: polybroker behaves as RabbitMQ 3.10', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget();
  });
  afterAll(async () => {
    await target?.stop();
  });

  for (const s of [...SCENARIOS, ...RAW_SCENARIOS, ...STOCK_CLIENT_SCENARIOS]) {
    it(s.name, async () => {
      const ours = await runScenario(s, target.host, target.port);
      expect(ours.find((o) => o[0] === 'scenario-error')).toBeUndefined();
      const reference = golden[s.name];
      expect(reference, `no RabbitMQ observations recorded for ${s.name}`).toBeDefined();
      const unexpected = compareObservations(s.name, reference!, ours).filter((d) => !d.intended && !d.knownBug);
      expect(unexpected).toEqual([]);
    });
  }
});
