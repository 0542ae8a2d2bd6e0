import { StompError } from './errors.js';

/**
 * Heart-beat negotiation (STOMP 1.2 "Heart-beating"). The client says `cx,cy`: it can send
 * every cx ms and wants to receive every cy ms. The server answers with its own `sx,sy`; each
 * direction then runs at max of the two, or not at all when either side says 0. Like RabbitMQ,
 * the server accepts the client's wishes (above a floor that keeps timers sane), so CONNECTED
 * carries the negotiated intervals themselves.
 */
export interface HeartBeatSettings {
  /** Shortest interval the server will send beats at, ms. */
  minSendMs: number;
  /** Shortest interval the server will expect beats at, ms. */
  minReceiveMs: number;
  /** A client silent for receiveMs × this factor is disconnected (the spec asks for "some tolerance"). */
  graceFactor: number;
}

export const DEFAULT_HEART_BEAT: HeartBeatSettings = { minSendMs: 50, minReceiveMs: 50, graceFactor: 2 };

export interface NegotiatedHeartBeat {
  /** Server → client beat interval, 0 = none. */
  sendMs: number;
  /** Client → server interval the server enforces (before grace), 0 = none. */
  receiveMs: number;
}

export function negotiateHeartBeat(header: string | undefined, settings: HeartBeatSettings): NegotiatedHeartBeat {
  if (header === undefined) return { sendMs: 0, receiveMs: 0 };
  const m = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/.exec(header);
  if (m === null) {
    throw new StompError('Invalid heart-beat header', `heart-beat must be two non-negative integers "cx,cy", got '${header}'`);
  }
  const cx = Number(m[1]);
  const cy = Number(m[2]);
  return {
    sendMs: cy === 0 ? 0 : Math.max(cy, settings.minSendMs),
    receiveMs: cx === 0 ? 0 : Math.max(cx, settings.minReceiveMs),
  };
}
