import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LISTENER_NAMES, PLAIN_LISTENER_NAMES, runCli, startBroker, tempDir, type RunningBroker } from '../helpers/broker.js';

const started: RunningBroker[] = [];

async function start(options: Parameters<typeof startBroker>[0] = {}): Promise<RunningBroker> {
  const broker = await startBroker(options);
  started.push(broker);
  return broker;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((b) => b.stop()));
});

/** Connects, and resolves once connected (or rejects with the connect error). */
function connectTo(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function fetchJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

// Checks that only look at a running broker share one (each start costs a process and a store).
let shared: Promise<RunningBroker> | undefined;
const sharedBroker = () => (shared ??= startBroker());
afterAll(async () => {
  if (shared) await (await shared).stop();
});

describe('broker start and ready line', () => {
  it('logs one ready line naming the actual port of every port-0 listener', async () => {
    const broker = await sharedBroker();
    for (const name of PLAIN_LISTENER_NAMES) {
      expect(broker.ports[name], name).toBeGreaterThan(0);
      expect(broker.hosts[name], name).toBe('::');
    }
    expect(new Set(PLAIN_LISTENER_NAMES.map((n) => broker.ports[n])).size).toBe(PLAIN_LISTENER_NAMES.length);
    const readyLines = broker.output().split('\n').filter((l) => l.includes('polybroker ready'));
    expect(readyLines).toHaveLength(1);
    const ready = JSON.parse(readyLines[0]!) as { msg: string; dataDir: string };
    for (const name of PLAIN_LISTENER_NAMES) expect(ready.msg).toContain(`${name} [::]:${broker.ports[name]}`);
    expect(ready.dataDir).toBe(broker.dataDir);
  });

  it('states the ports in the pretty (human) log format too', async () => {
    const broker = await start({ config: { log: { format: 'pretty' } } });
    expect(broker.readyLine).toMatch(/INFO.*polybroker ready: amqp \[::\]:\d+/);
    for (const name of PLAIN_LISTENER_NAMES) expect(broker.ports[name], name).toBeGreaterThan(0);
    expect((await fetchJson(broker.ports.http, '/api/health')).status).toBe(200);
  });

  it('listens dual-stack: the same port accepts IPv4 and IPv6 loopback', async () => {
    const broker = await sharedBroker();
    const v4 = await connectTo('127.0.0.1', broker.ports.http);
    v4.destroy();
    const v6 = await connectTo('::1', broker.ports.http);
    v6.destroy();
  });

  it('binds the host it is given', async () => {
    const broker = await start({ env: { POLYBROKER_AMQP_HOST: '127.0.0.1' } });
    expect(broker.hosts.amqp).toBe('127.0.0.1');
    await expect(connectTo('::1', broker.ports.amqp)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    (await connectTo('127.0.0.1', broker.ports.amqp)).destroy();
  });

  it('leaves a disabled listener closed and says so in the ready line', async () => {
    const broker = await start({ config: { listeners: { kafka: { enabled: false } } } });
    expect(broker.ports.kafka).toBe(0);
    expect(broker.readyLine).toContain('kafka off');
  });

  it('takes its listeners from the config file when no env override is given', async () => {
    const broker = await start({
      config: 'listeners:\n  stomp: { host: "127.0.0.1", port: 0 }\n',
      env: { POLYBROKER_STOMP_PORT: undefined },
    });
    expect(broker.hosts.stomp).toBe('127.0.0.1');
    expect(broker.ports.stomp).toBeGreaterThan(0);
  });

  it('answers GET / and GET /api/health on the http listener', async () => {
    const broker = await sharedBroker();
    const about = await fetchJson(broker.ports.http, '/');
    expect(about).toMatchObject({ status: 200, body: { name: 'polybroker' } });
    const health = await fetchJson(broker.ports.http, '/api/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await fetchJson(broker.ports.http, '/nope')).status).toBe(404);
  });

  it('fails to start, naming the listener and port, when a port is taken', async () => {
    const first = await sharedBroker();
    const dir = tempDir();
    const result = await runCli(['start', '--data-dir', join(dir, 'data')], {
      cwd: dir,
      env: {
        POLYBROKER_AMQP_PORT: '0',
        POLYBROKER_MQTT_PORT: String(first.ports.mqtt),
        POLYBROKER_STOMP_PORT: '0',
        POLYBROKER_KAFKA_PORT: '0',
        POLYBROKER_HTTP_PORT: '0',
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`listener mqtt cannot listen on [::]:${first.ports.mqtt}: the port is in use`);
    // The failed start released the data dir it had locked.
    expect(existsSync(join(dir, 'data', 'polybroker.lock'))).toBe(false);
  });
});

describe('data dir lock', () => {
  it('holds a lock file with the broker pid while running', async () => {
    const broker = await sharedBroker();
    const lock = JSON.parse(readFileSync(join(broker.dataDir, 'polybroker.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(broker.pid);
  });

  it('makes a second broker on the same data dir exit non-zero naming the pid that holds it', async () => {
    const broker = await sharedBroker();
    const result = await runCli(['start', '--data-dir', broker.dataDir], {
      cwd: tempDir(),
      env: Object.fromEntries(LISTENER_NAMES.map((n) => [`POLYBROKER_${n.toUpperCase()}_PORT`, '0'])),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`data dir ${broker.dataDir} is locked by another polybroker (pid ${broker.pid})`);
    // The first broker is unaffected and still holds its lock.
    expect((await fetchJson(broker.ports.http, '/api/health')).status).toBe(200);
    expect(JSON.parse(readFileSync(join(broker.dataDir, 'polybroker.lock'), 'utf8'))).toMatchObject({ pid: broker.pid });
  });

  it('takes over a stale lock left by a process that is gone', async () => {
    const dataDir = join(tempDir(), 'data');
    // A pid beyond pid_max cannot be running.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'polybroker.lock'), JSON.stringify({ pid: 4_194_305, startTime: 1, host: (await import('node:os')).hostname() }));
    const broker = await start({ dataDir });
    expect(JSON.parse(readFileSync(join(dataDir, 'polybroker.lock'), 'utf8'))).toMatchObject({ pid: broker.pid });
  });

  it('restarts on its data dir after being killed with SIGKILL (stale lock)', async () => {
    const broker = await start();
    const killedPid = broker.pid;
    await broker.kill();
    expect(existsSync(join(broker.dataDir, 'polybroker.lock'))).toBe(true);
    await broker.restart();
    expect(broker.pid).not.toBe(killedPid);
    expect(JSON.parse(readFileSync(join(broker.dataDir, 'polybroker.lock'), 'utf8'))).toMatchObject({ pid: broker.pid });
  });
});

describe('graceful stop', () => {
  it('exits 0 on SIGTERM and releases the data dir', async () => {
    const broker = await start();
    const code = await broker.stop();
    expect(code).toBe(0);
    expect(existsSync(join(broker.dataDir, 'polybroker.lock'))).toBe(false);
    expect(broker.output()).toContain('polybroker stopped');
  });

  it('exits 0 on SIGINT', async () => {
    const broker = await start();
    process.kill(broker.pid, 'SIGINT');
    expect(await broker.exited()).toBe(0);
    expect(existsSync(join(broker.dataDir, 'polybroker.lock'))).toBe(false);
  });

  it('closes open connections on stop', async () => {
    const broker = await start();
    const socket = await connectTo('127.0.0.1', broker.ports.http);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    expect(await broker.stop()).toBe(0);
    await closed;
  });

  it('restart() reopens the same data dir with the same config', async () => {
    const broker = await start({ config: { listeners: { kafka: { enabled: false } } } });
    const dataDir = broker.dataDir;
    await broker.restart();
    expect(broker.dataDir).toBe(dataDir);
    expect(broker.ports.kafka).toBe(0);
    expect(broker.ports.amqp).toBeGreaterThan(0);
  });
});
