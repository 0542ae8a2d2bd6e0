import { describe, expect, it } from 'vitest';
import { negotiateTune } from '../../../protocols/amqp/session/tune.js';

const offered = { frameMax: 131072, channelMax: 2047 };

describe('connection.tune-ok negotiation (RabbitMQ rules)', () => {
  it('takes the client values within the offer, and the server channel-max for 0', () => {
    expect(negotiateTune(offered, { frameMax: 4096, channelMax: 0, heartbeat: 30 })).toEqual({ frameMax: 4096, channelMax: 2047, heartbeatSec: 30 });
    expect(negotiateTune(offered, { frameMax: 131072, channelMax: 10, heartbeat: 0 })).toEqual({ frameMax: 131072, channelMax: 10, heartbeatSec: 0 });
  });

  it.each([
    [{ frameMax: 1024, channelMax: 1, heartbeat: 0 }, 'frame_max=1024 < 4096 min size'],
    [{ frameMax: 0, channelMax: 1, heartbeat: 0 }, 'frame_max=0 > 131072 max size'],
    [{ frameMax: 200000, channelMax: 1, heartbeat: 0 }, 'frame_max=200000 > 131072 max size'],
    [{ frameMax: 4096, channelMax: 3000, heartbeat: 0 }, 'negotiated channel_max = 3000 is higher than the maximum allowed value (2047)'],
  ])('refuses %j with NOT_ALLOWED (530)', (ok, text) => {
    expect(() => negotiateTune(offered, ok)).toThrow(`NOT_ALLOWED - ${text}`);
  });
});
