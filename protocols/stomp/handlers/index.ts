import type { ClientCommand } from '../codec/commands.js';
import { handleAck, handleNack } from './ack.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import type { Handler } from './handler.js';
import { handleSend } from './send.js';
import { handleSubscribe } from './subscribe.js';
import { handleAbort, handleBegin, handleCommit } from './transaction.js';
import { handleUnsubscribe } from './unsubscribe.js';

/** One handler per client command. */
export const HANDLERS: Readonly<Record<ClientCommand, Handler>> = {
  CONNECT: handleConnect,
  STOMP: handleConnect,
  SEND: handleSend,
  SUBSCRIBE: handleSubscribe,
  UNSUBSCRIBE: handleUnsubscribe,
  ACK: handleAck,
  NACK: handleNack,
  BEGIN: handleBegin,
  COMMIT: handleCommit,
  ABORT: handleAbort,
  DISCONNECT: handleDisconnect,
};
