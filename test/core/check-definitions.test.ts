/**
 * `definitionProblems` (checked before a reload or an import applies anything) must agree with
 * `applyVhostDefinitions`: a change set it passes applies, and one it refuses is refused by
 * the core too. Property test over change sets from a small vocabulary (so that names collide:
 * redeclarations, bindings to what exists or not, policies over queue arguments) on a core
 * that already holds another random change set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyVhostDefinitions, definitionProblems, type VhostsSection } from '../../src/core/index.js';
import { openCore, session } from './fixture.js';

const exchange = fc.record(
  {
    name: fc.constantFrom('a', 'b', 'a', 'b', 'amq.x', 'amq.topic'),
    type: fc.constantFrom('direct', 'topic', 'headers', 'direct', 'topic', 'headers', 'x-delayed-message', 'bogus') as fc.Arbitrary<'direct'>,
    durable: fc.constantFrom(true, true, true, false),
    arguments: fc.constantFrom({}, {}, {}, { 'x-delayed-type': 'headers' }, { 'alternate-exchange': 'ae' }),
  },
  { requiredKeys: ['name', 'type'] },
);
const queue = fc.record(
  {
    name: fc.constantFrom('q1', 'q2', 'q3', 's1', 'amq.q'),
    durable: fc.constantFrom(true, true, true, false),
    autoDelete: fc.constantFrom(false, false, false, true),
    arguments: fc.constantFrom({}, {}, {}, { 'x-max-length': 5 }, { 'x-max-length': -1 }, { 'x-queue-type': 'stream' }, { 'x-overflow': 'nope' }, { 'x-max-priority': 300 }),
  },
  { requiredKeys: ['name'] },
);
const stream = fc.record({ name: fc.constantFrom('s1', 'q1'), partitions: fc.constantFrom(1, 2) }, { requiredKeys: ['name'] });
const binding = fc.record(
  {
    source: fc.constantFrom('', 'a', 'b', 'amq.topic', 'amq.headers', 'nowhere'),
    destination: fc.constantFrom('q1', 'q2', 's1', 'a', 'b'),
    destinationType: fc.constantFrom('queue', 'exchange', 'stream') as fc.Arbitrary<'queue'>,
    routingKey: fc.constantFrom('', 'k'),
    arguments: fc.constantFrom({}, { 'x-match': 'any', h: 1 }, { 'x-match': 'bogus' }),
  },
  { requiredKeys: ['source', 'destination'] },
);
const policy = fc.record({
  name: fc.constantFrom('p1', 'p2'),
  pattern: fc.constantFrom('^q', '^s', '^q2', '.*', '('),
  applyTo: fc.constantFrom('all', 'queues', 'exchanges') as fc.Arbitrary<'all'>,
  definition: fc.constantFrom({ 'message-ttl': 1000 }, { 'message-ttl': 1000 }, {}, { 'max-length': -3 }),
});
const vhostDefinition = fc.record(
  {
    limits: fc.constantFrom({ maxQueues: 1 }, { maxQueues: 2 }, { maxQueues: 5 }),
    exchanges: fc.array(exchange, { maxLength: 3 }),
    queues: fc.array(queue, { maxLength: 3 }),
    streams: fc.array(stream, { maxLength: 2 }),
    bindings: fc.array(binding, { maxLength: 3 }),
    policies: fc.array(policy, { maxLength: 1 }),
  },
  { requiredKeys: [] },
);
const section: fc.Arbitrary<VhostsSection> = fc.dictionary(fc.constantFrom('/', 'v2'), vhostDefinition, { maxKeys: 2 });

async function refusal(apply: () => Promise<unknown>): Promise<string | null> {
  try {
    await apply();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('definitionProblems', () => {
  it('refuses exactly the change sets the core refuses, on a core holding another change set', async () => {
    await fc.assert(
      fc.asyncProperty(section, section, async (existing, next) => {
        const f = await openCore();
        try {
          await refusal(() => applyVhostDefinitions(f.core, existing));
          const problems = definitionProblems(f.core, next);
          const refused = await refusal(() => applyVhostDefinitions(f.core, next));
          expect({ checked: problems.length > 0, refused: refused !== null, problems, refusedWith: refused }).toMatchObject({ checked: refused !== null });
        } finally {
          await f.close();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('names each problem with its object and vhost', async () => {
    const f = await openCore();
    await applyVhostDefinitions(f.core, { '/': { queues: [{ name: 'jobs', durable: true }] } });
    const problems = definitionProblems(f.core, {
      '/': {
        queues: [{ name: 'jobs', durable: true, arguments: { 'x-max-length': 5 } }],
        bindings: [
          { source: 'nowhere', destination: 'jobs' },
          { source: 'amq.headers', destination: 'jobs', arguments: { 'x-match': 'bogus' } },
        ],
        exchanges: [{ name: 'e', type: 'bogus' as 'direct' }],
      },
    });
    expect(problems).toEqual([
      "exchange 'e' in vhost '/': invalid exchange type 'bogus'",
      "queue 'jobs' in vhost '/': inequivalent arg 'x-max-length' for queue 'jobs' in vhost '/': received '5' but current is none",
      "binding 'nowhere' -> queue 'jobs' in vhost '/': no exchange 'nowhere' in vhost '/'",
      'binding \'amq.headers\' -> queue \'jobs\' in vhost \'/\': invalid x-match value "bogus" in headers binding: expected all, any, all-with-x or any-with-x',
    ]);
    await expect(applyVhostDefinitions(f.core, { '/': { bindings: [{ source: 'amq.headers', destination: 'jobs', arguments: { 'x-match': 'bogus' } }] } })).rejects.toThrow(/x-match/);
    await f.close();
  });

  it('agrees with the core on a connection\'s exclusive queue: no redeclaring it, no binding to it', async () => {
    const f = await openCore();
    const { conn } = session(f.core);
    await conn.vhost.declareQueue('mine', { exclusive: true }, conn.id);
    for (const next of [{ '/': { queues: [{ name: 'mine', durable: false }] } }, { '/': { bindings: [{ source: 'amq.direct', destination: 'mine', routingKey: 'k' }] } }] as VhostsSection[]) {
      expect(definitionProblems(f.core, next)).toEqual([expect.stringContaining('exclusive queue of a connection')]);
      await expect(applyVhostDefinitions(f.core, next)).rejects.toThrow(/exclusive/);
    }
    await f.close();
  });
});
