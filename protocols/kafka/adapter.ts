/**
 * The Kafka protocol adapter as the broker sees it (src/listeners/adapter.ts): accepts
 * connections from the `kafka` listener and runs a KafkaSession on each.
 */
import type { Duplex } from 'node:stream';
import type { Core } from '../../src/core/index.js';
import type { AdapterContext, ConnectionOrigin, ProtocolAdapter } from '../../src/listeners/adapter.js';
import { handlerTable } from './handlers/index.js';
import { groupMemberships } from './group/membership-view.js';
import { KafkaNode } from './node.js';
import { defaultKafkaOptions, type KafkaOptions } from './options.js';
import { KafkaSession } from './session.js';

/** The adapter, with the Kafka node its sessions share (issue 9 installs its produce guard there). */
export interface KafkaAdapter extends ProtocolAdapter {
  readonly node: KafkaNode;
}

export function createKafkaAdapter(core: Core, ctx: AdapterContext, overrides: Partial<KafkaOptions> = {}): KafkaAdapter {
  const fromConfig: Partial<KafkaOptions> = ctx.config?.kafka ?? {};
  const options: KafkaOptions = { ...defaultKafkaOptions, ...fromConfig, ...overrides };
  const log = ctx.log.child({ protocol: 'kafka' });
  const node = new KafkaNode(core, options, log, handlerTable());
  node.coordinator.startRetention();
  if (core.hasVhost(options.vhost)) {
    // Partition producer state first (open transactions), then the coordinator finishes what a stop interrupted.
    void node.producers.recover(
      node.vhost(),
      (err) => log.error({ err }, 'rebuilding producer state failed'),
      async () => {
        log.info(node.producers.lastRecovery, 'producer state rebuilt');
        await node.transactions.recover();
      },
    );
  }
  // Producer-state snapshots, so that a start replays only the log written after the last one.
  const snapshotProducers = (): Promise<void> =>
    core.hasVhost(options.vhost) ? node.producers.snapshot(node.vhost()).catch((err: unknown) => log.warn({ err }, 'producer state snapshot failed')) : Promise.resolve();
  const snapshotTimer = options.producerSnapshotIntervalMs > 0 ? setInterval(() => void snapshotProducers(), options.producerSnapshotIntervalMs) : null;
  snapshotTimer?.unref();
  node.transactions.startTimeouts(options.transactionalIdExpirationMs, options.producerIdExpirationMs);
  core.setLastStableOffsetHook((vhost, stream, partition, hw) => (vhost === options.vhost ? node.producers.lastStableOffset(stream, partition, hw) : hw));
  core.setGroupMembershipSource((vhost) => (vhost === options.vhost ? groupMemberships(node.coordinator) : []));
  const sessions = new Set<KafkaSession>();
  const maxOutputBytes = ctx.config?.limits.maxConnectionWriteBufferBytes;
  let nextId = 1;
  let closing = false;

  return {
    protocol: 'kafka',
    node,
    accept(stream: Duplex, origin: ConnectionOrigin): void {
      if (closing) {
        stream.destroy();
        return;
      }
      const session = new KafkaSession(node, stream, origin, nextId++, (s) => sessions.delete(s));
      if (maxOutputBytes !== undefined) session.maxOutputBytes = maxOutputBytes;
      sessions.add(session);
      session.log.debug('kafka connection accepted');
    },
    connectionCount(): number {
      return sessions.size;
    },
    closeOverfull(stream: Duplex): boolean {
      for (const s of sessions) {
        if (!s.owns(stream)) continue;
        s.closeOverfull();
        return true;
      }
      return false;
    },
    async close(): Promise<void> {
      closing = true;
      for (const s of [...sessions]) s.close();
      node.coordinator.close();
      node.transactions.close();
      if (snapshotTimer !== null) {
        clearInterval(snapshotTimer);
        await snapshotProducers();
      }
      core.setLastStableOffsetHook(null);
      core.setGroupMembershipSource(null);
      node.stopAlarms();
    },
  };
}
