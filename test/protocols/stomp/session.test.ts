import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startStompServer, type StompServer } from './harness.js';
import { CONNECT_12, RawClient } from './raw-client.js';

/**
 * The session over real sockets with frames written by hand: negotiation, framing edge cases,
 * errors and heart-beats (what stock clients cannot be made to send). Stock clients are in
 * interop/stomp.
 */
let server: StompServer;

beforeAll(async () => {
  server = await startStompServer({ limits: { maxHeaderBytes: 4096, maxHeaders: 64, maxBodyBytes: 64 * 1024 } });
});
afterAll(async () => {
  await server?.close();
});

async function open(connect = CONNECT_12): Promise<RawClient> {
  const c = await RawClient.open(server.port);
  c.write(connect);
  return c;
}

async function expectError(c: RawClient, index: number, message: string): Promise<void> {
  const f = await c.frame(index);
  expect(f.command).toBe('ERROR');
  expect(f.headers.message).toBe(message);
  expect(f.headers['content-type']).toBe('text/plain');
  expect(f.body.length).toBeGreaterThan(0);
  await c.closed;
}

describe('CONNECT and version negotiation [STOMP 1.2 Protocol Negotiation]', () => {
  it('answers CONNECTED with version, session, server and heart-beat', async () => {
    const c = await open('CONNECT\naccept-version:1.0,1.1,1.2\nhost:/\n\n\0');
    const f = await c.frame(0);
    expect(f.command).toBe('CONNECTED');
    expect(f.headers.version).toBe('1.2');
    expect(f.headers.session).toMatch(/^session-/);
    expect(f.headers.server).toMatch(/^polybroker\//);
    expect(f.headers['heart-beat']).toBe('0,0');
    c.close();
  });

  it('treats a CONNECT without accept-version as 1.0 (no heart-beat header)', async () => {
    const c = await open('CONNECT\nlogin:guest\npasscode:guest\n\n\0');
    const f = await c.frame(0);
    expect(f.headers.version).toBe('1.0');
    expect(f.headers['heart-beat']).toBeUndefined();
    c.close();
  });

  it('picks the highest shared version and accepts the STOMP command', async () => {
    const c = await open('STOMP\naccept-version:1.1\nhost:/\n\n\0');
    expect((await c.frame(0)).headers.version).toBe('1.1');
    c.close();
  });

  it('refuses unsupported versions with an ERROR listing its own', async () => {
    const c = await open('CONNECT\naccept-version:2.0\nhost:/\n\n\0');
    const f = await c.frame(0);
    expect(f.command).toBe('ERROR');
    expect(f.headers.version).toBe('1.0,1.1,1.2');
    await c.closed;
  });

  it('refuses a wrong passcode', async () => {
    await expectError(await open('CONNECT\naccept-version:1.2\nlogin:guest\npasscode:nope\n\n\0'), 0, 'Bad CONNECT');
  });

  it('refuses any frame before CONNECT', async () => {
    await expectError(await open('SEND\ndestination:/queue/a\n\nx\0'), 0, 'Not connected');
  });

  it('refuses a second CONNECT', async () => {
    const c = await open(CONNECT_12 + CONNECT_12);
    await expectError(c, 1, 'Bad CONNECT');
  });
});

describe('WebSocket /ws', () => {
  it('takes the version from the subprotocol when CONNECT has no accept-version', async () => {
    const ws = new WebSocket(server.wsUrl, ['v11.stomp']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const first = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send('CONNECT\nlogin:guest\npasscode:guest\n\n\0');
    expect(await first).toMatch(/^CONNECTED\nversion:1\.1\n/);
    ws.close();
  });

  it('sends a frame with a large body as one WebSocket message', async () => {
    const ws = new WebSocket(server.wsUrl, ['v12.stomp']);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const messages: Buffer[] = [];
    const got = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        messages.push(d);
        if (d.toString('latin1').startsWith('MESSAGE')) resolve();
      }),
    );
    const body = 'x'.repeat(40_000);
    ws.send(`${CONNECT_12}SUBSCRIBE\nid:1\ndestination:/queue/ws.big\n\n\0SEND\ndestination:/queue/ws.big\n\n${body}\0`);
    await got;
    const m = messages.find((d) => d.toString('latin1').startsWith('MESSAGE'))!;
    expect(m.length).toBeGreaterThan(40_000);
    expect(m[m.length - 1]).toBe(0);
    ws.close();
  });
});

describe('framing', () => {
  it('handles pipelined frames, CRLF, heart-beat EOLs and 1.2 escapes in one write', async () => {
    const c = await RawClient.open(server.port);
    c.write(
      'CONNECT\r\naccept-version:1.2\r\nhost:/\r\n\r\n\0\r\n\n' +
        'SUBSCRIBE\r\nid:s\\c1\r\ndestination:/queue/pipe\\c1\r\nreceipt:r1\r\n\r\n\0\n' +
        'SEND\r\ndestination:/queue/pipe\\c1\r\nk:v\\nw\r\n\r\nbody\0',
    );
    expect((await c.frame(0)).command).toBe('CONNECTED');
    expect((await c.frame(1)).headers['receipt-id']).toBe('r1');
    const m = await c.frame(2);
    expect(m.command).toBe('MESSAGE');
    expect(m.headers.subscription).toBe('s\\c1');
    expect(m.headers.destination).toBe('/queue/pipe\\c1');
    expect(m.headers.k).toBe('v\\nw');
    expect(m.body.toString()).toBe('body');
    c.close();
  });

  it('delivers a body with NULs framed by content-length', async () => {
    const c = await open();
    c.write('SUBSCRIBE\nid:1\ndestination:/queue/nul\n\n\0SEND\ndestination:/queue/nul\ncontent-length:5\n\na\0b\0c\0');
    const m = await c.frame(1);
    expect(m.body).toEqual(Buffer.from('a\0b\0c'));
    c.close();
  });

  it('closes with ERROR on an unknown command', async () => {
    await expectError(await open(CONNECT_12 + 'PUBLISH\n\n\0'), 1, 'Bad command');
  });

  it('closes with ERROR on a server command sent by the client', async () => {
    await expectError(await open(CONNECT_12 + 'MESSAGE\ndestination:/queue/a\n\n\0'), 1, 'Bad command');
  });

  it('closes with ERROR on a malformed header line', async () => {
    await expectError(await open(CONNECT_12 + 'SEND\ndestination/queue/a\n\n\0'), 1, 'Malformed frame');
  });

  it('closes with ERROR on an undefined escape [STOMP 1.2 Value Encoding]', async () => {
    await expectError(await open(CONNECT_12 + 'SEND\ndestination:/queue/a\\t\n\n\0'), 1, 'Malformed frame');
  });

  it('closes with ERROR when a body exceeds the frame limit, before buffering it', async () => {
    await expectError(await open(CONNECT_12 + 'SEND\ndestination:/queue/a\ncontent-length:100000\n\n'), 1, 'Frame too large');
  });

  it('closes with ERROR when headers exceed the limit', async () => {
    await expectError(await open(CONNECT_12 + `SEND\ndestination:/queue/a\nx:${'y'.repeat(5000)}\n\n\0`), 1, 'Frame too large');
  });

  it('survives random garbage on many connections and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), async (bytes, connectFirst) => {
        const c = await RawClient.open(server.port);
        if (connectFirst) c.write(CONNECT_12);
        c.write(Buffer.from(bytes));
        c.write('\0\n\n\0');
        // Either an ERROR and a close, or the bytes are still incomplete: end it ourselves.
        c.socket.end();
        await c.closed;
      }),
      { numRuns: 60 },
    );
    const ok = await open();
    expect((await ok.frame(0)).command).toBe('CONNECTED');
    ok.close();
  });
});

describe('required headers per version', () => {
  it('requires destination on SEND', async () => {
    await expectError(await open(CONNECT_12 + 'SEND\n\nx\0'), 1, 'Missing destination');
  });
  it('requires id on SUBSCRIBE in 1.1 and 1.2', async () => {
    await expectError(await open(CONNECT_12 + 'SUBSCRIBE\ndestination:/queue/a\n\n\0'), 1, 'Missing id');
  });
  it('accepts SUBSCRIBE without id in 1.0 and UNSUBSCRIBE by destination', async () => {
    const c = await open('CONNECT\nlogin:guest\npasscode:guest\n\n\0');
    c.write('SUBSCRIBE\ndestination:/queue/v10\nreceipt:1\n\n\0UNSUBSCRIBE\ndestination:/queue/v10\nreceipt:2\n\n\0');
    expect((await c.frame(1)).headers['receipt-id']).toBe('1');
    expect((await c.frame(2)).headers['receipt-id']).toBe('2');
    c.close();
  });
  it('takes NACK in 1.0 too, as RabbitMQ (it arrived in 1.1): an id of no subscription is refused as in 1.1', async () => {
    await expectError(await open('CONNECT\nlogin:guest\npasscode:guest\n\n\0NACK\nmessage-id:1-1\n\n\0'), 1, 'Subscription not found');
  });
  it('puts the receipt-id of the failing frame on the ERROR', async () => {
    const c = await open(CONNECT_12 + 'COMMIT\ntransaction:none\nreceipt:77\n\n\0');
    const f = await c.frame(1);
    expect(f.headers.message).toBe('Bad transaction');
    expect(f.headers['receipt-id']).toBe('77');
  });
  it('refuses a duplicate subscription id', async () => {
    await expectError(
      await open(CONNECT_12 + 'SUBSCRIBE\nid:1\ndestination:/queue/d\n\n\0SUBSCRIBE\nid:1\ndestination:/queue/d\n\n\0'),
      1,
      'Duplicated subscription identifier',
    );
  });
  it("refuses a SEND whose user-id is not the login (as AMQP's 406): other protocols' consumers rely on it", async () => {
    const c = await open(CONNECT_12 + 'SEND\ndestination:/queue/uid\nuser-id:mallory\n\nx\0');
    const f = await c.frame(1);
    expect(f.body.toString()).toContain("user-id header set to 'mallory' but the authenticated user is 'guest'");
    await expectError(c, 1, 'Bad user-id');
  });
  it('accepts a SEND whose user-id is the login', async () => {
    const c = await open(CONNECT_12 + 'SEND\ndestination:/queue/uid\nuser-id:guest\nreceipt:ok\n\nx\0');
    expect((await c.frame(1)).headers['receipt-id']).toBe('ok');
    c.close();
  });
  it('refuses SEND to an exchange that does not exist', async () => {
    await expectError(await open(CONNECT_12 + 'SEND\ndestination:/exchange/nope/x\nreceipt:1\n\nx\0'), 1, 'not_found');
  });
  it('refuses /temp-queue as a SEND destination (reply-to only)', async () => {
    await expectError(await open(CONNECT_12 + 'SEND\ndestination:/temp-queue/x\n\nx\0'), 1, 'Unknown destination');
  });
});

describe('heart-beating [STOMP 1.2 Heart-beating]', () => {
  it('sends beats at the interval the client asked for', async () => {
    const c = await open('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,100\n\n\0');
    expect((await c.frame(0)).headers['heart-beat']).toBe('100,0');
    await c.beats(3);
    c.close();
  });

  it('disconnects a client that promised beats and went silent', async () => {
    const c = await open('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:100,0\n\n\0');
    expect((await c.frame(0)).headers['heart-beat']).toBe('0,100');
    await expectError(c, 1, 'Heart-beat timeout');
  });

  it('keeps a client that beats', async () => {
    const c = await open('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:100,0\n\n\0');
    await c.frame(0);
    // Beat every 50 ms for 10 beats, then prove the connection still works.
    for (let i = 0; i < 10; i++) {
      c.write('\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    c.write('BEGIN\ntransaction:t\nreceipt:alive\n\n\0');
    expect((await c.frame(1)).headers['receipt-id']).toBe('alive');
    c.close();
  });

  it('does not take a stall of the broker for the silence of a client that beats', async () => {
    const c = await open('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:100,0\n\n\0');
    await c.frame(0);
    c.write('\n');
    // The beat is in the socket, unread, while the event loop (the broker's too: it runs in
    // this process) is blocked for 3 × the 200 ms allowance.
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // busy: a stalled broker process
    }
    for (let i = 0; i < 4; i++) {
      c.write('\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    c.write('BEGIN\ntransaction:t\nreceipt:alive\n\n\0');
    expect((await c.frame(1)).headers['receipt-id']).toBe('alive');
    c.close();
  });
});

describe('transactions and receipts', () => {
  it('discards an open transaction when the connection goes away', async () => {
    // The SEND's own receipt would wait for COMMIT: a later frame's receipt shows it was handled.
    const a = await open(CONNECT_12 + 'BEGIN\ntransaction:t1\n\n\0SEND\ndestination:/queue/txgone\ntransaction:t1\nreceipt:never\n\nlost\0BEGIN\ntransaction:probe\nreceipt:r\n\n\0');
    expect((await a.frame(1)).headers['receipt-id']).toBe('r');
    a.close();
    await a.closed;
    const b = await open(CONNECT_12 + 'SEND\ndestination:/queue/txgone\nreceipt:s\n\nsentinel\0SUBSCRIBE\nid:1\ndestination:/queue/txgone\n\n\0');
    await b.frame(2);
    // The RECEIPT of the SEND and the MESSAGE may come in either order; the first MESSAGE is the sentinel.
    expect(b.frames.find((f) => f.command === 'MESSAGE')!.body.toString()).toBe('sentinel');
    b.close();
  });

  it('sends receipts in frame order, DISCONNECT last, then closes', async () => {
    const c = await open(
      CONNECT_12 +
        'SEND\ndestination:/queue/rc\npersistent:true\nreceipt:1\n\na\0' +
        'BEGIN\ntransaction:t\nreceipt:2\n\n\0' +
        'SEND\ndestination:/queue/rc\nreceipt:3\n\nb\0' +
        'DISCONNECT\nreceipt:4\n\n\0',
    );
    await c.closed;
    expect(c.frames.slice(1).map((f) => f.headers['receipt-id'])).toEqual(['1', '2', '3', '4']);
  });
});

describe('transaction limits (stomp.maxTransactions, stomp.maxTransactionBytes)', () => {
  let small: StompServer;
  beforeAll(async () => {
    small = await startStompServer({ maxTransactions: 2, maxTransactionBytes: 2048 });
  });
  afterAll(async () => {
    await small?.close();
  });

  async function openSmall(frames: string): Promise<RawClient> {
    const c = await RawClient.open(small.port);
    c.write(CONNECT_12 + frames);
    return c;
  }

  it('refuses one open transaction more than the limit with an ERROR frame', async () => {
    const c = await openSmall('BEGIN\ntransaction:a\n\n\0BEGIN\ntransaction:b\nreceipt:two\n\n\0BEGIN\ntransaction:c\n\n\0');
    expect((await c.frame(1)).headers['receipt-id']).toBe('two');
    const f = await c.frame(2);
    expect(f.command).toBe('ERROR');
    expect(f.headers.message).toBe('Too many transactions');
    await c.closed;
  });

  it('refuses a SEND that would make open transactions hold more than the byte limit, and counts committed ones free', async () => {
    const body = 'x'.repeat(900);
    const send = (tx: string, r: string) => `SEND\ndestination:/queue/txlimit\ntransaction:${tx}\nreceipt:${r}\n\n${body}\0`;
    // 2 × (900 + 64) fits in 2048; committing frees it, so two more fit again; a third in one transaction does not.
    const c = await openSmall('BEGIN\ntransaction:t\n\n\0' + send('t', '1') + send('t', '2') + 'COMMIT\ntransaction:t\nreceipt:c\n\n\0' +
      'BEGIN\ntransaction:u\n\n\0' + send('u', '3') + send('u', '4') + send('u', '5'));
    // SEND receipts come at COMMIT: 3 and 4 never do, their transaction is still open at the ERROR.
    const receipts: string[] = [];
    for (let i = 1; i <= 3; i++) receipts.push((await c.frame(i)).headers['receipt-id'] ?? '');
    expect(receipts).toEqual(['1', '2', 'c']);
    const f = await c.frame(4);
    expect(f.command).toBe('ERROR');
    expect(f.headers.message).toBe('Transaction too large');
    expect(f.body.toString()).toContain('stomp.maxTransactionBytes');
    await c.closed;
    // The committed transaction's two messages were published; the open one's were not.
    expect(small.core.vhost('/')!.queue('txlimit')!.messageCount).toBe(2);
  });
});

describe('subscription queues [RabbitMQ STOMP durable topic subscriptions]', () => {
  it('names the queue of a topic subscription by x-queue-name, durable and auto-delete as the headers say', async () => {
    const c = await open(
      CONNECT_12 +
        'SUBSCRIBE\nid:named\ndestination:/topic/named.t\nx-queue-name:my-named-queue\ndurable:true\nauto-delete:true\nreceipt:s\n\n\0' +
        'SEND\ndestination:/topic/named.t\n\nhello\0',
    );
    expect((await c.frame(1)).command).toBe('RECEIPT');
    const m = await c.frame(2);
    expect(m.body.toString()).toBe('hello');
    const q = server.core.vhost('/')!.queue('my-named-queue')!;
    expect(q).toMatchObject({ durable: true, autoDelete: true, exclusive: false });
    c.write('UNSUBSCRIBE\nid:named\nreceipt:u\n\n\0');
    expect((await c.frame(3)).command).toBe('RECEIPT');
    // auto-delete: the queue goes with its last consumer.
    expect(server.core.vhost('/')!.queue('my-named-queue')).toBeNull();
    c.close();
  });
});

describe('NACK per queue policy', () => {
  it('dead-letters a NACKed message when the queue has a dead-letter exchange, requeues otherwise', async () => {
    const c = await open(
      CONNECT_12 +
        'SUBSCRIBE\nid:dead\ndestination:/queue/nack.dead\n\n\0' +
        'SUBSCRIBE\nid:src\ndestination:/queue/nack.src\nack:client-individual\nx-dead-letter-exchange:\nx-dead-letter-routing-key:nack.dead\n\n\0' +
        'SEND\ndestination:/queue/nack.src\n\npoison\0',
    );
    const m = await c.frame(1);
    expect(m.headers.subscription).toBe('src');
    c.write(`NACK\nid:${m.headers.ack}\n\n\0`);
    const dead = await c.frame(2);
    expect(dead.headers.subscription).toBe('dead');
    expect(dead.body.toString()).toBe('poison');
    c.close();
  });

  it('lets a requeue:true header win over the dead-letter policy (RabbitMQ header)', async () => {
    const c = await open(
      CONNECT_12 +
        'SUBSCRIBE\nid:src\ndestination:/queue/nack.src2\nack:client\nx-dead-letter-exchange:\nx-dead-letter-routing-key:nowhere\n\n\0' +
        'SEND\ndestination:/queue/nack.src2\n\nagain\0',
    );
    const m = await c.frame(1);
    c.write(`NACK\nid:${m.headers.ack}\nrequeue:true\n\n\0`);
    const back = await c.frame(2);
    expect(back.body.toString()).toBe('again');
    expect(back.headers.redelivered).toBe('true');
    c.close();
  });
});

describe('resource alarms', () => {
  it('stops reading from publishing connections while an alarm is active, not from others', async () => {
    const a = await open(CONNECT_12 + 'SEND\ndestination:/queue/alarm.q\nreceipt:r0\n\nbefore\0');
    expect((await a.frame(1)).headers['receipt-id']).toBe('r0');
    server.core.setAlarm('memory', true);
    try {
      a.write('SEND\ndestination:/queue/alarm.q\nreceipt:r1\n\nduring\0');
      // A connection that never published is not blocked: its receipt is the barrier.
      const b = await open(CONNECT_12 + 'BEGIN\ntransaction:t\nreceipt:b\n\n\0');
      expect((await b.frame(1)).headers['receipt-id']).toBe('b');
      b.close();
      expect(server.core.vhost('/').queue('alarm.q')!.messageCount).toBe(1);
      expect(a.frames).toHaveLength(2);
    } finally {
      server.core.setAlarm('memory', false);
    }
    expect((await a.frame(2)).headers['receipt-id']).toBe('r1');
    expect(server.core.vhost('/').queue('alarm.q')!.messageCount).toBe(2);
    a.close();
  });
});

describe('stream queues (RabbitMQ x-stream-offset)', () => {
  it('reads a stream queue from the first offset and from a given offset', async () => {
    const c = await open(
      CONNECT_12 +
        'SEND\ndestination:/queue/str.q\nx-queue-type:stream\nreceipt:1\n\ns0\0' +
        'SEND\ndestination:/queue/str.q\nreceipt:2\n\ns1\0' +
        'SEND\ndestination:/queue/str.q\nreceipt:3\n\ns2\0',
    );
    expect((await c.frame(3)).headers['receipt-id']).toBe('3');
    c.write('SUBSCRIBE\nid:all\ndestination:/queue/str.q\nack:client\nprefetch-count:10\nx-stream-offset:first\n\n\0');
    const all = [await c.frame(4), await c.frame(5), await c.frame(6)];
    expect(all.map((m) => m.body.toString())).toEqual(['s0', 's1', 's2']);
    c.write('SUBSCRIBE\nid:from1\ndestination:/queue/str.q\nack:client\nprefetch-count:10\nx-stream-offset:offset=1\n\n\0');
    const from1 = [await c.frame(7), await c.frame(8)];
    expect(from1.map((m) => [m.headers.subscription, m.headers['x-stream-offset'], m.body.toString()])).toEqual([
      ['from1', '1', 's1'],
      ['from1', '2', 's2'],
    ]);
    c.close();
  });
});

describe('half-close', () => {
  it('answers every frame of a client that ends its side right after writing', async () => {
    const c = await RawClient.open(server.port);
    c.write(CONNECT_12 + 'SEND\ndestination:/queue/half\npersistent:true\nreceipt:1\n\nx\0SUBSCRIBE\nid:h\ndestination:/queue/half.empty\nreceipt:2\n\n\0');
    c.socket.end();
    await c.closed;
    expect(c.frames.map((f) => f.headers['receipt-id'] ?? f.command)).toEqual(['CONNECTED', '1', '2']);
  });
});

describe('durability across a broker restart', () => {
  it('keeps persistent messages and a durable topic subscription', async () => {
    const a = await open(
      CONNECT_12 +
        'SUBSCRIBE\nid:keep\ndestination:/topic/restart.t\ndurable:true\nauto-delete:false\nreceipt:sub\n\n\0' +
        'UNSUBSCRIBE\nid:keep\nreceipt:unsub\n\n\0' +
        'SEND\ndestination:/topic/restart.t\npersistent:true\nreceipt:s1\n\nfor-the-durable-sub\0' +
        'SEND\ndestination:/queue/restart.q\npersistent:true\nreceipt:s2\n\nfor-the-queue\0',
    );
    expect((await a.frame(4)).headers['receipt-id']).toBe('s2');
    a.close();
    await server.restart();
    const b = await open(
      CONNECT_12 +
        'SUBSCRIBE\nid:keep\ndestination:/topic/restart.t\ndurable:true\nauto-delete:false\nack:client-individual\n\n\0' +
        'SUBSCRIBE\nid:q\ndestination:/queue/restart.q\n\n\0',
    );
    const bodies = [(await b.frame(1)).body.toString(), (await b.frame(2)).body.toString()].sort();
    expect(bodies).toEqual(['for-the-durable-sub', 'for-the-queue']);
    b.close();
  });
});
