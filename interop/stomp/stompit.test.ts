import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPolybroker, type RunningTarget } from './lib/polybroker.js';
import { STOMPIT_ERROR_SCENARIOS, STOMPIT_SCENARIOS } from './scenarios/stompit.js';

/** stompit 1.0 (STOMP 1.2 over TCP) against polybroker; the same scripts run against the peers in diff.ts. */
let broker: RunningTarget;
beforeAll(async () => {
  broker = await startPolybroker();
});
afterAll(async () => {
  await broker?.stop();
});

const run = (name: string) => STOMPIT_SCENARIOS[name]!(broker.target);
const runError = (name: string) => STOMPIT_ERROR_SCENARIOS[name]!(broker.target);

describe('stompit', () => {
  it('sends to and receives from a /queue with user headers and client-individual acks', async () => {
    const got = (await run('queue send and receive')) as Array<Record<string, unknown>>;
    expect(got.map((m) => m.body)).toEqual(['m1', 'm2', 'm3']);
    for (const [i, m] of got.entries()) {
      expect(m).toMatchObject({ 'content-type': 'text/plain', 'x-n': String(i + 1), custom: 'a:b', redelivered: 'false', 'has message-id': true, destinationOk: true });
    }
  });
  it('fans a /topic out to every matching subscriber (amq.topic wildcards)', async () => {
    expect(await run('topic fan-out with wildcards')).toEqual({ star: ['to-x', 'to-y'], exact: ['to-x'], exactDestination: true });
  });
  it('sends and subscribes through /exchange/<name>/<routing-key>', async () => {
    expect(await run('exchange destination')).toEqual({ body: 'via-exchange', destination: true });
  });
  it('carries binary bodies with NULs byte for byte', async () => {
    expect(await run('binary body')).toEqual({ equal: true, length: 3000, contentLength: 3000 });
  });
  it('treats ACK in client mode as cumulative [STOMP 1.2 SUBSCRIBE ack]', async () => {
    expect(await run('client ack is cumulative')).toEqual({ first: ['m1', 'm2', 'm3'], again: [{ body: 'm3', redelivered: 'true' }] });
  });
  it('requeues on NACK, marked redelivered', async () => {
    expect(await run('nack requeues')).toEqual([{ body: 'once', redelivered: 'false' }, { body: 'once', redelivered: 'true' }]);
  });
  it('applies committed transactions and discards aborted ones', async () => {
    expect(await run('transactions commit and abort')).toEqual(['committed-1', 'committed-2', 'after']);
  });
  it('voids an ACK of an aborted transaction', async () => {
    expect(await run('ack in aborted transaction')).toEqual({ body: 'keep-me', redelivered: 'true' });
  });
  it('sends RECEIPT for every frame that asks', async () => {
    expect(await run('receipts')).toEqual({ SEND: true, SUBSCRIBE: true, UNSUBSCRIBE: true, BEGIN: true, COMMIT: true, DISCONNECT: true });
  });
  it('serves request/reply through a /temp-queue reply-to', async () => {
    expect(await run('temp-queue request/reply')).toEqual({ replies: ['re:ping'], subscription: '/temp-queue/answers', replyTo: '/reply-queue/<name>' });
  });
  it('honours prefetch-count', async () => {
    expect(await run('prefetch-count')).toEqual({ slow: ['m1'], other: ['m2', 'm3'] });
  });
  it('applies x- queue arguments from the SEND that creates the queue', async () => {
    expect(await run('x-max-length queue argument')).toEqual({ got: ['m3'], extra: 0 });
  });
  it('keeps a durable topic subscription across a reconnect', async () => {
    expect(await run('durable topic subscription across reconnect')).toEqual(['while-away']);
  });
});

describe('stompit error cases: ERROR frame, then close', () => {
  it('refuses a wrong passcode', async () => expect(await runError('wrong passcode')).toBe('Bad CONNECT'));
  it('refuses an invalid destination', async () => expect(await runError('invalid destination')).toBe('Unknown destination'));
  it('refuses a subscription to a missing /amq/queue', async () => expect(await runError('subscribe to a missing /amq/queue')).toBe('not_found'));
  it('refuses SEND without destination', async () => expect(await runError('SEND without destination')).toBe('Missing destination'));
  it('refuses COMMIT of an unknown transaction', async () => expect(await runError('COMMIT of an unknown transaction')).toBe('Bad transaction'));
  it('refuses ACK of a message it never delivered', async () => expect(await runError('ACK of an unknown message')).toBe('Subscription not found'));
});
