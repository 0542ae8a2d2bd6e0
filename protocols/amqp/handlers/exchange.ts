import { NotFound, type ExchangeType } from '../../../src/core/index.js';
import { AmqpChannelError, AmqpConnectionError } from '../codec/errors.js';
import { plainTable } from '../codec/field-table.js';
import type { MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';

const TYPES = new Set<string>(['direct', 'fanout', 'topic', 'headers', 'x-delayed-message']);
const vhostOf = (ch: AmqpChannel) => ch.conn.core!.vhost;
const where = (ch: AmqpChannel) => `in vhost '${ch.conn.vhostName}'`;

function checkNotDefault(ch: AmqpChannel, name: string, classId: number, methodId: number): void {
  if (name === '') throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, 'operation not permitted on the default exchange', classId, methodId);
  void ch;
}

/** exchange.declare: type check (COMMAND_INVALID), reserved names, then declare or check equivalence. */
export async function exchangeDeclare(ch: AmqpChannel, a: MethodArgs['exchange.declare']): Promise<void> {
  const vhost = vhostOf(ch);
  if (a.passive) {
    if (a.exchange !== '' && !vhost.exchange(a.exchange)) throw new AmqpChannelError(ReplyCode.NOT_FOUND, `no exchange '${a.exchange}' ${where(ch)}`, 40, 10);
  } else {
    if (!TYPES.has(a.type)) throw new AmqpConnectionError(ReplyCode.COMMAND_INVALID, `unknown exchange type '${a.type}'`, 40, 10);
    checkNotDefault(ch, a.exchange, 40, 10);
    ch.conn.authorize('exchange', a.exchange, 'configure', 40, 10);
    if (a.exchange.startsWith('amq.') && !vhost.exchange(a.exchange)) {
      throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, `exchange name '${a.exchange}' contains reserved prefix 'amq.*'`, 40, 10);
    }
    const existing = vhost.exchange(a.exchange);
    if (existing && a.exchange.startsWith('amq.')) {
      // Built-in exchanges: only the equivalence check applies.
      if (existing.type !== a.type) throw inequivalent(ch, a.exchange, 'type', a.type, existing.type);
      if (existing.durable !== a.durable) throw inequivalent(ch, a.exchange, 'durable', a.durable, existing.durable);
      if (existing.autoDelete !== a.autoDelete) throw inequivalent(ch, a.exchange, 'auto_delete', a.autoDelete, existing.autoDelete);
      if (existing.internal !== a.internal) throw inequivalent(ch, a.exchange, 'internal', a.internal, existing.internal);
    } else {
      await vhost.declareExchange(a.exchange, {
        type: a.type as ExchangeType,
        durable: a.durable,
        autoDelete: a.autoDelete,
        internal: a.internal,
        arguments: plainTable(a.arguments),
      });
    }
  }
  if (!a.nowait) ch.send('exchange.declare-ok', {});
}

function inequivalent(ch: AmqpChannel, name: string, what: string, received: unknown, current: unknown): AmqpChannelError {
  return new AmqpChannelError(ReplyCode.PRECONDITION_FAILED, `inequivalent arg '${what}' for exchange '${name}' ${where(ch)}: received '${String(received)}' but current is '${String(current)}'`, 40, 10);
}

export async function exchangeDelete(ch: AmqpChannel, a: MethodArgs['exchange.delete']): Promise<void> {
  checkNotDefault(ch, a.exchange, 40, 20);
  // RabbitMQ refuses every amq.* name here, existing or not, before checking permissions.
  if (a.exchange.startsWith('amq.')) {
    throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, `deletion of system exchange '${a.exchange}' ${where(ch)} not allowed`, 40, 20);
  }
  ch.conn.authorize('exchange', a.exchange, 'configure', 40, 20);
  try {
    await vhostOf(ch).deleteExchange(a.exchange, { ifUnused: a.ifUnused });
  } catch (e) {
    // Deleting an exchange that does not exist succeeds, as in RabbitMQ 3.x.
    if (!(e instanceof NotFound)) throw e;
  }
  if (!a.nowait) ch.send('exchange.delete-ok', {});
}

function checkExists(ch: AmqpChannel, name: string, classId: number, methodId: number): void {
  if (!vhostOf(ch).exchange(name)) throw new AmqpChannelError(ReplyCode.NOT_FOUND, `no exchange '${name}' ${where(ch)}`, classId, methodId);
}

export async function exchangeBind(ch: AmqpChannel, a: MethodArgs['exchange.bind']): Promise<void> {
  checkNotDefault(ch, a.destination, 40, 30);
  checkNotDefault(ch, a.source, 40, 30);
  checkExists(ch, a.source, 40, 30);
  checkExists(ch, a.destination, 40, 30);
  ch.conn.authorize('exchange', a.destination, 'write', 40, 30);
  ch.conn.authorize('exchange', a.source, 'read', 40, 30);
  await vhostOf(ch).bindExchange(a.destination, a.source, a.routingKey, plainTable(a.arguments));
  if (!a.nowait) ch.send('exchange.bind-ok', {});
}

export async function exchangeUnbind(ch: AmqpChannel, a: MethodArgs['exchange.unbind']): Promise<void> {
  checkNotDefault(ch, a.destination, 40, 40);
  checkNotDefault(ch, a.source, 40, 40);
  ch.conn.authorize('exchange', a.destination, 'write', 40, 40);
  ch.conn.authorize('exchange', a.source, 'read', 40, 40);
  try {
    await vhostOf(ch).unbindExchange(a.destination, a.source, a.routingKey, plainTable(a.arguments));
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
  }
  if (!a.nowait) ch.send('exchange.unbind-ok', {});
}
