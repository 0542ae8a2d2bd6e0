import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Peer brokers for side-by-side runs, started and stopped through the scripts in
 * ../shared/peers/ (README there). The scripts are idempotent; `stop()` runs the matching
 * stop script, which stops only what the start script started.
 */

const run = promisify(execFile);

export type PeerName = 'rabbitmq' | 'mosquitto' | 'aedes' | 'activemq';

/** Loopback ports each peer script listens on by default. */
export const PEER_PORTS: Record<PeerName, Record<string, number>> = {
  rabbitmq: { amqp: 6672, mqtt: 2883, stomp: 62613, stream: 6552 },
  mosquitto: { mqtt: 2884 },
  aedes: { mqtt: 2885 },
  activemq: { stomp: 2613 },
};

export interface Peer {
  name: PeerName;
  ports: Record<string, number>;
  /** The pid of the broker process (the one listening on its first port), for CPU metering. */
  pid: number | undefined;
  /** What the start script printed. */
  banner: string;
  stop(): Promise<void>;
}

/** The shared peers directory: $POLYBROKER_PEERS_DIR, else ../shared/peers beside the checkout. */
export function peersDir(): string {
  if (process.env.POLYBROKER_PEERS_DIR) return process.env.POLYBROKER_PEERS_DIR;
  return resolve(checkoutRoot(), '../shared/peers');
}

/** The checkout root: the nearest directory above this file (bench/ or dist/bench/) with a package.json. */
export function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export async function startPeer(name: PeerName): Promise<Peer> {
  const dir = peersDir();
  // Installing a peer from apt or npm may take minutes the first time.
  const { stdout } = await run('bash', [resolve(dir, `start-${name}.sh`)], { timeout: 600_000 });
  const ports = PEER_PORTS[name];
  const firstPort = Object.values(ports)[0]!;
  return {
    name,
    ports,
    pid: pidListeningOn(firstPort),
    banner: stdout.trim(),
    async stop() {
      await run('bash', [resolve(dir, `stop-${name}.sh`)], { timeout: 120_000 });
    },
  };
}

/**
 * The pid of the process with a listening TCP socket on `port`, found through /proc:
 * the socket's inode in /proc/net/tcp{,6}, then the process holding that inode as an fd.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1]!.split(':')[1]!, 16);
      // State 0A is LISTEN.
      if (localPort === port && cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1]!)) return Number(entry);
      } catch {
        // The fd closed while we looked.
      }
    }
  }
  return undefined;
}
