import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStompServer, type StompServer } from './harness.js';
import { CONNECT_12, RawClient, type RawFrame } from './raw-client.js';

/**
 * What RabbitMQ's own STOMP test suite (rabbitmq-server deps/rabbitmq_stomp/test/python_SUITE,
 * run against polybroker with stomp.py) expects beyond the spec's letter: RabbitMQ's error
 * words, its leniencies (NACK from 1.0 clients, `True`/`False` booleans, stray NULs between
 * frames) and its receipts for transactional SENDs. Each case here failed before it was fixed.
 */
let server: StompServer;

beforeAll(async () => {
  server = await startStompServer();
});
afterAll(async () => {
  await server?.close();
});

const CONNECT_10 = 'CONNECT\nlogin:guest\npasscode:guest\n\n\0';

async function open(connect = CONNECT_12): Promise<RawClient> {
  const c = await RawClient.open(server.port);
  c.write(connect);
  return c;
}

/** The ERROR at `index`, after which the server closes. */
async function errorAt(c: RawClient, index: number): Promise<RawFrame> {
  const f = await c.frame(index);
  expect(f.command).toBe('ERROR');
  await c.closed;
  return f;
}

describe('error words as RabbitMQ writes them', () => {
  it('tells an invalid destination of a known type from an unknown type', async () => {
    const cases: Array<[string, string, string]> = [
      ['/queue/bah/baz', 'Invalid destination', "'/bah/baz' is not a valid queue destination\n"],
      ['/queue', 'Invalid destination', "'' is not a valid queue destination\n"],
      ['/topic', 'Invalid destination', "'' is not a valid topic destination\n"],
      ['/exchange/bah/baz/boo', 'Invalid destination', "'/bah/baz/boo' is not a valid exchange destination\n"],
      ['/exchange//foo', 'Invalid destination', "'//foo' is not a valid exchange destination\n"],
      ['/exchange', 'Invalid destination', "'' is not a valid exchange destination\n"],
    ];
    for (const [destination, message, body] of cases) {
      const f = await errorAt(await open(CONNECT_12 + `SEND\ndestination:${destination}\n\nx\0`), 1);
      expect([f.headers.message, f.body.toString()], destination).toEqual([message, body]);
    }
    const unknown = await errorAt(await open(CONNECT_12 + 'SEND\ndestination:/something/interesting\n\nx\0'), 1);
    expect(unknown.headers.message).toBe('Unknown destination');
    expect(unknown.body.toString()).toMatch(/^'\/something\/interesting' is not a valid destination\./);
  });

  it('writes a missing exchange as the AMQP error, NOT_FOUND - …', async () => {
    const f = await errorAt(await open(CONNECT_12 + 'SUBSCRIBE\nid:1\ndestination:/exchange/does.not.exist\n\n\0'), 1);
    expect(f.headers.message).toBe('not_found');
    expect(f.body.toString()).toBe("NOT_FOUND - no exchange 'does.not.exist' in vhost '/'");
  });

  it("names the consumer tag T_<id> in a duplicate subscription's ERROR", async () => {
    const twice = 'SUBSCRIBE\nid:1\ndestination:/queue/dup-tag\n\n\0'.repeat(2);
    const f = await errorAt(await open(CONNECT_12 + twice), 1);
    expect(f.headers.message).toBe('Duplicated subscription identifier');
    expect(f.body.toString()).toBe("A subscription identified by 'T_1' already exists.");
  });

  it('refuses a wrong passcode with "Access refused for user"', async () => {
    const f = await errorAt(await open('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:gust\n\n\0'), 0);
    expect([f.headers.message, f.body.toString()]).toEqual(['Bad CONNECT', "Access refused for user 'guest'"]);
  });

  it('refuses an unsupported version with "Version mismatch"', async () => {
    const f = await errorAt(await open('CONNECT\naccept-version:100.1\nhost:/\nlogin:guest\npasscode:guest\n\n\0'), 0);
    expect([f.headers.message, f.headers.version, f.body.toString()]).toEqual(['Version mismatch', '1.0,1.1,1.2', 'Supported versions are 1.0,1.1,1.2\n']);
  });

  it('gives every ERROR the versions it speaks, and words a bad command as RabbitMQ', async () => {
    const f = await errorAt(await open(CONNECT_10 + 'WRONGCOMMAND\ndestination:a\n\n\0'), 1);
    expect(f.headers).toMatchObject({ message: 'Bad command', 'content-type': 'text/plain', version: '1.0,1.1,1.2' });
    expect(f.body.toString()).toBe('Could not interpret command "WRONGCOMMAND"\n');
  });

  it('requires an id for a durable subscription, checked first ("Missing Header")', async () => {
    for (const flag of ['durable:true', 'persistent:true', 'persistent:True']) {
      for (const destination of ['/topic/durable-invalid', '/queue/durable-invalid']) {
        const f = await errorAt(await open(CONNECT_10 + `SUBSCRIBE\ndestination:${destination}\n${flag}\n\n\0`), 1);
        expect([f.headers.message, f.body.toString()], `${destination} ${flag}`).toEqual(['Missing Header', "Header 'id' is required for durable subscriptions"]);
      }
    }
  });
});

describe('CONNECT host', () => {
  it('refuses a host that names no vhost and cannot be a host name', async () => {
    const f = await errorAt(await open('CONNECT\naccept-version:1.1\nhost://\nlogin:guest\npasscode:guest\n\n\0'), 0);
    expect([f.headers.message, f.body.toString()]).toEqual(['Bad CONNECT', "Virtual host '//' access denied"]);
  });

  it("still gives a server's host name (stomp.py's default host) the default vhost", async () => {
    for (const host of ['localhost', '127.0.0.1', 'broker.example.com', '[::1]']) {
      const c = await open(`CONNECT\naccept-version:1.2\nhost:${host}\nlogin:guest\npasscode:guest\n\n\0`);
      expect((await c.frame(0)).command, host).toBe('CONNECTED');
      c.close();
    }
  });
});

describe("RabbitMQ's leniencies", () => {
  it('accepts NACK from a 1.0 client (by message-id) and requeues', async () => {
    const c = await open(CONNECT_10 + 'SUBSCRIBE\nid:s\ndestination:/queue/nack10\nack:client-individual\n\n\0SEND\ndestination:/queue/nack10\n\nagain\0');
    const first = await c.frame(1);
    expect(first.headers.redelivered).toBe('false');
    c.write(`NACK\nmessage-id:${first.headers['message-id']}\n\n\0`);
    const second = await c.frame(2);
    expect([second.command, second.headers.redelivered, second.body.toString()]).toEqual(['MESSAGE', 'true', 'again']);
    c.close();
  });

  it('reads requeue:False (as stomp.py writes False) as false: the message is dropped', async () => {
    const c = await open(CONNECT_12 + 'SUBSCRIBE\nid:s\ndestination:/queue/nack-py\nack:client-individual\n\n\0SEND\ndestination:/queue/nack-py\n\nonce\0');
    const first = await c.frame(1);
    // Frames are handled in order: a requeued message would come back before the sentinel.
    c.write(`NACK\nid:${first.headers.ack}\nrequeue:False\n\n\0SEND\ndestination:/queue/nack-py\n\nsentinel\0`);
    expect((await c.frame(2)).body.toString()).toBe('sentinel');
    c.close();
  });

  it('skips stray NULs between frames', async () => {
    const c = await open(CONNECT_10 + '\n\0SUBSCRIBE\ndestination:/exchange/amq.fanout\nreceipt:s\n\n\0\n\0SEND\ndestination:/exchange/amq.fanout\n\nhello\n\0\n');
    expect((await c.frame(1)).headers['receipt-id']).toBe('s');
    const m = await c.frame(2);
    expect([m.command, m.body.toString()]).toEqual(['MESSAGE', 'hello\n']);
    c.close();
  });

  it('omits `subscription` on MESSAGE when a 1.0 SUBSCRIBE had no id', async () => {
    const c = await open(CONNECT_10 + 'SUBSCRIBE\ndestination:/queue/noid10\n\n\0SUBSCRIBE\nid:with\ndestination:/queue/id10\n\n\0SEND\ndestination:/queue/noid10\n\na\0SEND\ndestination:/queue/id10\n\nb\0');
    await c.frame(2);
    const byBody = new Map(c.frames.slice(1).map((f) => [f.body.toString(), f]));
    expect(byBody.get('a')!.headers.subscription).toBeUndefined();
    expect(byBody.get('a')!.headers.destination).toBe('/queue/noid10');
    expect(byBody.get('b')!.headers.subscription).toBe('with');
    c.close();
  });
});

describe('receipts of transactional SENDs', () => {
  it('come at COMMIT, once the message is stored, not when the SEND is held', async () => {
    const c = await open(
      CONNECT_12 +
        'BEGIN\ntransaction:t\n\n\0' +
        'SEND\ndestination:/queue/tx-receipt\ntransaction:t\nreceipt:send-1\n\none\0' +
        'BEGIN\ntransaction:probe\nreceipt:probe\n\n\0' +
        'COMMIT\ntransaction:t\nreceipt:commit\n\n\0',
    );
    await c.frame(3);
    expect(c.frames.slice(1, 4).map((f) => f.headers['receipt-id'])).toEqual(['probe', 'send-1', 'commit']);
    c.write('SUBSCRIBE\nid:s\ndestination:/queue/tx-receipt\n\n\0');
    expect((await c.frame(4)).body.toString()).toBe('one');
    c.close();
  });

  it('come at ABORT when the transaction is dropped', async () => {
    const c = await open(
      CONNECT_12 +
        'BEGIN\ntransaction:t\n\n\0' +
        'SEND\ndestination:/queue/tx-abort\ntransaction:t\nreceipt:send-1\n\ndropped\0' +
        'BEGIN\ntransaction:probe\nreceipt:probe\n\n\0' +
        'ABORT\ntransaction:t\nreceipt:abort\n\n\0',
    );
    await c.frame(3);
    expect(c.frames.slice(1, 4).map((f) => f.headers['receipt-id'])).toEqual(['probe', 'send-1', 'abort']);
    c.close();
  });
});
