/**
 * TLS listeners beside the plain ones (AMQPS, MQTTS, STOMP+SSL, Kafka SSL, HTTPS), mutual TLS
 * with the certificate's subject as the user, certificate reload without restart, and clear
 * start errors for bad certificates. Stock clients: amqplib, mqtt.js, stompit, kafkajs, and
 * kcat and mosquitto_pub over TLS. Certificates: openssl, in a temp dir (test/helpers/certs.ts).
 */
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import stompit from 'stompit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../helpers/broker.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';

let certs: TestCerts;
let broker: RunningBroker;
let certFile: string;

const ALL = { configure: '.*', write: '.*', read: '.*' };
const tlsListeners = { amqps: { enabled: true }, mqtts: { enabled: true }, stomps: { enabled: true }, kafkas: { enabled: true }, https: { enabled: true } };

beforeAll(async () => {
  certs = makeTestCerts();
  certs.client('certuser');
  certs.client('nobody');
  // A copy the reload test can overwrite.
  certFile = `${certs.dir}/live-server.pem`;
  copyFileSync(certs.serverCert, certFile);
  broker = await startBroker({
    config: {
      listeners: tlsListeners,
      tls: { cert: certFile, key: certs.serverKey, ca: certs.ca, clientCertificates: 'optional', watchIntervalMs: 100 },
      auth: { failedLoginDelayMs: 0 },
      users: [
        { name: 'alice', password: 'alice-pw', permissions: { '/': ALL } },
        { name: 'certuser', tags: ['administrator'], permissions: { '/': { configure: '^cert', write: '^cert|amq\\.default|amq\\.topic', read: '^cert|amq\\.topic' } } },
      ],
      kafka: { sasl: null },
    },
  });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

const ca = () => readFileSync(certs.ca);
const clientTls = (user: string) => ({ ca: ca(), cert: readFileSync(certs.client(user).cert), key: readFileSync(certs.client(user).key) });

function run(cmd: string, args: string[], timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe('TLS listeners', () => {
  it('reports every TLS port (port 0) beside the plain ones', () => {
    for (const name of ['amqp', 'amqps', 'mqtt', 'mqtts', 'stomp', 'stomps', 'kafka', 'kafkas', 'http', 'https'] as const) expect(broker.ports[name], name).toBeGreaterThan(0);
    expect(broker.ports.amqps).not.toBe(broker.ports.amqp);
  });

  it('AMQPS: amqplib publishes and consumes with PLAIN over TLS; the plain listener works side by side', async () => {
    const c = await amqp.connect(`amqps://alice:alice-pw@localhost:${broker.ports.amqps}`, { ca: [ca()] });
    const ch = await c.createChannel();
    await ch.assertQueue('tls-q', { durable: false });
    ch.sendToQueue('tls-q', Buffer.from('over tls'));
    const plain = await amqp.connect(`amqp://alice:alice-pw@127.0.0.1:${broker.ports.amqp}`);
    const pch = await plain.createChannel();
    const got = await new Promise<string>((resolve) => void pch.consume('tls-q', (m) => m && resolve(m.content.toString()), { noAck: true }));
    expect(got).toBe('over tls');
    await plain.close();
    await c.close();
  });

  it('AMQPS: EXTERNAL logs in as the client certificate CN and its permissions apply', async () => {
    const c = await amqp.connect({ protocol: 'amqps', hostname: 'localhost', port: broker.ports.amqps, }, { ...clientTls('certuser'), credentials: amqp.credentials.external() });
    const ch = await c.createChannel();
    await ch.assertQueue('cert-q', { durable: false });
    ch.on('error', () => {});
    await expect(ch.assertQueue('other-q', { durable: false })).rejects.toThrow(/403.*access to queue 'other-q' in vhost '\/' refused for user 'certuser'/);
    await c.close().catch(() => {});
  });

  it('AMQPS: a certificate of a CA the broker does not trust gives no EXTERNAL login', async () => {
    const untrusted = { ca: ca(), cert: readFileSync(certs.untrustedClient.cert), key: readFileSync(certs.untrustedClient.key) };
    await expect(amqp.connect({ protocol: 'amqps', hostname: 'localhost', port: broker.ports.amqps, }, { ...untrusted, credentials: amqp.credentials.external() })).rejects.toThrow();
  });

  it('AMQPS: a certificate whose CN is no user is refused', async () => {
    await expect(amqp.connect({ protocol: 'amqps', hostname: 'localhost', port: broker.ports.amqps, }, { ...clientTls('nobody'), credentials: amqp.credentials.external() })).rejects.toThrow(/ACCESS_REFUSED|403|closed/);
  });

  it('pika (Python) publishes over AMQPS with the CA, and with EXTERNAL from a client certificate', async () => {
    const cert = certs.client('certuser');
    const script = [
      'import pika, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[2])',
      'if len(sys.argv) > 3: ctx.load_cert_chain(sys.argv[3], sys.argv[4])',
      "creds = pika.credentials.ExternalCredentials() if len(sys.argv) > 3 else pika.PlainCredentials('alice', 'alice-pw')",
      "p = pika.ConnectionParameters(host='localhost', port=int(sys.argv[1]), credentials=creds, ssl_options=pika.SSLOptions(ctx, 'localhost'))",
      'c = pika.BlockingConnection(p)',
      'ch = c.channel()',
      "ch.queue_declare(queue='cert-pika', durable=False)",
      "ch.basic_publish(exchange='', routing_key='cert-pika', body=b'from pika')",
      "print('ok')",
      'c.close()',
    ].join('\n');
    const plain = await run('/usr/bin/python3', ['-c', script, String(broker.ports.amqps), certs.ca]);
    expect(plain.stdout.trim(), plain.stderr).toBe('ok');
    const external = await run('/usr/bin/python3', ['-c', script, String(broker.ports.amqps), certs.ca, cert.cert, cert.key]);
    expect(external.stdout.trim(), external.stderr).toBe('ok');
  });

  it('MQTTS: mqtt.js with a password, and with only a client certificate (its CN is the user)', async () => {
    const pw = await mqtt.connectAsync(`mqtts://localhost:${broker.ports.mqtts}`, { username: 'alice', password: 'alice-pw', ca: ca(), reconnectPeriod: 0 });
    await pw.subscribeAsync('tls/#', { qos: 1 });
    const cert = await mqtt.connectAsync(`mqtts://localhost:${broker.ports.mqtts}`, { ...clientTls('certuser'), reconnectPeriod: 0, protocolVersion: 5 });
    const got = new Promise<string>((resolve) => pw.on('message', (_t, m) => resolve(m.toString())));
    await cert.publishAsync('tls/x', 'from cert user', { qos: 1 });
    expect(await got).toBe('from cert user');
    await cert.endAsync();
    await pw.endAsync();
  });

  it('mosquitto_pub publishes over TLS with --cafile', async () => {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { username: 'alice', password: 'alice-pw', reconnectPeriod: 0 });
    await sub.subscribeAsync('mosq/tls', { qos: 1 });
    const got = new Promise<string>((resolve) => sub.on('message', (_t, m) => resolve(m.toString())));
    const r = await run('mosquitto_pub', ['-h', 'localhost', '-p', String(broker.ports.mqtts), '--cafile', certs.ca, '-u', 'alice', '-P', 'alice-pw', '-t', 'mosq/tls', '-m', 'hello from mosquitto', '-q', '1']);
    expect(r.stderr).toBe('');
    expect(await got).toBe('hello from mosquitto');
    await sub.endAsync();
  });

  it('STOMP+SSL: stompit logs in over TLS, and a client certificate without login is its CN', async () => {
    const connect = (opts: object) =>
      new Promise<stompit.Client>((resolve, reject) => {
        stompit.connect({ host: 'localhost', port: broker.ports.stomps, ssl: true, ...opts } as never, (err, client) => (err ? reject(err) : resolve(client)));
      });
    const withLogin = await connect({ ca: [ca()], connectHeaders: { host: '/', login: 'alice', passcode: 'alice-pw', 'accept-version': '1.2' } });
    withLogin.disconnect();
    // A client certificate and no login: the certificate's CN is the user (raw frames, to read the ERROR whole).
    const raw = tlsConnect({ host: 'localhost', port: broker.ports.stomps, ...clientTls('certuser') });
    let text = '';
    raw.on('data', (d: Buffer) => (text += d.toString()));
    raw.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
    await expect.poll(() => text).toContain('CONNECTED');
    raw.write('SEND\ndestination:/queue/not-cert-q\n\nx\0');
    await expect.poll(() => text).toContain('ERROR');
    expect(text).toContain('message:access_refused');
    expect(text).toContain("access to queue 'not-cert-q' in vhost '/' refused for user 'certuser'");
    raw.destroy();
  });

  it("Kafka SSL: kafkajs's client certificate is the principal; a topic outside its permissions is TOPIC_AUTHORIZATION_FAILED", async () => {
    const kafka = new Kafka({ brokers: [`localhost:${broker.ports.kafkas}`], ssl: clientTls('certuser'), logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = kafka.producer();
    await producer.connect();
    const [ok] = await producer.send({ topic: 'cert-topic', messages: [{ value: 'v' }] });
    expect(ok!.errorCode).toBe(0);
    await expect(producer.send({ topic: 'forbidden-topic', messages: [{ value: 'v' }] })).rejects.toThrow(/Not authorized to access topics/);
    await producer.disconnect();
  });

  it('kcat (librdkafka) produces over SSL with a client certificate', async () => {
    const cert = certs.client('certuser');
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile(
        'kcat',
        ['-b', `localhost:${broker.ports.kafkas}`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.ca}`, '-X', `ssl.certificate.location=${cert.cert}`, '-X', `ssl.key.location=${cert.key}`, '-P', '-t', 'cert-kcat'],
        { timeout: 20_000 },
        (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr }),
      );
      child.stdin!.end('one\ntwo\n');
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('HTTPS answers /api/health', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: 'localhost', port: broker.ports.https, path: '/api/health', ca: ca() }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(body).status).toBe('ok');
  });

  it('reloads a renewed certificate without restart (new connections get it)', async () => {
    const serialOf = () =>
      new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: broker.ports.amqps, ca: ca(), servername: 'localhost' }, () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.destroy();
        });
        s.on('error', reject);
      });
    const before = await serialOf();
    // Renew: a new certificate for the same key (a new serial).
    await run('openssl', ['x509', '-req', '-in', `${certs.dir}/server.csr`, '-CA', certs.ca, '-CAkey', `${certs.dir}/ca.key`, '-CAcreateserial', '-out', `${certs.dir}/renewed.pem`, '-days', '30', '-extfile', `${certs.dir}/server.ext`]);
    copyFileSync(`${certs.dir}/renewed.pem`, certFile);
    const expected = new (await import('node:crypto')).X509Certificate(readFileSync(certFile)).serialNumber;
    expect(expected).not.toBe(before);
    await expect.poll(serialOf, { timeout: 10_000, interval: 100 }).toBe(expected);
    await expect.poll(() => broker.output()).toContain('TLS certificate reloaded');
  });
});

describe('TLS configuration errors at start', () => {
  const startWith = (tls: object) => startBroker({ config: { listeners: { amqps: { enabled: true } }, tls } });

  it('an expired certificate is a clear error naming the file and the date', async () => {
    await expect(startWith({ cert: certs.expiredCert, key: `${certs.dir}/expired.key` })).rejects.toThrow(/expired\.pem.*expired on .*2020/s);
  });

  it('a key that does not match the certificate is a clear error', async () => {
    await expect(startWith({ cert: certs.serverCert, key: certs.client('certuser').key })).rejects.toThrow(/does not match the certificate/);
  });

  it('a missing file and a missing key are clear errors', async () => {
    await expect(startWith({ cert: `${certs.dir}/nope.pem`, key: certs.serverKey })).rejects.toThrow(/tls\.cert: cannot read .*nope\.pem: ENOENT/);
    await expect(startWith({ cert: certs.serverCert })).rejects.toThrow(/tls\.cert and tls\.key are not both set/);
  });

  it('client certificates required without a CA is a clear error', async () => {
    await expect(startWith({ cert: certs.serverCert, key: certs.serverKey, clientCertificates: 'required' })).rejects.toThrow(/tls\.ca/);
  });
});
