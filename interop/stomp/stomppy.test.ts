import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPolybroker, type RunningTarget } from './lib/polybroker.js';
import { runStomppy, STOMPPY_SCENARIO_NAMES } from './scenarios/stomppy.js';

/** stomp.py 8 (Debian python3-stomp, /usr/bin/python3) with STOMP 1.0, 1.1 and 1.2. */
let broker: RunningTarget;
beforeAll(async () => {
  broker = await startPolybroker();
});
afterAll(async () => {
  await broker?.stop();
});

const roundtrip = [1, 2, 3].map((n) => ({ body: `m${n}`, 'x-n': String(n), custom: 'a:b', 'content-type': 'text/plain', 'has-message-id': true, 'destination-ok': true }));

const EXPECTED: Record<string, unknown> = {
  roundtrip,
  nack: [{ body: 'once', redelivered: 'false' }, { body: 'once', redelivered: 'true' }],
  transactions: ['committed-1', 'committed-2', 'after'],
  binary: { equal: true, length: 1024 },
  durable: ['while-away'],
  'temp-queue': { reply: 'pong', subscription: '/temp-queue/answers', 'reply-to-prefix': '/reply-queue' },
  heartbeat: { connected: true, 'server-beats': true, timeouts: 0 },
  'silent-client': { disconnected: true, error: 'Heart-beat timeout', 'within-2s': true },
  'wrong-passcode': { connected: false, exception: 'ConnectFailedException' },
  'bad-destination': { error: 'Unknown destination' },
};

for (const version of ['1.0', '1.1', '1.2']) {
  describe(`stomp.py with STOMP ${version}`, () => {
    for (const [name, versions] of Object.entries(STOMPPY_SCENARIO_NAMES)) {
      if (!versions.includes(version)) continue;
      it(name, async () => {
        expect(await runStomppy(name, version, broker.target)).toEqual(EXPECTED[name]);
      });
    }
  });
}
