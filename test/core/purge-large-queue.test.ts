import { describe, expect, it } from 'vitest';
import { msg, openCore, session } from './fixture.js';

/**
 * Regression: purging or deleting a queue with more than ~120k ready messages threw
 * "Maximum call stack size exceeded" (an argument spread of every entry), which reached AMQP
 * clients as 541 INTERNAL_ERROR (seen by `npm run bench -- tls` after a run left a backlog).
 */
describe('a queue with a large backlog', () => {
  it('purges and deletes 150,000 ready messages', async () => {
    const f = await openCore();
    const { ch, conn } = session(f.core);
    await conn.vhost.declareQueue('big', { durable: false });
    for (let i = 0; i < 150_000; i++) ch.publish('', 'big', msg('x'));
    expect(await conn.vhost.purgeQueue('big')).toBe(150_000);
    for (let i = 0; i < 150_000; i++) ch.publish('', 'big', msg('y'));
    await conn.vhost.deleteQueue('big');
    expect(conn.vhost.queue('big')).toBeNull();
    await f.close();
  }, 60_000);
});
