import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPolybroker, type RunningTarget } from './lib/polybroker.js';
import { STOMPJS_SCENARIOS } from './scenarios/stompjs.js';

/** @stomp/stompjs 7 over WebSocket (`ws`, subprotocols v10/v11/v12.stomp on /ws of the HTTP listener). */
let broker: RunningTarget;
beforeAll(async () => {
  broker = await startPolybroker();
});
afterAll(async () => {
  await broker?.stop();
});

const run = (name: string) => STOMPJS_SCENARIOS[name]!(broker.target);

describe('stompjs over WebSocket', () => {
  it('sends and receives on a /queue with client-individual acks', async () => {
    expect(await run('queue send and receive (client-individual)')).toEqual([
      { body: 'm1', xn: '1', contentType: 'text/plain' },
      { body: 'm2', xn: '2', contentType: 'text/plain' },
    ]);
  });
  it('delivers a /topic message to two subscriptions', async () => {
    expect(await run('topic to two subscribers')).toEqual(['hello', 'hello']);
  });
  it('carries a binary body', async () => {
    expect(await run('binary body over WebSocket')).toEqual({ equal: true, length: 512 });
  });
  it('runs transactions', async () => {
    expect(await run('transaction over WebSocket')).toEqual(['committed', 'after']);
  });
  it('requeues on NACK and acks in client mode', async () => {
    expect(await run('nack and client ack')).toEqual([{ body: 'x', redelivered: 'false' }, { body: 'x', redelivered: 'true' }]);
  });
  it('exchanges heart-beats both ways and stays connected', async () => {
    expect(await run('heart-beats both ways keep the connection')).toEqual({ connected: true, errors: [] });
  });
  it('sends ERROR and closes on an invalid destination', async () => {
    expect(await run('invalid destination over WebSocket')).toEqual(['Unknown destination']);
  });
});
