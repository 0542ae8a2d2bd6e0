import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ADAPTERS } from './adapters.js';
import { LISTENER_NAMES, isTlsListener, listenerProtocol, type BrokerConfig, type ListenerName } from './config/index.js';
import { applyUserDefinitions, applyVhostDefinitions, createCore, isCoreError, type Core } from './core/index.js';
import { legacyUsers } from './config/legacy-users.js';
import { createStore, systemClock } from '../storage/index.js';
import { DataDirLock } from './data-dir-lock.js';
import type { AdapterFactory, ConnectionOrigin, ProtocolAdapter } from './listeners/adapter.js';
import { formatHostPort, type BoundAddress } from './listeners/bind.js';
import { HttpListener } from './listeners/http-listener.js';
import { TcpListener } from './listeners/tcp-listener.js';
import { loadSecureContextOptions, tlsFilesStamp, tlsServerOptions, TlsConfigError } from './listeners/tls-context.js';
import { VERSION } from './version.js';
import { ConfigError } from './config/index.js';
import { applyReloadedConfig } from './config-reload.js';
import { ControlServer } from './ctl/control-server.js';
import type { ManagementContext, ProtocolBytes, ProtocolKey, ReloadReport } from './management/context.js';
import { ManagementHttp } from './management/management-http.js';
import { BrokerMetrics } from './management/metrics.js';
import { coreUsersAuthenticate } from './management/principal.js';
import { RateSampler } from './management/rate-sampler.js';

type ProtocolName = ProtocolAdapter['protocol'];

export interface BrokerOptions {
  config: BrokerConfig;
  /** The config file read (or the embedded defaults), for the logs. */
  configSource: string;
  log: Logger;
  /** Adapter factories by protocol; default the table in `adapters.ts`. */
  adapters?: Partial<Record<ProtocolName, AdapterFactory>>;
  /** How long adapters get to close their connections politely on stop. */
  closeTimeoutMs?: number;
  /** Re-reads and validates the config (same file, environment and overrides as at start) for hot reload. */
  reloadConfig?: () => { config: BrokerConfig; source: string };
}

/** Storage and core as the broker holds them: opened at start, closed (flushed) at stop. */
interface Engine {
  core: Core;
  close(): Promise<void>;
}

/** A start failure the user can act on; its message says all (no stack trace needed). */
export class StartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartError';
  }
}

/** Where the store keeps its files, inside the data dir (beside the lock file). */
export const STORE_SUBDIR = 'store';

/**
 * Opens the shared store (storage's public factory) in `<dataDir>/store` and the core on it;
 * `core.open()` opens the store, which recovers (truncates a torn tail, rebuilds indexes) and
 * reports through `warn`. Then the YAML `vhosts:` definitions are applied idempotently.
 */
async function openEngine(config: BrokerConfig, configSource: string, dataDir: string, log: Logger, metrics: BrokerMetrics): Promise<Engine> {
  const storeLog = log.child({ component: 'storage' });
  const coreLog = log.child({ component: 'core' });
  const dir = join(dataDir, STORE_SUBDIR);
  mkdirSync(dir, { recursive: true });
  const store = createStore({
    dir,
    segmentBytes: config.storage.segmentBytes,
    durability: config.storage.durability,
    intervalMs: config.storage.intervalMs,
    warn: (fields, msg) => storeLog.warn(fields, msg),
    onTiming: metrics.onStorageTiming,
  });
  const core = createCore(store, {
    durability: config.storage.durability,
    streamRetentionMs: config.storage.retentionMs,
    streamRetentionBytes: config.storage.retentionBytes,
    maxMessageBytes: config.limits.maxMessageBytes,
    maxConnectionsPerUser: config.limits.maxConnectionsPerUser,
    flowControlBacklog: config.limits.flowControlBacklog,
    memoryHighWatermarkBytes: config.limits.memoryHighWatermarkBytes,
    diskFreeLimitBytes: config.limits.diskFreeLimitBytes,
    dataDir: dir,
    halfMessages: { ...config.transactions, deadLetterExchange: config.transactions.deadLetterExchange ?? null },
    // Tests move the timer's clock (delayed delivery, retries) across a restart instead of waiting hours.
    timerClock: process.env.POLYBROKER_TEST_CLOCK_OFFSET_MS ? systemClock(Number(process.env.POLYBROKER_TEST_CLOCK_OFFSET_MS)) : undefined,
    auth: { loopbackUsers: config.auth?.loopbackUsers, failedLoginDelayMs: config.auth?.failedLoginDelayMs, defaultUser: config.auth?.defaultUser },
    warn: (fields, msg) => coreLog.warn(fields, msg),
    onCompacted: (report) => coreLog.info({ ...report, durationMs: Math.round(report.durationMs) }, 'stream partition compacted'),
  });
  const startedAt = performance.now();
  try {
    await core.open();
    try {
      await applyVhostDefinitions(core, config.vhosts);
    } catch (err) {
      throw isCoreError(err) ? new StartError(`cannot apply the vhosts definitions of ${configSource}: ${err.message}`, { cause: err }) : err;
    }
    try {
      const legacy = legacyUsers(config);
      for (const d of legacy.deprecations) log.warn({ config: configSource }, d);
      await applyUserDefinitions(core, [...legacy.users, ...(config.users ?? [])]);
    } catch (err) {
      throw isCoreError(err) ? new StartError(`cannot apply the users of ${configSource}: ${err.message}`, { cause: err }) : err;
    }
  } catch (err) {
    // Close what opened so files are flushed and released before the process exits.
    await core.close().catch(() => store.close().catch(() => {}));
    throw err;
  }
  log.info({ dir, durability: config.storage.durability, recoveryMs: Math.round(performance.now() - startedAt), vhosts: core.vhostNames() }, 'storage and core open');
  return { core, close: () => core.close() };
}

type Listener = TcpListener | HttpListener;

/**
 * The broker process's lifecycle: lock the data dir, open storage and the core, create the
 * protocol adapters, open the listeners, log one ready line; and the reverse on stop.
 */
export class Broker {
  readonly dataDir: string;
  readonly listeners = new Map<ListenerName, BoundAddress>();
  private readonly log: Logger;
  private readonly adapters = new Map<ProtocolName, ProtocolAdapter>();
  private readonly servers = new Map<ListenerName, Listener>();
  private lock: DataDirLock | undefined;
  private engine: Engine | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private config: BrokerConfig;
  readonly metrics: BrokerMetrics;
  private management: ManagementContext | null = null;
  private managementHttp: ManagementHttp | null = null;
  private control: ControlServer | null = null;
  private sampler: RateSampler | null = null;
  /** Socket bytes of closed connections per protocol; open ones are read at scrape time. */
  private readonly closedBytes: Record<ProtocolKey, ProtocolBytes> = { amqp: { received: 0, sent: 0 }, mqtt: { received: 0, sent: 0 }, stomp: { received: 0, sent: 0 }, kafka: { received: 0, sent: 0 } };
  private readonly openStreams = new Map<Duplex, ProtocolKey>();
  /** One 'close' handler for every stream (`this` is the stream): no closure per connection, which idle fleets would pay for. */
  private readonly streamClosed = ((openStreams: Map<Duplex, ProtocolKey>, closedBytes: Record<ProtocolKey, ProtocolBytes>) =>
    function (this: Duplex): void {
      const protocol = openStreams.get(this);
      if (protocol === undefined) return;
      openStreams.delete(this);
      const s = this as Partial<{ bytesRead: number; bytesWritten: number }>;
      closedBytes[protocol].received += s.bytesRead ?? 0;
      closedBytes[protocol].sent += s.bytesWritten ?? 0;
    })(this.openStreams, this.closedBytes);
  private reloading: Promise<ReloadReport> | null = null;
  private tlsStamp = '';
  private tlsWatch: NodeJS.Timeout | undefined;
  private bufferSweep: NodeJS.Timeout | undefined;

  constructor(private readonly options: BrokerOptions) {
    this.log = options.log;
    this.dataDir = resolve(options.config.node.dataDir);
    this.config = options.config;
    this.metrics = new BrokerMetrics(() => this.management);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Starts everything; on failure undoes what was started and rethrows. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`broker already ${this.state}`);
    this.state = 'starting';
    const { config } = this.options;
    try {
      this.lock = DataDirLock.acquire(this.dataDir);
      this.log.info({ version: VERSION, config: this.options.configSource, dataDir: this.dataDir, nodeId: config.node.nodeId }, 'starting polybroker');
      this.engine = await openEngine(config, this.options.configSource, this.dataDir, this.log, this.metrics);
      this.createAdapters();
      this.createManagement(this.engine.core);
      await this.openListeners();
      await this.openControlSocket();
    } catch (err) {
      await this.shutdown();
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
    this.logReady();
  }

  private createAdapters(): void {
    const core = this.engine?.core;
    if (!core) return;
    const table = this.options.adapters ?? ADAPTERS;
    for (const [protocol, factory] of Object.entries(table) as [ProtocolName, AdapterFactory][]) {
      const { listeners } = this.options.config;
      const enabled =
        listeners[protocol].enabled ||
        listeners[`${protocol}s` as ListenerName]?.enabled ||
        // MQTT and STOMP are also reachable over WebSocket on the http listener.
        ((protocol === 'mqtt' || protocol === 'stomp') && this.options.config.listeners.http.enabled);
      if (!enabled) continue;
      const adapter = factory(core, {
        log: this.log.child({ protocol }),
        config: this.options.config,
        listenerAddress: (name) => this.listeners.get(name),
      });
      this.adapters.set(protocol, adapter);
    }
  }

  private createManagement(core: Core): void {
    this.sampler = new RateSampler(core);
    this.sampler.start();
    this.management = {
      core,
      config: () => this.config,
      nodeName: `polybroker@${this.config.node.nodeId}`,
      version: VERSION,
      startedAt: Date.now(),
      dataDir: this.dataDir,
      listeners: () => this.listeners,
      adapterConnections: () => Object.fromEntries([...this.adapters].map(([p, a]) => [p, a.connectionCount()])),
      bytes: () => this.socketBytes(),
      sampler: this.sampler,
      authenticate: coreUsersAuthenticate(core),
      reload: () => this.reload(),
    };
    this.managementHttp = new ManagementHttp(this.management, this.metrics);
  }

  private async openControlSocket(): Promise<void> {
    if (!this.management) return;
    const control = new ControlServer(this.management, this.log.child({ component: 'ctl' }), () => ({
      ...this.health(),
      pid: process.pid,
      dataDir: this.dataDir,
      uptimeMs: Date.now() - (this.management?.startedAt ?? Date.now()),
      listeners: Object.fromEntries(this.listeners),
      config: this.options.configSource,
    }));
    try {
      await control.listen();
      this.control = control;
    } catch (err) {
      // ctl is an operator convenience: a data dir where a socket cannot live must not stop the broker.
      this.log.warn({ err: String(err), path: control.path }, 'control socket not available: polybroker ctl will not reach this broker');
    }
  }

  /** Bytes read and written per protocol: closed sockets' totals plus the open ones' counters. */
  private socketBytes(): Record<ProtocolKey, ProtocolBytes> {
    const out = structuredClone(this.closedBytes);
    for (const [stream, p] of this.openStreams) {
      const s = stream as Partial<{ bytesRead: number; bytesWritten: number }>;
      out[p].received += s.bytesRead ?? 0;
      out[p].sent += s.bytesWritten ?? 0;
    }
    return out;
  }

  /**
   * Hot reload: re-reads the config file, validates it, applies definitions and users
   * idempotently and says what changed; an invalid file changes nothing and says why.
   * Concurrent reloads share one run.
   */
  reload(): Promise<ReloadReport> {
    this.reloading ??= this.doReload().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async doReload(): Promise<ReloadReport> {
    const core = this.engine?.core;
    if (!core || this.state !== 'running') return { ok: false, error: `broker is ${this.state}`, changes: [] };
    if (!this.options.reloadConfig) return { ok: false, error: 'this broker was started without a config loader: nothing to reload', changes: [] };
    let next: BrokerConfig;
    let source: string;
    try {
      ({ config: next, source } = this.options.reloadConfig());
    } catch (err) {
      const error = err instanceof ConfigError ? err.message : `cannot read the config: ${(err as Error).message}`;
      this.log.warn({ error }, 'reload refused: the config is invalid; nothing changed');
      return { ok: false, error, changes: [] };
    }
    try {
      const changes = await applyReloadedConfig(core, this.config, next);
      this.config = next;
      if ([...this.servers.keys()].some((n) => isTlsListener(n))) {
        // Certificates are re-read on every reload (a renewed file, or new paths in tls:).
        const tlsResult = this.reloadTls();
        changes.push(tlsResult.ok ? 'tls: certificates reloaded' : `tls: reload failed, previous certificates kept (${tlsResult.error})`);
      }
      this.log.info({ config: source, changes }, changes.length ? `config reloaded: ${changes.length} change(s)` : 'config reloaded: nothing changed');
      return { ok: true, changes };
    } catch (err) {
      const error = `cannot apply ${source}: ${(err as Error).message}`;
      this.log.warn({ error }, 'reload failed');
      return { ok: false, error, changes: [] };
    }
  }

  private async openListeners(): Promise<void> {
    const { listeners, tls, limits } = this.options.config;
    const tlsNeeded = LISTENER_NAMES.some((n) => isTlsListener(n) && listeners[n]?.enabled);
    let tlsOptions;
    if (tlsNeeded) {
      try {
        tlsOptions = tlsServerOptions(tls, limits.tlsHandshakeTimeoutMs);
      } catch (err) {
        throw err instanceof TlsConfigError ? new StartError(`cannot start the TLS listeners: ${err.message}`, { cause: err }) : err;
      }
      this.tlsStamp = tlsFilesStamp(tls);
      if (tls.watchIntervalMs > 0) {
        this.tlsWatch = setInterval(() => {
          if (tlsFilesStamp(tls) !== this.tlsStamp) this.reloadTls();
        }, tls.watchIntervalMs);
        this.tlsWatch.unref();
      }
    }
    for (const name of LISTENER_NAMES) {
      const settings = listeners[name];
      if (!settings?.enabled) continue;
      const protocol = listenerProtocol(name);
      const secure = isTlsListener(name) ? tlsOptions : undefined;
      const server: Listener =
        protocol === 'http'
          ? new HttpListener({
              log: this.log.child({ listener: name }),
              onWebSocket: (p, stream, origin) => this.dispatch(p, stream, origin),
              health: () => this.health(),
              about: () => ({ name: 'polybroker', version: VERSION, nodeId: this.options.config.node.nodeId }),
              management: (req, res) => (this.managementHttp ? this.managementHttp.handle(req, res) : Promise.resolve(false)),
              ...(secure ? { tls: secure } : {}),
            })
          : new TcpListener(name, (socket, origin) => this.dispatch(protocol, socket, origin), this.log.child({ listener: name }), secure ? { options: secure, certificateUser: tls.certificateUser } : undefined);
      this.servers.set(name, server);
      const bound = await server.listen(settings.host, settings.port);
      this.listeners.set(name, bound);
    }
    // A client that stops reading must not make the broker buffer without bound. The adapters
    // check their request/response paths as they write (a basic.get or Fetch storm); this sweep
    // catches the rest, every protocol and WebSocket. A connection already told is dropped.
    const told = new WeakSet<Duplex>();
    this.bufferSweep = setInterval(() => {
      const max = limits.maxConnectionWriteBufferBytes;
      for (const [stream, protocol] of this.openStreams) {
        if (stream.writableLength <= max) continue;
        const adapter = this.adapters.get(protocol as ProtocolName);
        if (!told.has(stream) && adapter?.closeOverfull?.(stream)) told.add(stream);
        else stream.destroy();
        this.log.warn({ protocol, waiting: stream.writableLength, maxConnectionWriteBufferBytes: max }, 'closed a connection that stopped reading (output over limits.maxConnectionWriteBufferBytes)');
      }
    }, 1000);
    this.bufferSweep.unref();
  }

  /**
   * Re-reads the TLS certificate, key and CA and swaps them into every TLS listener (new
   * connections get them; open ones keep theirs). Called when the files change and on config
   * reload. A bad file is logged and the listeners keep the old certificate.
   */
  reloadTls(): { ok: boolean; error?: string } {
    const { tls } = this.config;
    this.tlsStamp = tlsFilesStamp(tls);
    let options;
    try {
      options = loadSecureContextOptions(tls);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'TLS certificate reload failed; the listeners keep the previous certificate');
      return { ok: false, error: (err as Error).message };
    }
    for (const [name, server] of this.servers) if (isTlsListener(name)) server.setSecureContext(options);
    this.log.info({ cert: tls.cert }, 'TLS certificate reloaded');
    return { ok: true };
  }

  /** Hands a connection to its protocol's adapter, or closes it when there is none. */
  private dispatch(protocol: ProtocolName, stream: Duplex, origin: ConnectionOrigin): void {
    const adapter = this.state === 'running' ? this.adapters.get(protocol) : undefined;
    const max = this.options.config.limits.maxConnections;
    if (adapter && max > 0) {
      let open = 0;
      for (const a of this.adapters.values()) open += a.connectionCount();
      if (open >= max) {
        this.log.warn({ listener: origin.listener, remote: origin.remoteAddress, maxConnections: max }, 'connection limit reached (limits.maxConnections): connection closed');
        stream.destroy();
        return;
      }
    }
    if (adapter) {
      this.openStreams.set(stream, protocol);
      stream.on('close', this.streamClosed);
      adapter.accept(stream, origin);
      return;
    }
    this.log.warn(
      { listener: origin.listener, protocol, remote: origin.remoteAddress, remotePort: origin.remotePort, websocket: origin.websocket?.path },
      this.state === 'running' ? `no ${protocol} adapter yet: connection closed` : `broker is ${this.state}: connection closed`,
    );
    stream.destroy();
  }

  private health(): { status: string } & Record<string, unknown> {
    const connections = Object.fromEntries([...this.adapters].map(([p, a]) => [p, a.connectionCount()]));
    return { status: this.state === 'running' ? 'ok' : this.state, version: VERSION, connections };
  }

  private logReady(): void {
    // TLS listeners are named only when on, so the usual line stays as it was.
    const parts = LISTENER_NAMES.filter((name) => !isTlsListener(name) || this.listeners.has(name)).map((name) => {
      const bound = this.listeners.get(name);
      return bound ? `${name} ${formatHostPort(bound.host, bound.port)}` : `${name} off`;
    });
    const missing = LISTENER_NAMES.filter((n) => listenerProtocol(n) !== 'http' && this.listeners.has(n) && !this.adapters.has(listenerProtocol(n) as ProtocolName));
    const tail = missing.length ? `; no adapter yet, refusing: ${missing.join(', ')}` : '';
    this.log.info(
      {
        listeners: Object.fromEntries(this.listeners),
        adapters: [...this.adapters.keys()],
        dataDir: this.dataDir,
        version: VERSION,
      },
      `polybroker ready: ${parts.join(', ')} (data ${this.dataDir}, pid ${process.pid}${tail})`,
    );
  }

  /** Graceful stop: stop accepting, close adapters, flush and close storage, release the lock. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    await this.shutdown();
    this.state = 'stopped';
    this.log.info('polybroker stopped');
  }

  private async shutdown(): Promise<void> {
    await this.control?.close().catch(() => {});
    this.control = null;
    this.sampler?.stop();
    clearInterval(this.tlsWatch);
    clearInterval(this.bufferSweep);
    for (const server of this.servers.values()) server.stopAccepting();
    const closeTimeoutMs = this.options.closeTimeoutMs ?? 10_000;
    await Promise.all(
      [...this.adapters].map(async ([protocol, adapter]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), closeTimeoutMs)));
        try {
          const outcome = await Promise.race([adapter.close().then(() => 'closed' as const), timeout]);
          if (outcome === 'timeout') this.log.warn({ protocol, closeTimeoutMs }, 'adapter did not close in time; dropping its connections');
        } catch (err) {
          this.log.error({ err, protocol }, 'adapter failed to close');
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    this.adapters.clear();
    for (const server of this.servers.values()) server.destroyConnections();
    this.servers.clear();
    if (this.engine) {
      try {
        // Lets in-flight appends finish, flushes and fsyncs, closes every file.
        await this.engine.close();
      } catch (err) {
        this.log.error({ err }, 'closing storage failed');
      }
      this.engine = undefined;
    }
    this.lock?.release();
    this.lock = undefined;
  }
}
