import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMessage, type Delivery, type Message } from '../../../../src/core/index.js';
import { StompParser } from '../../../../protocols/stomp/codec/parser.js';
import type { StompFrame } from '../../../../protocols/stomp/codec/frame.js';
import { encodeFrame } from '../../../../protocols/stomp/codec/encoder.js';
import { FrameOutput } from '../../../../protocols/stomp/frame-output.js';
import { destinationOf, parseDestination } from '../../../../protocols/stomp/mapping/destination.js';
import { createMessageFrameHead, writeMessageFrame } from '../../../../protocols/stomp/mapping/message-frame.js';
import { messageFromSend } from '../../../../protocols/stomp/mapping/send-message.js';
import { queueArgumentsOf } from '../../../../protocols/stomp/mapping/queue-arguments.js';
import { StompError } from '../../../../protocols/stomp/errors.js';
import type { StompVersion } from '../../../../protocols/stomp/spec/versions.js';

function parseOne(bytes: Buffer, version: StompVersion): StompFrame {
  const frames: StompFrame[] = [];
  const p = new StompParser((f) => frames.push(f));
  p.version = version;
  p.push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

function delivery(message: Message, tag = 7, redelivered = false): Delivery {
  return { deliveryTag: tag, consumerTag: 'c', queue: 'q', message, redelivered, deliveryCount: 0, expiresAt: null, offset: 0 };
}

function messageFrame(message: Message, version: StompVersion, withAck = true): StompFrame {
  const out = new FrameOutput();
  writeMessageFrame(out, createMessageFrameHead(version, 'sub-1', 3, withAck), delivery(message));
  return parseOne(Buffer.concat(out.take()), version);
}

describe('destinations (RabbitMQ mapping)', () => {
  it('parses every destination type', () => {
    expect(parseDestination('/queue/a')).toEqual({ kind: 'queue', name: 'a' });
    expect(parseDestination('/amq/queue/a')).toEqual({ kind: 'amq-queue', name: 'a' });
    expect(parseDestination('/topic/a.b.*')).toEqual({ kind: 'topic', routingKey: 'a.b.*' });
    expect(parseDestination('/exchange/ex')).toEqual({ kind: 'exchange', exchange: 'ex', routingKey: undefined });
    expect(parseDestination('/exchange/ex/rk.#')).toEqual({ kind: 'exchange', exchange: 'ex', routingKey: 'rk.#' });
    expect(parseDestination('/temp-queue/t')).toEqual({ kind: 'temp-queue', name: 't' });
    expect(parseDestination('/reply-queue/amq.gen-x')).toEqual({ kind: 'reply-queue', name: 'amq.gen-x' });
    expect(parseDestination('/queue/a%2Fb')).toEqual({ kind: 'queue', name: 'a/b' });
  });

  it('rejects unknown prefixes, empty names and extra slashes', () => {
    for (const bad of ['foo', '/queue/', '/queue/a/b', '/exchange/', '/exchange/e/a/b', '/topic/', '/queue/%zz']) {
      expect(() => parseDestination(bad), bad).toThrow(StompError);
    }
  });

  it('names MESSAGE destinations as RabbitMQ does, percent-encoding slashes', () => {
    expect(destinationOf('', 'q')).toBe('/queue/q');
    expect(destinationOf('amq.topic', 'a.b')).toBe('/topic/a.b');
    expect(destinationOf('ex', '')).toBe('/exchange/ex');
    expect(destinationOf('ex', 'k')).toBe('/exchange/ex/k');
    expect(destinationOf('', 'a/b%')).toBe('/queue/a%2Fb%25');
  });

  it('round-trips names through encode and parse', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (name) => {
        expect(parseDestination(destinationOf('', name))).toEqual({ kind: 'queue', name });
      }),
    );
  });
});

describe('SEND → core message', () => {
  const send = Buffer.from(
    'SEND\ndestination:/queue/a\nreceipt:r1\ncontent-type:text/plain\ncorrelation-id:c-1\nreply-to:/queue/r\n' +
      'persistent:true\npriority:5\nexpiration:60000\nx-custom:v\\c1\nmessage-id:ignored\nx-custom:second\n\nhello\x00',
  );

  it('maps common properties and keeps the other headers', () => {
    const m = messageFromSend(parseOne(send, '1.2'), '1.2', undefined, 1000);
    expect(m.properties).toEqual({
      contentType: 'text/plain',
      correlationId: 'c-1',
      replyTo: '/queue/r',
      persistent: true,
      priority: 5,
      expiration: 60000,
    });
    expect(m.headers).toEqual([{ name: 'x-custom', value: 'v:1' }]);
    expect(m.body.toString()).toBe('hello');
    expect(m.timestamp).toBe(1000);
  });

  it('takes a timestamp header (epoch ms, ActiveMQ JMSTimestamp) as the publisher\'s time, an invalid one as none', () => {
    const at = (v: string) => messageFromSend(parseOne(Buffer.from(`SEND\ndestination:/topic/t\ntimestamp:${v}\n\n\x00`), '1.2'), '1.2', undefined, 1000).properties.sentAt;
    expect(at('1700000000123')).toBe(1_700_000_000_123);
    expect(at('soon')).toBeUndefined();
    expect(at('-1')).toBeUndefined();
  });

  it('turns ActiveMQ expires (epoch ms) into a TTL', () => {
    const f = parseOne(Buffer.from('SEND\ndestination:/queue/a\nexpires:5000\n\n\x00'), '1.2');
    expect(messageFromSend(f, '1.2', undefined, 1000).properties.expiration).toBe(4000);
  });

  it('stores the sender bytes of the kept headers as the native blob (1.2, CRLF stripped)', () => {
    const f = parseOne(Buffer.from('SEND\r\ndestination:/queue/a\r\nfoo:a\\nb\r\nreceipt:1\r\nbar:x\r\n\r\n\x00'), '1.2');
    const m = messageFromSend(f, '1.2', undefined, 0);
    expect(m.native).toEqual({ protocol: 'stomp', bytes: Buffer.from('foo:a\\nb\nbar:x\n') });
  });

  it('escapes 1.0 senders headers into the 1.2 native form', () => {
    const f = parseOne(Buffer.from('SEND\ndestination:/queue/a\nfoo:a:b\\\n\n\x00'), '1.0');
    expect(messageFromSend(f, '1.0', undefined, 0).native!.bytes.toString()).toBe('foo:a\\cb\\\\\n');
  });

  it('rewrites a temp-queue reply-to', () => {
    const f = parseOne(Buffer.from('SEND\ndestination:/queue/a\nreply-to:/temp-queue/x\n\n\x00'), '1.1');
    const m = messageFromSend(f, '1.1', '/reply-queue/amq.gen-1', 0);
    expect(m.properties.replyTo).toBe('/reply-queue/amq.gen-1');
    expect(m.native!.bytes.toString()).toBe('reply-to:/reply-queue/amq.gen-1\n');
  });
});

describe('delivery → MESSAGE frame', () => {
  it('is byte-exact for STOMP to STOMP: user headers in order, repeats kept, binary body', () => {
    const body = Buffer.from([0, 1, 2, 0, 255]);
    const sendBytes = encodeFrame('SEND', ['destination', '/queue/a', 'b', '2', 'a', 'x\ny', 'b', '3', 'content-type', 'app/x'], body, '1.2');
    const m = messageFromSend(parseOne(sendBytes, '1.2'), '1.2', undefined, 0);
    const msg: Message = { ...m, exchange: '', routingKey: 'a' };
    const out = new FrameOutput();
    writeMessageFrame(out, createMessageFrameHead('1.2', 'sub-1', 3, true), delivery(msg));
    const bytes = Buffer.concat(out.take());
    expect(bytes.toString('latin1')).toBe(
      'MESSAGE\nsubscription:sub-1\ndestination:/queue/a\nmessage-id:3-7\nredelivered:false\nack:3-7\n' +
        'b:2\na:x\\ny\nb:3\ncontent-type:app/x\ncontent-length:5\n\n\x00\x01\x02\x00\xff\x00',
    );
  });

  it('unescapes stored headers for 1.0 receivers and omits ack below 1.2', () => {
    const m = messageFromSend(parseOne(Buffer.from('SEND\ndestination:/topic/t\nk:a\\cb\n\nx\x00'), '1.2'), '1.2', undefined, 0);
    const f = messageFrame({ ...m, exchange: 'amq.topic', routingKey: 't' }, '1.0', false);
    expect(f.headers).toEqual([
      'subscription', 'sub-1', 'destination', '/topic/t', 'message-id', '3-7', 'redelivered', 'false', 'k', 'a:b', 'content-length', '1',
    ]);
  });

  it('maps another protocol message properties and scalar headers to STOMP headers', () => {
    const m = createMessage(Buffer.from('{}'), {
      exchange: 'ex',
      routingKey: 'rk',
      timestamp: 1_700_000_000_123,
      properties: { contentType: 'application/json', correlationId: Buffer.from('cid'), persistent: true, priority: 2, messageId: 'm1' },
      headers: [
        { name: 'n', value: 42 },
        { name: 's', value: 'a:b' },
        { name: 'nested', value: { kind: 'table', entries: [] } },
      ],
    });
    const f = messageFrame(m, '1.1', false);
    expect(f.headers).toEqual([
      'subscription', 'sub-1', 'destination', '/exchange/ex/rk', 'message-id', '3-7', 'redelivered', 'false',
      'content-type', 'application/json', 'correlation-id', 'cid', 'amqp-message-id', 'm1', 'priority', '2', 'persistent', 'true',
      'timestamp', '1700000000123', 'n', '42', 's', 'a:b', 'content-length', '2',
    ]);
  });

  it('gives the publisher\'s own time as the timestamp header when it set one (AMQP timestamp), shadowing a user header', () => {
    const m = createMessage(Buffer.alloc(0), { timestamp: 5, properties: { sentAt: 1_600_000_000_000 }, headers: [{ name: 'timestamp', value: 'user' }] });
    const h = messageFrame(m, '1.2', false).headers;
    expect(h.filter((_, i) => i % 2 === 0 && h[i] === 'timestamp').length).toBe(1);
    expect(h[h.indexOf('timestamp') + 1]).toBe('1600000000000');
  });
});

describe('x- queue arguments', () => {
  it('converts numeric and boolean arguments and skips x-queue-name', () => {
    expect(
      queueArgumentsOf(['x-max-length', '10', 'x-queue-name', 'n', 'x-dead-letter-exchange', 'dlx', 'x-single-active-consumer', 'true', 'other', '1']),
    ).toEqual({ 'x-max-length': 10, 'x-dead-letter-exchange': 'dlx', 'x-single-active-consumer': true });
  });
  it('rejects a non-numeric numeric argument', () => {
    expect(() => queueArgumentsOf(['x-message-ttl', 'soon'])).toThrow(StompError);
  });
});
