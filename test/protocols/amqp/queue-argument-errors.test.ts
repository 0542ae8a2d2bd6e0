import { describe, expect, it } from 'vitest';
import { amqplibOnOwnServer } from './harness.js';

// Reply texts of invalid queue arguments, as RabbitMQ 3.10 writes them (rabbit_amqqueue's
// check_*_arg and rabbit_misc:check_expiry), observed with pika against both brokers.

describe('AMQP queue.declare argument errors (RabbitMQ 3.10 texts)', () => {
  const { conn } = amqplibOnOwnServer();

  async function declareError(queue: string, args: Record<string, unknown>): Promise<string> {
    const ch = await conn().createChannel();
    ch.on('error', () => {});
    return ch.assertQueue(queue, { exclusive: true, arguments: args }).then(
      () => 'declared',
      (e: { code: number; message: string }) => `${e.code} ${e.message}`,
    );
  }

  it.each([
    [{ 'x-message-ttl': 'abc' }, `'x-message-ttl'`, '"expected integer, got longstr"'],
    [{ 'x-max-length': 'abc' }, `'x-max-length'`, '"expected integer, got longstr"'],
    [{ 'x-expires': 0 }, `'x-expires'`, '{value_zero,0}'],
    [{ 'x-expires': -5 }, `'x-expires'`, '{value_negative,-5}'],
    [{ 'x-message-ttl': -1 }, `'x-message-ttl'`, '{value_negative,-1}'],
    [{ 'x-message-ttl': 315_360_000_001 }, `'x-message-ttl'`, '{value_too_large,315360000001}'],
    [{ 'x-expires': 315_360_000_001 }, `'x-expires'`, '{value_too_large,315360000001}'],
  ])('%j is 406 ending in the reason RabbitMQ prints', async (args, arg, reason) => {
    const text = await declareError('arg-errors', args);
    expect(text).toContain(`406 `);
    expect(text).toContain(`PRECONDITION_FAILED - invalid arg ${arg} for queue 'arg-errors' in vhost '/': ${reason}`);
  });

  it('a server-named queue is named in the error by the amq.gen- name it was given', async () => {
    const text = await declareError('', { 'x-expires': 0 });
    expect(text).toMatch(/PRECONDITION_FAILED - invalid arg 'x-expires' for queue 'amq\.gen-[\w-]+' in vhost '\/': \{value_zero,0\}/);
  });

  it('the limits themselves are accepted', async () => {
    expect(await declareError('', { 'x-message-ttl': 315_360_000_000, 'x-expires': 1 })).toBe('declared');
    expect(await declareError('', { 'x-message-ttl': 0 })).toBe('declared');
  });
});
