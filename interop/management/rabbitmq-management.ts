import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../test/helpers/broker.js';

const run = promisify(execFile);

/**
 * A RabbitMQ node of its own (not the shared benchmark peer: the management plugin's stats
 * collection would tax everyone's benchmarks), started with the shared peer script under
 * another node name and other ports, with rabbitmq_management enabled.
 */
const ENV = {
  PEER_RABBIT_NODE: 'rabbit-mgmt@localhost',
  PEER_RABBIT_AMQP: '16782',
  PEER_RABBIT_MQTT: '16793',
  PEER_RABBIT_STOMP: '16723',
  PEER_RABBIT_STREAM: '16762',
  PEER_RABBIT_DIST: '26792',
  PEERS_HOME: '/tmp/polybroker-peers-mgmt',
};
const DIR = `${ENV.PEERS_HOME}/rabbitmq-rabbit-mgmt`;

export interface RabbitManagement {
  amqpPort: number;
  httpPort: number;
  stop(): Promise<void>;
}

function peersDir(): string {
  const candidates = [process.env.POLYBROKER_PEERS_DIR, resolve(repoRoot, '../shared/peers'), resolve(repoRoot, '../../shared/peers')];
  const found = candidates.find((d) => d && existsSync(resolve(d, 'start-rabbitmq.sh')));
  if (!found) throw new Error(`start-rabbitmq.sh not found (tried ${candidates.filter(Boolean).join(', ')}); set POLYBROKER_PEERS_DIR`);
  return found;
}

/** The management listener's port: the script configures port 0, so read what the node bound. */
async function httpPort(): Promise<number> {
  const pid = readFileSync(`${DIR}/rabbitmq.pid`, 'utf8').trim();
  const known = new Set([ENV.PEER_RABBIT_AMQP, ENV.PEER_RABBIT_MQTT, ENV.PEER_RABBIT_STOMP, ENV.PEER_RABBIT_STREAM, ENV.PEER_RABBIT_DIST]);
  for (let i = 0; i < 100; i++) {
    const { stdout } = await run('ss', ['-ltnpH']);
    for (const line of stdout.split('\n')) {
      if (!line.includes(`pid=${pid},`)) continue;
      const port = line.split(/\s+/)[3]?.split(':').pop();
      if (port && !known.has(port)) return Number(port);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('rabbitmq_management did not bind a port');
}

export async function startRabbitManagement(): Promise<RabbitManagement> {
  const env = { ...process.env, ...ENV, RABBITMQ_ENABLED_PLUGINS_FILE: `${DIR}/enabled_plugins` };
  await run('bash', [resolve(peersDir(), 'start-rabbitmq.sh')], { env, timeout: 600_000 });
  await run('rabbitmq-plugins', ['-n', ENV.PEER_RABBIT_NODE, 'enable', 'rabbitmq_management'], { env, timeout: 120_000 });
  const port = await httpPort();
  return {
    amqpPort: Number(ENV.PEER_RABBIT_AMQP),
    httpPort: port,
    async stop() {
      await run('bash', [resolve(peersDir(), 'stop-rabbitmq.sh')], { env, timeout: 120_000 });
    },
  };
}
