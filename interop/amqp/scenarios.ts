import { channelClosed, collect, connectionClosed, expectError, getEventually, must, seen, type Scenario } from './scenario-kit.js';

/**
 * Scripted scenarios with amqplib's promise API. Each logs what the client observes: replies,
 * deliveries (body, properties, redelivered, x-death), error codes and texts.
 */
export const SCENARIOS: Scenario[] = [
  {
    name: 'publish-consume-properties',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `props-${ctx.id}`;
      ctx.log('declare', await ch.assertQueue(q, { autoDelete: false, durable: false }));
      ch.publish('', q, Buffer.from('full'), {
        contentType: 'text/plain', contentEncoding: 'utf-8', headers: { a: 1, b: 'x', c: true, d: 2.5, n: { deep: [1, 'two'] } },
        deliveryMode: 2, priority: 3, correlationId: 'corr', replyTo: 'rt', expiration: '60000', messageId: 'mid',
        timestamp: 1700000000, type: 'kind', appId: 'app',
      });
      ch.publish('', q, Buffer.from('bare'));
      ch.publish('', q, Buffer.alloc(0));
      const got = await collect(ch, q, 3, { ack: true });
      for (const m of got) ctx.log('deliver', seen(m));
      ctx.log('delete', await ch.deleteQueue(q));
    },
  },
  {
    name: 'get-and-counts',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `get-${ctx.id}`;
      await ch.assertQueue(q, { durable: false });
      for (const b of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(b));
      await ch.checkQueue(q);
      ctx.log('check', await ch.checkQueue(q));
      const m1 = await ch.get(q);
      ctx.log('get', m1 && { ...seen(m1), messageCount: m1.fields.messageCount, deliveryTag: m1.fields.deliveryTag });
      const m2 = await ch.get(q, { noAck: true });
      ctx.log('get', m2 && { ...seen(m2), messageCount: m2.fields.messageCount, deliveryTag: m2.fields.deliveryTag });
      if (m1) ch.ack(m1);
      ctx.log('purge', await ch.purgeQueue(q));
      ctx.log('get-empty', await ch.get(q));
      ctx.log('delete', await ch.deleteQueue(q));
    },
  },
  {
    name: 'nack-reject-requeue',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `requeue-${ctx.id}`;
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.from('a'));
      ch.sendToQueue(q, Buffer.from('b'));
      await ch.checkQueue(q);
      const a1 = must(await ch.get(q));
      ctx.log('first', seen(a1));
      ch.nack(a1, false, true);
      const a2 = must(await ch.get(q));
      ctx.log('after-nack-requeue', seen(a2));
      ch.reject(a2, true);
      const a3 = must(await ch.get(q));
      ctx.log('after-reject-requeue', seen(a3));
      ch.reject(a3, false);
      const b = must(await ch.get(q));
      ctx.log('next', seen(b));
      ch.nack(b, false, false);
      ctx.log('left', await ch.checkQueue(q));
      // unacked deliveries come back redelivered when the channel closes
      ch.sendToQueue(q, Buffer.from('c'));
      await ch.checkQueue(q);
      const ch2 = await c.createChannel();
      await ch2.get(q);
      await ch2.close();
      const again = must(await ch.get(q, { noAck: true }));
      ctx.log('after-channel-close', seen(again));
      await ch.deleteQueue(q);
    },
  },
  {
    name: 'prefetch-and-recover',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `prefetch-${ctx.id}`;
      await ch.assertQueue(q, { durable: false });
      for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(String(i)));
      await ch.prefetch(2);
      const got: string[] = [];
      let resolveTwo!: () => void;
      const two = new Promise<void>((r) => (resolveTwo = r));
      const msgs: import('amqplib').ConsumeMessage[] = [];
      await ch.consume(q, (m) => {
        if (!m) return;
        msgs.push(m);
        got.push(`${m.content.toString()}${m.fields.redelivered ? '*' : ''}`);
        if (got.length === 2 || got.length === 4 || got.length === 6) resolveTwo();
      });
      await two;
      ctx.log('with-prefetch-2', [...got]);
      const more = new Promise<void>((r) => (resolveTwo = r));
      ch.ack(msgs[0]!);
      ch.ack(msgs[1]!);
      await more;
      ctx.log('after-two-acks', [...got]);
      const recovered = new Promise<void>((r) => (resolveTwo = r));
      await ch.recover();
      await recovered;
      ctx.log('after-recover', [...got].sort());
      await ch.close();
      const ch2 = await c.createChannel();
      ctx.log('left', await ch2.checkQueue(q));
      await ch2.deleteQueue(q);
    },
  },
  {
    name: 'confirms-under-load',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createConfirmChannel();
      const q = `confirms-${ctx.id}`;
      await ch.assertQueue(q, { durable: true });
      let acked = 0;
      let nacked = 0;
      const n = 2000;
      for (let i = 0; i < n; i++) {
        ch.publish('', q, Buffer.alloc(1024, i % 256), { persistent: true }, (err) => (err ? nacked++ : acked++));
      }
      await ch.waitForConfirms();
      ctx.log('confirms', { acked, nacked });
      ctx.log('depth', await ch.checkQueue(q));
      await ch.deleteQueue(q);
    },
  },
  {
    name: 'mandatory-return-before-confirm',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createConfirmChannel();
      const order: string[] = [];
      ch.on('return', (m: { fields: Record<string, unknown>; content: Buffer }) => order.push(`return ${String(m.fields.replyCode)} ${String(m.fields.replyText)} ${String(m.fields.exchange)} ${String(m.fields.routingKey)} ${m.content.toString()}`));
      await new Promise<void>((resolve, reject) => {
        ch.publish('amq.direct', `nowhere-${ctx.id}`, Buffer.from('lost'), { mandatory: true }, (err) => {
          order.push(err ? 'nack' : 'ack');
          if (err) reject(err);
          else resolve();
        });
      });
      // not mandatory: silently dropped, still confirmed
      await new Promise<void>((resolve) => ch.publish('amq.direct', `nowhere-${ctx.id}`, Buffer.from('dropped'), {}, () => resolve()));
      order.push('ack2');
      ctx.log('order', order);
    },
  },
  {
    name: 'tx-commit-rollback',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `tx-${ctx.id}`;
      await ch.assertQueue(q, { durable: false });
      // amqplib has no tx API; its channel exposes rpc() for any method and its -ok.
      const rpc = (name: string, ok: string) => (ch as unknown as { rpc(m: number, f: object, e: number): Promise<unknown> }).rpc(TX[name]!, {}, TX[ok]!);
      await rpc('select', 'selectOk');
      ch.sendToQueue(q, Buffer.from('r1'));
      ch.sendToQueue(q, Buffer.from('r2'));
      ctx.log('before-rollback', await ch.checkQueue(q));
      await rpc('rollback', 'rollbackOk');
      ctx.log('after-rollback', await ch.checkQueue(q));
      ch.sendToQueue(q, Buffer.from('c1'));
      ch.sendToQueue(q, Buffer.from('c2'));
      await rpc('commit', 'commitOk');
      ctx.log('after-commit', await ch.checkQueue(q));
      const m = must(await ch.get(q));
      ch.ack(m);
      await rpc('rollback', 'rollbackOk');
      ctx.log('ack-rolled-back', await ch.checkQueue(q));
      ch.ack(m);
      await rpc('commit', 'commitOk');
      ctx.log('ack-committed', await ch.checkQueue(q));
      await ch.deleteQueue(q);
    },
  },
  {
    name: 'dead-letter-x-death',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `dlx-src-${ctx.id}`;
      const dq = `dlx-dst-${ctx.id}`;
      await ch.assertQueue(dq, { durable: false });
      await ch.assertQueue(q, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dq } });
      ch.sendToQueue(q, Buffer.from('poison'), { headers: { keep: 'me' } });
      await ch.checkQueue(q);
      const m = must(await ch.get(q));
      ch.reject(m, false);
      const d = await getEventually(ch, dq);
      ctx.log('dead-lettered', seen(d));
      // a second death on the same queue raises count
      ch.sendToQueue(q, d.content, { headers: d.properties.headers });
      await ch.checkQueue(q);
      ch.nack(must(await ch.get(q)), false, false);
      ctx.log('dead-lettered-twice', seen(await getEventually(ch, dq)));
      await ch.deleteQueue(q);
      await ch.deleteQueue(dq);
    },
  },
  {
    name: 'ttl-expiry',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `ttl-${ctx.id}`;
      const dq = `ttl-dead-${ctx.id}`;
      await ch.assertQueue(dq, { durable: false });
      await ch.assertQueue(q, { durable: false, arguments: { 'x-message-ttl': 100, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dq } });
      ch.sendToQueue(q, Buffer.from('queue-ttl'));
      ctx.log('expired-by-queue-ttl', seen(await getEventually(ch, dq)));
      const q2 = `ttl-msg-${ctx.id}`;
      await ch.assertQueue(q2, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dq } });
      ch.sendToQueue(q2, Buffer.from('msg-ttl'), { expiration: '50' });
      ctx.log('expired-by-expiration', seen(await getEventually(ch, dq)));
      ctx.log('source-empty', await ch.checkQueue(q2));
      await expectError(ctx, 'bad-expiration', async () => {
        ch.sendToQueue(q2, Buffer.from('x'), { expiration: 'soon' });
        await ch.checkQueue(q2);
      });
    },
  },
  {
    name: 'max-length-overflow',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createConfirmChannel();
      const dq = `ml-dead-${ctx.id}`;
      await ch.assertQueue(dq, { durable: false });
      for (const mode of ['drop-head', 'reject-publish', 'reject-publish-dlx']) {
        const q = `ml-${mode}-${ctx.id}`;
        await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 2, 'x-overflow': mode, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dq } });
        const results: string[] = [];
        for (const b of ['1', '2', '3']) {
          await new Promise<void>((r) => ch.publish('', q, Buffer.from(b), {}, (err) => { results.push(`${b}:${err ? 'nack' : 'ack'}`); r(); }));
        }
        const left: string[] = [];
        for (;;) {
          const m = await ch.get(q, { noAck: true });
          if (!m) break;
          left.push(m.content.toString());
        }
        ctx.log(mode, { results, left });
      }
      const dead: unknown[] = [];
      for (;;) {
        const m = await ch.get(dq, { noAck: true });
        if (!m) break;
        dead.push(seen(m));
      }
      ctx.log('dead', dead);
    },
  },
  {
    name: 'priorities',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `prio-${ctx.id}`;
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-priority': 10 } });
      for (const [b, p] of [['p1', 1], ['p5', 5], ['p9', 9], ['p0', 0], ['none', undefined], ['p5b', 5], ['p20', 20]] as const) {
        ch.sendToQueue(q, Buffer.from(b), p === undefined ? {} : { priority: p });
      }
      await ch.checkQueue(q);
      const order: string[] = [];
      for (;;) {
        const m = await ch.get(q, { noAck: true });
        if (!m) break;
        order.push(m.content.toString());
      }
      ctx.log('order', order);
      await ch.deleteQueue(q);
    },
  },
  {
    name: 'exclusive-and-auto-delete',
    async run(ctx) {
      const a = await ctx.connect();
      const b = await ctx.connect();
      const cha = await a.createChannel();
      const q = `excl-${ctx.id}`;
      await cha.assertQueue(q, { exclusive: true });
      const chb = await b.createChannel();
      await expectError(ctx, 'other-connection-passive', () => chb.checkQueue(q));
      const chb2 = await b.createChannel();
      await expectError(ctx, 'other-connection-consume', () => chb2.consume(q, () => {}));
      const ad = `autodel-${ctx.id}`;
      await cha.assertQueue(ad, { autoDelete: true, durable: false });
      const { consumerTag } = await cha.consume(ad, () => {});
      await cha.cancel(consumerTag);
      const chb3 = await b.createChannel();
      await expectError(ctx, 'auto-deleted', () => chb3.checkQueue(ad));
      await a.close();
      const chb4 = await b.createChannel();
      await expectError(ctx, 'exclusive-gone-with-owner', () => chb4.checkQueue(q));
    },
  },
  {
    name: 'direct-reply-to',
    async run(ctx) {
      const c = await ctx.connect();
      const server = await c.createChannel();
      const client = await c.createChannel();
      const q = `rpc-${ctx.id}`;
      await server.assertQueue(q, { durable: false });
      await server.consume(q, (m) => {
        if (!m) return;
        ctx.log('request', { body: m.content.toString(), replyToPrefix: String(m.properties.replyTo).startsWith('amq.rabbitmq.reply-to.') });
        server.sendToQueue(m.properties.replyTo as string, Buffer.from(`re:${m.content.toString()}`), { correlationId: m.properties.correlationId });
        server.ack(m);
      });
      let resolveReply!: (m: import('amqplib').ConsumeMessage) => void;
      const reply = new Promise<import('amqplib').ConsumeMessage>((resolve) => (resolveReply = resolve));
      // consume-ok must be in before the request names amq.rabbitmq.reply-to
      await client.consume('amq.rabbitmq.reply-to', (m) => m && resolveReply(m), { noAck: true });
      client.sendToQueue(q, Buffer.from('ping'), { replyTo: 'amq.rabbitmq.reply-to', correlationId: 'c1' });
      const r = await reply;
      ctx.log('reply', { body: r.content.toString(), correlationId: r.properties.correlationId, exchange: r.fields.exchange, prefix: r.fields.routingKey.startsWith('amq.rabbitmq.reply-to.') });
      const lonely = await c.createChannel();
      await expectError(ctx, 'reply-to-without-consumer', async () => {
        lonely.sendToQueue(q, Buffer.from('x'), { replyTo: 'amq.rabbitmq.reply-to' });
        await lonely.checkQueue(q);
      });
      const acking = await c.createChannel();
      await expectError(ctx, 'reply-consumer-with-acks', () => acking.consume('amq.rabbitmq.reply-to', () => {}, { noAck: false }));
      await server.deleteQueue(q);
    },
  },
  {
    name: 'stream-offsets',
    async run(ctx) {
      const c = await ctx.connect();
      const pub = await c.createConfirmChannel();
      const q = `stream-${ctx.id}`;
      await pub.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'stream' } });
      for (let i = 0; i < 5; i++) {
        pub.sendToQueue(q, Buffer.from(`s${i}`));
        await pub.waitForConfirms();
      }
      const read = async (offset: unknown, n: number) => {
        const ch = await c.createChannel();
        await ch.prefetch(10);
        const got = await collect(ch, q, n, { ack: true, arguments: { 'x-stream-offset': offset } });
        await ch.close();
        return got.map((m) => `${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`);
      };
      ctx.log('first', await read('first', 5));
      ctx.log('offset-3', await read(3, 2));
      ctx.log('last', await read('last', 1));
      ctx.log('timestamp-epoch', await read({ '!': 'timestamp', value: 0 }, 5));
      ctx.log('interval-1h', await read('1h', 5));
      const ch = await c.createChannel();
      await ch.prefetch(10);
      let ready!: () => void;
      const consuming = new Promise<void>((r) => (ready = r));
      const next = collect(ch, q, 1, { ack: true, arguments: { 'x-stream-offset': 'next' }, onConsumeOk: ready });
      await consuming; // 'next' starts at the end as of consume-ok: publish only after it
      pub.sendToQueue(q, Buffer.from('s5'));
      ctx.log('next', (await next).map((m) => `${m.content.toString()}@${String(m.properties.headers?.['x-stream-offset'])}`));
      const noPrefetch = await c.createChannel();
      await expectError(ctx, 'stream-consume-without-prefetch', () => noPrefetch.consume(q, () => {}));
      await pub.deleteQueue(q);
    },
  },
  {
    name: 'consumer-cancel-notify',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `cancel-${ctx.id}`;
      await ch.assertQueue(q, { durable: false });
      const cancelled = new Promise<string>((resolve) => void ch.consume(q, (m) => { if (m === null) resolve('cancelled by server'); }));
      const other = await c.createChannel();
      await other.deleteQueue(q);
      ctx.log('consumer', await cancelled);
    },
  },
  {
    name: 'routing-cc-bcc-ae-headers-e2e',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const qs = ['a', 'b', 'c', 'ae', 'h', 'e2e'].map((n) => `r-${n}-${ctx.id}`);
      for (const q of qs) await ch.assertQueue(q, { durable: false });
      const ex = `r-direct-${ctx.id}`;
      const ae = `r-ae-${ctx.id}`;
      const hx = `r-headers-${ctx.id}`;
      const tx = `r-topic-${ctx.id}`;
      await ch.assertExchange(ae, 'fanout', { durable: false });
      await ch.bindQueue(qs[3]!, ae, '');
      await ch.assertExchange(ex, 'direct', { durable: false, alternateExchange: ae });
      for (const k of ['a', 'b', 'c']) await ch.bindQueue(`r-${k}-${ctx.id}`, ex, k);
      ch.publish(ex, 'a', Buffer.from('cc'), { CC: ['b'], BCC: ['c'], headers: { x: 1 } });
      ch.publish(ex, 'zzz', Buffer.from('to-ae'));
      await ch.assertExchange(hx, 'headers', { durable: false });
      await ch.bindQueue(qs[4]!, hx, '', { 'x-match': 'all', kind: 'x', size: 1 });
      ch.publish(hx, '', Buffer.from('h-match'), { headers: { kind: 'x', size: 1, extra: true } });
      ch.publish(hx, '', Buffer.from('h-miss'), { headers: { kind: 'x' } });
      await ch.assertExchange(tx, 'topic', { durable: false });
      await ch.bindExchange(ex, tx, 'route.#');
      await ch.bindQueue(qs[5]!, tx, '*.e2e');
      ch.publish(tx, 'route.a', Buffer.from('via-e2e'));
      ch.publish(tx, 'x.e2e', Buffer.from('topic-direct'));
      for (const q of qs) {
        await ch.checkQueue(q);
        const got: unknown[] = [];
        for (;;) {
          const m = await ch.get(q, { noAck: true });
          if (!m) break;
          got.push(seen(m));
        }
        ctx.log(q, got);
      }
      await ch.unbindExchange(ex, tx, 'route.#');
      ctx.log('unbound', await ch.deleteExchange(tx));
      for (const q of qs) await ch.deleteQueue(q);
      for (const e of [ex, ae, hx]) await ch.deleteExchange(e);
    },
  },
  {
    name: 'channel-errors',
    async run(ctx) {
      const c = await ctx.connect();
      const q = `err-${ctx.id}`;
      const fresh = () => c.createChannel();
      await expectError(ctx, '404 passive queue', async () => (await fresh()).checkQueue(`missing-${ctx.id}`));
      await expectError(ctx, '404 passive exchange', async () => (await fresh()).checkExchange(`missing-${ctx.id}`));
      await expectError(ctx, '404 bind missing exchange', async () => { const ch = await fresh(); await ch.assertQueue(q, { durable: false }); await ch.bindQueue(q, `missing-${ctx.id}`, 'k'); });
      await expectError(ctx, '404 bind missing queue', async () => (await fresh()).bindQueue(`missing-${ctx.id}`, 'amq.direct', 'k'));
      {
        const ch = await fresh();
        const closed = channelClosed(ch);
        ch.publish(`missing-${ctx.id}`, 'k', Buffer.from('x'));
        ctx.log('404 publish to missing exchange', await closed);
      }
      await expectError(ctx, '403 reserved queue name', async () => (await fresh()).assertQueue('amq.mine'));
      await expectError(ctx, '403 reserved exchange name', async () => (await fresh()).assertExchange(`amq.mine-${ctx.id}`, 'direct'));
      await expectError(ctx, '403 default exchange bind', async () => (await fresh()).bindQueue(q, '', 'k'));
      await expectError(ctx, '406 inequivalent durable', async () => (await fresh()).assertQueue(q, { durable: true }));
      await expectError(ctx, '406 inequivalent exchange type', async () => (await fresh()).assertExchange('amq.direct', 'fanout'));
      await expectError(ctx, '406 bad x-max-priority', async () => (await fresh()).assertQueue(`p-${ctx.id}`, { arguments: { 'x-max-priority': 300 } }));
      await expectError(ctx, '406 bad x-message-ttl', async () => (await fresh()).assertQueue(`t-${ctx.id}`, { arguments: { 'x-message-ttl': -1 } }));
      await expectError(ctx, '406 if-empty', async () => { const ch = await fresh(); ch.sendToQueue(q, Buffer.from('x')); await ch.checkQueue(q); await ch.deleteQueue(q, { ifEmpty: true }); });
      {
        const ch = await fresh();
        const closed = channelClosed(ch);
        ch.ack({ fields: { deliveryTag: 99 } } as never);
        ctx.log('406 unknown delivery tag', await closed);
      }
      {
        const ch = await fresh();
        const closed = channelClosed(ch);
        ch.sendToQueue(q, Buffer.from('x'), { userId: 'mallory' });
        ctx.log('406 user-id mismatch', await closed);
      }
      const ch = await fresh();
      ctx.log('still usable', await ch.deleteQueue(q));
      ctx.log('delete missing queue', await ch.deleteQueue(`missing-${ctx.id}`));
      ctx.log('delete missing exchange', await ch.deleteExchange(`missing-${ctx.id}`));
    },
  },
  {
    name: 'connection-errors',
    async run(ctx) {
      {
        const c = await ctx.connect();
        const closed = connectionClosed(c);
        const ch = await c.createChannel();
        await ch.assertExchange(`bad-${ctx.id}`, 'no-such-type').catch(() => {});
        ctx.log('503 unknown exchange type', await closed);
      }
      {
        const c = await ctx.connect();
        const closed = connectionClosed(c);
        const ch = await c.createChannel();
        const q = `tag-${ctx.id}`;
        await ch.assertQueue(q, { exclusive: true });
        await ch.consume(q, () => {}, { consumerTag: 'same' });
        await ch.consume(q, () => {}, { consumerTag: 'same' }).catch(() => {});
        ctx.log('530 reused consumer tag', await closed);
      }
      await expectError(ctx, '530 unknown vhost', () => ctx.connect(`${ctx.url}/no-such-vhost-${ctx.id}`));
      await expectError(ctx, '403 bad password', () => ctx.connect(`amqp://guest:wrong@${ctx.host}:${ctx.port}`));
    },
  },
  {
    name: 'single-active-consumer-and-priorities',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `sac-${ctx.id}`;
      await ch.assertQueue(q, { durable: true, arguments: { 'x-single-active-consumer': true } });
      const seenBy: string[] = [];
      const c1 = await c.createChannel();
      const c2 = await c.createChannel();
      await c1.prefetch(1);
      await c2.prefetch(1);
      let done!: () => void;
      const four = new Promise<void>((r) => (done = r));
      const t1 = (await c1.consume(q, (m) => { if (m) { seenBy.push(`one:${m.content.toString()}`); c1.ack(m); if (seenBy.length === 4) done(); } })).consumerTag;
      await c2.consume(q, (m) => { if (m) { seenBy.push(`two:${m.content.toString()}`); c2.ack(m); if (seenBy.length === 4) done(); } });
      ch.sendToQueue(q, Buffer.from('1'));
      ch.sendToQueue(q, Buffer.from('2'));
      await new Promise<void>((r) => { const i = setInterval(() => { if (seenBy.length >= 2) { clearInterval(i); r(); } }, 5); });
      await c1.cancel(t1);
      ch.sendToQueue(q, Buffer.from('3'));
      ch.sendToQueue(q, Buffer.from('4'));
      await four;
      ctx.log('single-active', seenBy);
      await ch.deleteQueue(q);
      const pq = `cprio-${ctx.id}`;
      await ch.assertQueue(pq, { durable: false });
      const got: string[] = [];
      const lo = await c.createChannel();
      const hi = await c.createChannel();
      await lo.prefetch(100);
      await hi.prefetch(100);
      await lo.consume(pq, (m) => m && got.push('low'), { noAck: true, arguments: { 'x-priority': 1 } });
      await hi.consume(pq, (m) => m && got.push('high'), { noAck: true, arguments: { 'x-priority': 10 } });
      for (let i = 0; i < 5; i++) ch.sendToQueue(pq, Buffer.from(String(i)));
      await new Promise<void>((r) => { const i = setInterval(() => { if (got.length >= 5) { clearInterval(i); r(); } }, 5); });
      ctx.log('consumer-priorities', got);
      await ch.deleteQueue(pq);
    },
  },
  {
    name: 'quorum-delivery-limit-expires-max-bytes',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const dq = `dl-dead-${ctx.id}`;
      await ch.assertQueue(dq, { durable: false });
      const q = `quorum-${ctx.id}`;
      ctx.log('quorum-declare', await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dq } }));
      ch.sendToQueue(q, Buffer.from('poison'));
      await ch.checkQueue(q);
      const deliveries: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await ch.get(q);
        if (!m) { deliveries.push('empty'); break; }
        deliveries.push(`${m.content.toString()}${m.fields.redelivered ? '*' : ''}`);
        ch.nack(m, false, true);
        await ch.checkQueue(q);
      }
      ctx.log('delivery-limit', deliveries);
      const dead = await getEventually(ch, dq);
      ctx.log('dead-by-delivery-limit', { body: dead.content.toString(), reason: (dead.properties.headers?.['x-death'] as { reason: string }[] | undefined)?.[0]?.reason });
      await ch.deleteQueue(q);
      const mb = `maxbytes-${ctx.id}`;
      await ch.assertQueue(mb, { durable: false, arguments: { 'x-max-length-bytes': 10 } });
      for (const b of ['aaaa', 'bbbb', 'cccc']) ch.sendToQueue(mb, Buffer.from(b));
      ctx.log('max-length-bytes', await ch.checkQueue(mb));
      await ch.deleteQueue(mb);
      const ex = `expires-${ctx.id}`;
      await ch.assertQueue(ex, { durable: false, arguments: { 'x-expires': 100 } });
      // Probe without using the queue: a passive declare would count as use (RabbitMQ's stat
      // resets the expiry timer), a mandatory publish does not and comes back once it is gone.
      const probe = await c.createConfirmChannel();
      let gone = false;
      probe.on('return', () => (gone = true));
      const deadline = Date.now() + 5000;
      while (!gone && Date.now() < deadline) {
        await new Promise<void>((r) => probe.publish('', ex, Buffer.from('probe'), { mandatory: true }, () => r()));
        if (!gone) await new Promise((r) => setTimeout(r, 50));
      }
      ctx.log('x-expires', gone ? 'queue expired' : 'still there');
    },
  },
  {
    name: 'nowait-and-exclusive-consumer',
    async run(ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = `nowait-${ctx.id}`;
      // amqplib has no nowait API; rpc-less methods go through sendImmediately
      const raw = ch as unknown as { sendImmediately(method: number, fields: object): void };
      raw.sendImmediately((50 << 16) | 10, { queue: q, passive: false, durable: false, exclusive: false, autoDelete: false, nowait: true, arguments: {}, ticket: 0 });
      raw.sendImmediately((50 << 16) | 20, { queue: q, exchange: 'amq.fanout', routingKey: '', nowait: true, arguments: {}, ticket: 0 });
      ctx.log('declared-nowait', await ch.checkQueue(q));
      ch.publish('amq.fanout', '', Buffer.from('via-nowait-binding'));
      ctx.log('bound-nowait', (await getEventually(ch, q)).content.toString());
      const a = await c.createChannel();
      await a.consume(q, () => {}, { exclusive: true });
      const b = await c.createChannel();
      await expectError(ctx, 'second consumer on exclusive', () => b.consume(q, () => {}));
      const d = await c.createChannel();
      await expectError(ctx, 'exclusive while others consume', async () => { const e = await c.createChannel(); await e.consume(`${q}`, () => {}); });
      void d;
      await ch.deleteQueue(q);
    },
  },
];

const TX: Record<string, number> = {
  select: (90 << 16) | 10,
  selectOk: (90 << 16) | 11,
  commit: (90 << 16) | 20,
  commitOk: (90 << 16) | 21,
  rollback: (90 << 16) | 30,
  rollbackOk: (90 << 16) | 31,
};

export { channelClosed };
