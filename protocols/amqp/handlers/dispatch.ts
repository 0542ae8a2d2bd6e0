import { AmqpConnectionError } from '../codec/errors.js';
import type { MethodPlan } from '../codec/method-codec.js';
import { MethodId, type MethodArgs } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import type { AmqpChannel } from '../session/channel.js';
import { basicAck, basicGet, basicNack, basicQos, basicRecover, basicRecoverAsync, basicReject } from './basic-ack.js';
import { basicCancel, basicConsume } from './basic-consume.js';
import { confirmSelect } from './confirm.js';
import { exchangeBind, exchangeDeclare, exchangeDelete, exchangeUnbind } from './exchange.js';
import { queueBind, queueDeclare, queueDelete, queuePurge, queueUnbind } from './queue.js';
import { txCommit, txRollback, txSelect } from './tx.js';

/** One lookup from method id to handler; the handler gets typed arguments. */
export function dispatchMethod(ch: AmqpChannel, method: MethodPlan, args: unknown): unknown {
  const a = args as never;
  switch (method.id) {
    case MethodId.channelClose: return ch.closeByClient();
    case MethodId.channelCloseOk: return undefined;
    case MethodId.channelFlow: {
      const active = (args as MethodArgs['channel.flow']).active;
      ch.setClientFlow(active);
      return ch.send('channel.flow-ok', { active });
    }
    case MethodId.channelFlowOk: return undefined;
    case MethodId.accessRequest: return ch.send('access.request-ok', { ticket: 1 });
    case MethodId.exchangeDeclare: return exchangeDeclare(ch, a);
    case MethodId.exchangeDelete: return exchangeDelete(ch, a);
    case MethodId.exchangeBind: return exchangeBind(ch, a);
    case MethodId.exchangeUnbind: return exchangeUnbind(ch, a);
    case MethodId.queueDeclare: return queueDeclare(ch, a);
    case MethodId.queueBind: return queueBind(ch, a);
    case MethodId.queueUnbind: return queueUnbind(ch, a);
    case MethodId.queuePurge: return queuePurge(ch, a);
    case MethodId.queueDelete: return queueDelete(ch, a);
    case MethodId.basicQos: return basicQos(ch, a);
    case MethodId.basicConsume: return basicConsume(ch, a);
    case MethodId.basicCancel: return basicCancel(ch, a);
    case MethodId.basicGet: return basicGet(ch, a);
    case MethodId.basicAck: return basicAck(ch, a);
    case MethodId.basicReject: return basicReject(ch, a);
    case MethodId.basicNack: return basicNack(ch, a);
    case MethodId.basicRecover: return basicRecover(ch, a);
    case MethodId.basicRecoverAsync: return basicRecoverAsync(ch, a);
    case MethodId.txSelect: return txSelect(ch);
    case MethodId.txCommit: return txCommit(ch);
    case MethodId.txRollback: return txRollback(ch);
    case MethodId.confirmSelect: return confirmSelect(ch, a);
    default:
      throw new AmqpConnectionError(ReplyCode.COMMAND_INVALID, `unimplemented method '${method.name}'`, method.classId, method.methodId);
  }
}
