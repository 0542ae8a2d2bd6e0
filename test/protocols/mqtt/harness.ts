import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { pino } from 'pino';
import { createCore, type Core, type CoreOptions } from '../../../src/core/index.js';
import { MqttAdapter } from '../../../protocols/mqtt/adapter.js';
import type { MqttOptions } from '../../../protocols/mqtt/options.js';
import { MemoryDisk, MemoryStore } from '../../core/memory-store.js';

/** An in-process core (memory store) with the MQTT adapter behind a TCP server on port 0. */
export interface MqttHarness {
  port: number;
  url: string;
  adapter: MqttAdapter;
  core: Core;
  disk: MemoryDisk;
  stop(): Promise<void>;
  /** Stops everything and starts again on the same (memory) disk: a broker restart. */
  restart(): Promise<MqttHarness>;
}

export async function startMqtt(options: Partial<MqttOptions> = {}, disk = new MemoryDisk(), port = 0, coreOptions: CoreOptions = {}): Promise<MqttHarness> {
  const core = createCore(new MemoryStore(disk), { sweepIntervalMs: 100, alarmCheckIntervalMs: 0, auth: { failedLoginDelayMs: 0 }, ...coreOptions });
  await core.open();
  // `users` in the options: the deprecated mqtt.users list, as the broker migrates it to the core's users.
  for (const u of options.users ?? []) await core.users.putUser(u.username, { password: u.password, permissions: { [options.vhost ?? '/']: { configure: '.*', write: '.*', read: '.*' } } });
  const adapter = new MqttAdapter(core, { log: pino({ level: process.env.MQTT_TEST_LOG ?? 'silent' }) }, { sysIntervalMs: 0, ...options });
  await adapter.ready;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    adapter.accept(s, { listener: 'mqtt', remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, localPort: s.localPort ?? 0, tls: false });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as net.AddressInfo).port;
  const h: MqttHarness = {
    port: bound,
    url: `mqtt://127.0.0.1:${bound}`,
    adapter,
    core,
    disk,
    async stop() {
      await adapter.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.close();
    },
    async restart() {
      await h.stop();
      return startMqtt(options, disk, bound);
    },
  };
  return h;
}

/** A raw MQTT client: sends bytes or packet objects, collects parsed packets, sees the close. */
export class RawClient {
  readonly packets: mqttPacket.Packet[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private readonly parser: ReturnType<typeof mqttPacket.parser>;

  private constructor(readonly socket: net.Socket, readonly version: 3 | 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on('packet', (p) => {
      this.packets.push(p);
      this.wake();
    });
    socket.on('data', (b) => this.parser.parse(b));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, version: 3 | 4 | 5 = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s, version)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(p: Record<string, unknown> | Buffer): void {
    this.socket.write(Buffer.isBuffer(p) ? p : mqttPacket.generate(p as unknown as mqttPacket.Packet, { protocolVersion: this.version }));
  }

  /** Resolves with the first collected packet matching, removing it (waits for it to arrive). */
  async next(cmd: string, pred: (p: mqttPacket.Packet) => boolean = () => true): Promise<mqttPacket.Packet> {
    for (;;) {
      const i = this.packets.findIndex((p) => p.cmd === cmd && pred(p));
      if (i >= 0) return this.packets.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd}; got ${JSON.stringify(this.packets.map((p) => p.cmd))}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  async handshake(clientId: string, extra: Record<string, unknown> = {}): Promise<mqttPacket.IConnackPacket> {
    this.send({ cmd: 'connect', protocolId: this.version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: this.version, clientId, clean: true, keepalive: 0, ...extra });
    return (await this.next('connack')) as mqttPacket.IConnackPacket;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
