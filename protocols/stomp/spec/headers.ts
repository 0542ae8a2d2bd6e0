import type { StompCommand } from '../codec/commands.js';
import type { StompVersion } from './versions.js';

/**
 * Headers per command and version (STOMP 1.0, 1.1 and 1.2 "Frames and Headers"). `required`
 * is what the broker enforces: a client frame without one gets an ERROR naming the header.
 * `optional` is what the command defines beyond that; SEND and MESSAGE also carry any user
 * header. Where this table is laxer than the spec, the comment says which peer we follow.
 */
export interface CommandHeaders {
  required: readonly string[];
  optional: readonly string[];
}

type Table = Partial<Record<StompCommand, CommandHeaders>>;

const V12: Table = {
  // `host` is required by 1.1/1.2 but RabbitMQ and ActiveMQ accept its absence (default vhost).
  CONNECT: { required: ['accept-version'], optional: ['host', 'login', 'passcode', 'heart-beat', 'client-id'] },
  STOMP: { required: ['accept-version'], optional: ['host', 'login', 'passcode', 'heart-beat', 'client-id'] },
  CONNECTED: { required: ['version'], optional: ['session', 'server', 'heart-beat'] },
  SEND: { required: ['destination'], optional: ['transaction', 'receipt', 'content-type', 'content-length'] },
  SUBSCRIBE: { required: ['destination', 'id'], optional: ['ack', 'receipt', 'prefetch-count', 'durable', 'auto-delete', 'x-queue-name'] },
  UNSUBSCRIBE: { required: ['id'], optional: ['receipt', 'durable'] },
  ACK: { required: ['id'], optional: ['transaction', 'receipt'] },
  NACK: { required: ['id'], optional: ['transaction', 'receipt', 'requeue'] },
  BEGIN: { required: ['transaction'], optional: ['receipt'] },
  COMMIT: { required: ['transaction'], optional: ['receipt'] },
  ABORT: { required: ['transaction'], optional: ['receipt'] },
  DISCONNECT: { required: [], optional: ['receipt'] },
  MESSAGE: { required: ['destination', 'message-id', 'subscription'], optional: ['ack', 'content-type', 'content-length'] },
  RECEIPT: { required: ['receipt-id'], optional: [] },
  ERROR: { required: [], optional: ['message', 'receipt-id', 'content-type', 'content-length'] },
};

const V11: Table = {
  ...V12,
  // 1.1 acknowledges by message-id (+ subscription, which we also read from our message-ids).
  ACK: { required: ['message-id'], optional: ['subscription', 'transaction', 'receipt'] },
  NACK: { required: ['message-id'], optional: ['subscription', 'transaction', 'receipt', 'requeue'] },
  MESSAGE: { required: ['destination', 'message-id', 'subscription'], optional: ['content-type', 'content-length'] },
};

const V10: Table = {
  ...V11,
  // 1.0: no negotiation (accept-version absent), no STOMP command; `id` optional. NACK is 1.1's,
  // but RabbitMQ accepts it from 1.0 clients too (by message-id), and so do we.
  CONNECT: { required: [], optional: ['login', 'passcode', 'host', 'client-id'] },
  STOMP: undefined,
  SUBSCRIBE: { required: ['destination'], optional: ['id', 'ack', 'receipt', 'prefetch-count', 'durable', 'auto-delete', 'x-queue-name'] },
  // 1.0 identifies the subscription by `id` or by `destination`.
  UNSUBSCRIBE: { required: [], optional: ['id', 'destination', 'receipt'] },
  ACK: { required: ['message-id'], optional: ['transaction', 'receipt'] },
  MESSAGE: { required: ['destination', 'message-id'], optional: ['subscription', 'content-type', 'content-length'] },
};

export const COMMAND_HEADERS: Readonly<Record<StompVersion, Table>> = { '1.0': V10, '1.1': V11, '1.2': V12 };

/** The spec of `command` in `version`, or undefined when the version does not have it. */
export function commandHeaders(version: StompVersion, command: StompCommand): CommandHeaders | undefined {
  return COMMAND_HEADERS[version][command];
}

/**
 * Headers that describe the frame rather than the message: never stored with a SEND's message
 * nor copied onto the MESSAGE frames it becomes.
 */
export const FRAME_ONLY_HEADERS: ReadonlySet<string> = new Set(['destination', 'transaction', 'receipt', 'content-length']);
