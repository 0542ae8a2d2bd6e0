/**
 * The transaction coordinator (Kafka's TransactionCoordinator, one node): transactional id ->
 * producer id and epoch, the partitions and groups of the open transaction, and the two-phase
 * end: the Prepare state is made durable in `__transaction_state`, then a commit or abort marker
 * is appended to every partition of the transaction (which moves its last stable offset), the
 * offsets committed in the transaction are written to the group on commit, and the Complete state
 * is recorded. A new InitProducerId for the same id fences the older producer (epoch + 1) and
 * aborts its open transaction; a transaction open longer than its timeout is aborted the same way.
 * On start, transactions left in Prepare are completed and Ongoing ones aborted.
 */
import type { Logger } from 'pino';
import type { MessageOrigin, StoredRange, Vhost } from '../../../src/core/index.js';
import { ErrorCode } from '../mapping/errors.js';
import type { ProducerGuard } from '../producers/producer-guard.js';
import { encodeTransactionMarker } from '../producers/control-batch.js';
import { TransactionLog, type PendingOffset, type TxnRecord } from './transaction-log.js';

/** transaction.max.timeout.ms (Kafka's default, 15 minutes). */
export const MAX_TRANSACTION_TIMEOUT_MS = 900_000;
const MAX_EPOCH = 32766;
/** Markers are fsynced, and never routed (they are control records). */
const MARKER_OPTIONS = { durability: 'sync', route: false } as const;

export interface InitResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnRecord>();
  /** Serialises the state changes of one transactional id. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly log: TransactionLog;
  private timer: NodeJS.Timeout | null = null;
  /** Tail of the chain that routes committed transactions in commit order. */
  private routing: Promise<void> = Promise.resolve();

  constructor(
    private readonly vhost: () => Vhost,
    private readonly producers: ProducerGuard,
    private readonly newProducerId: () => number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.log = new TransactionLog(vhost);
  }

  /** Loads the durable state and finishes what a stop interrupted. */
  async recover(): Promise<void> {
    const all = await this.log.readAll();
    for (const [id, r] of all) {
      if (r.status === 'Dead') continue;
      this.txns.set(id, r);
      if (r.status === 'PrepareCommit' || r.status === 'PrepareAbort') await this.complete(r, r.status === 'PrepareCommit', true);
      else if (r.status === 'Ongoing') await this.abortTimedOut(r);
    }
    await this.closeOrphans();
  }

  /**
   * A transaction still open on a partition whose coordinator state is already complete (the
   * Complete record is written without waiting for the markers to be durable) or unknown: its
   * marker is written again with the recorded outcome; without a record it is aborted.
   */
  private async closeOrphans(): Promise<void> {
    const byProducer = new Map<number, TxnRecord>();
    for (const r of this.txns.values()) byProducer.set(r.producerId, r);
    const vhost = this.vhost();
    const durable: Promise<void>[] = [];
    const routes: StoredRange[] = [];
    for (const o of this.producers.openTransactions()) {
      const r = byProducer.get(o.producerId);
      const commit = r?.status === 'CompleteCommit' && r.partitions.includes(`${o.topic}\u0000${o.partition}`);
      const epoch = Math.max(o.epoch, r?.producerEpoch ?? 0);
      this.logger.info({ topic: o.topic, partition: o.partition, producerId: o.producerId, commit }, 'closing a transaction left open on a partition');
      const res = vhost.produce(o.topic, o.partition, encodeTransactionMarker(o.producerId, epoch, commit, this.now()), MARKER_OPTIONS);
      const first = this.producers.partition(o.topic, o.partition).ended(o.producerId, epoch, commit, res.baseOffset);
      if (commit && first >= 0) routes.push({ stream: o.topic, partition: o.partition, from: first, to: res.baseOffset, producerId: o.producerId });
      durable.push(res.durable);
    }
    await Promise.all(durable);
    if (routes.length > 0) await this.route(routes, true);
  }

  /**
   * Every `intervalMs`: aborts timed-out transactions, forgets transactional ids idle longer than
   * `idExpirationMs` and drops partition producer state idle longer than `producerExpirationMs`.
   */
  startTimeouts(idExpirationMs: number, producerExpirationMs: number, intervalMs = 1000): void {
    this.timer = setInterval(() => {
      void this.expire().then(() => this.expireIds(idExpirationMs));
      this.producers.expire(this.now() - producerExpirationMs);
    }, intervalMs);
    this.timer.unref();
  }

  /** transactional.id.expiration.ms: ids with no open transaction and no change for that long are forgotten (a Dead record). */
  async expireIds(expirationMs: number): Promise<void> {
    const before = this.now() - expirationMs;
    for (const [id, r] of this.txns) {
      if (r.status === 'Ongoing' || r.status === 'PrepareCommit' || r.status === 'PrepareAbort' || (r.updatedAt ?? 0) >= before) continue;
      await this.exclusive(id, async () => {
        const cur = this.txns.get(id);
        if (!cur || cur !== r) return;
        await this.log.write({ ...cur, status: 'Dead', updatedAt: this.now() });
        this.txns.delete(id);
      }).catch((err: unknown) => this.logger.error({ err, transactionalId: id }, 'expiring a transactional id failed'));
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    // Nothing is decided before the state is recovered after a start: an InitProducerId answered
    // from an empty map would hide a PrepareCommit left by the crash, whose markers would then be
    // written as aborts (a committed, acknowledged transaction lost).
    const run = async (): Promise<T> => {
      const recovering = this.producers.whenReady();
      if (recovering) await recovering;
      return fn();
    };
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(run, run);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }

  initProducerId(id: string, timeoutMs: number, producerId: number, producerEpoch: number, apiVersion: number): Promise<InitResult> {
    return this.exclusive(id, async () => {
      const fail = (errorCode: number): InitResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
      if (timeoutMs <= 0 || timeoutMs > MAX_TRANSACTION_TIMEOUT_MS) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
      let r = this.txns.get(id);
      if (r && producerId >= 0 && (producerId !== r.producerId || producerEpoch !== r.producerEpoch)) {
        // KIP-360: only the current producer may ask for a bump of its own epoch.
        return fail(apiVersion >= 4 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH);
      }
      if (r && (r.status === 'PrepareCommit' || r.status === 'PrepareAbort')) await this.complete(r, r.status === 'PrepareCommit');
      if (r && r.status === 'Ongoing') {
        // The previous producer's transaction is aborted under the new epoch, fencing it.
        r = this.bump(r);
        await this.end(r, false);
      } else if (r) {
        r = this.bump(r);
      } else {
        r = { transactionalId: id, producerId: this.newProducerId(), producerEpoch: 0, timeoutMs, status: 'Empty', partitions: [], offsets: {}, startedAt: 0 };
      }
      r = { ...r, timeoutMs, status: 'Empty', partitions: [], offsets: {} };
      await this.save(r);
      return { errorCode: ErrorCode.NONE, producerId: r.producerId, producerEpoch: r.producerEpoch };
    });
  }

  /** Epoch + 1, or a new producer id when the epoch is exhausted. */
  private bump(r: TxnRecord): TxnRecord {
    if (r.producerEpoch >= MAX_EPOCH) return { ...r, producerId: this.newProducerId(), producerEpoch: 0 };
    return { ...r, producerEpoch: r.producerEpoch + 1 };
  }

  /** Checks the producer of a transactional request; an error code or null. */
  private validate(r: TxnRecord | undefined, producerId: number, producerEpoch: number): number | null {
    if (!r) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (r.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== r.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (r.status === 'PrepareCommit' || r.status === 'PrepareAbort') return ErrorCode.CONCURRENT_TRANSACTIONS;
    return null;
  }

  /** AddPartitionsToTxn: one error code for every partition (Kafka fails the request as a whole). */
  addPartitions(id: string, producerId: number, producerEpoch: number, partitions: { topic: string; partition: number }[]): Promise<number> {
    return this.exclusive(id, async () => {
      const r = this.txns.get(id);
      const err = this.validate(r, producerId, producerEpoch);
      if (err !== null) return err === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : err;
      const set = new Set(r!.status === 'Ongoing' ? r!.partitions : []);
      const before = set.size;
      for (const p of partitions) set.add(`${p.topic}\u0000${p.partition}`);
      if (set.size === before && r!.status === 'Ongoing') return ErrorCode.NONE;
      const started = r!.status === 'Ongoing' ? r!.startedAt : this.now();
      await this.saveUnsynced({ ...r!, status: 'Ongoing', partitions: [...set], offsets: r!.status === 'Ongoing' ? r!.offsets : {}, startedAt: started });
      return ErrorCode.NONE;
    });
  }

  addOffsets(id: string, producerId: number, producerEpoch: number, group: string): Promise<number> {
    return this.exclusive(id, async () => {
      const r = this.txns.get(id);
      const err = this.validate(r, producerId, producerEpoch);
      if (err !== null) return err === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : err;
      const ongoing = r!.status === 'Ongoing';
      if (ongoing && r!.offsets[group]) return ErrorCode.NONE;
      const started = ongoing ? r!.startedAt : this.now();
      const partitions = ongoing ? r!.partitions : [];
      const offsets = ongoing ? r!.offsets : {};
      await this.saveUnsynced({ ...r!, status: 'Ongoing', partitions, offsets: { ...offsets, [group]: [] }, startedAt: started });
      return ErrorCode.NONE;
    });
  }

  /** TxnOffsetCommit: offsets held in the transaction until it commits. */
  commitOffsets(id: string, producerId: number, producerEpoch: number, group: string, offsets: PendingOffset[]): Promise<number> {
    return this.exclusive(id, async () => {
      const r = this.txns.get(id);
      if (!r || r.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      if (r.producerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
      if (r.status !== 'Ongoing' || !r.offsets[group]) return ErrorCode.INVALID_TXN_STATE;
      const merged = new Map(r.offsets[group]!.map((o) => [`${o.topic}\u0000${o.partition}`, o]));
      for (const o of offsets) merged.set(`${o.topic}\u0000${o.partition}`, o);
      await this.saveUnsynced({ ...r, offsets: { ...r.offsets, [group]: [...merged.values()] } });
      return ErrorCode.NONE;
    });
  }

  /** `origin`: the committing connection's, given to the routed copies (the producer's own identity). */
  endTxn(id: string, producerId: number, producerEpoch: number, commit: boolean, origin?: MessageOrigin): Promise<number> {
    return this.exclusive(id, async () => {
      const r = this.txns.get(id);
      if (!r || r.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      if (r.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
      switch (r.status) {
        case 'Ongoing':
          await this.end(r, commit, origin);
          return ErrorCode.NONE;
        case 'CompleteCommit':
          return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE; // a retried EndTxn
        case 'CompleteAbort':
          return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
        case 'PrepareCommit':
        case 'PrepareAbort':
          return ErrorCode.CONCURRENT_TRANSACTIONS;
        default:
          return ErrorCode.INVALID_TXN_STATE;
      }
    });
  }

  /** Prepare (durable), then markers and offsets, then Complete. */
  private async end(r: TxnRecord, commit: boolean, origin?: MessageOrigin): Promise<void> {
    const prepared: TxnRecord = { ...r, status: commit ? 'PrepareCommit' : 'PrepareAbort' };
    await this.save(prepared);
    await this.complete(prepared, commit, false, origin);
  }

  /** `origin` is known only for an EndTxn: a commit completed after a restart routes copies without one. */
  private async complete(r: TxnRecord, commit: boolean, recovering = false, origin?: MessageOrigin): Promise<void> {
    const vhost = this.vhost();
    const offsetsDurable: Promise<void>[] = [];
    const routes: StoredRange[] = [];
    const now = this.now();
    for (const key of r.partitions) {
      const [topic, p] = key.split('\u0000') as [string, string];
      const partition = Number(p);
      const info = vhost.stream(topic);
      if (!info || partition >= info.partitions) continue; // deleted meanwhile
      const producers = this.producers.partition(topic, partition);
      const marker = encodeTransactionMarker(r.producerId, r.producerEpoch, commit, now);
      const res = vhost.produce(topic, partition, marker, MARKER_OPTIONS);
      let first = producers.ended(r.producerId, r.producerEpoch, commit, res.baseOffset);
      let end = res.baseOffset;
      if (first < 0 && recovering && commit) {
        // Completing a PrepareCommit after a restart: the marker was already written before the
        // stop, but (Complete not being recorded) its records were not routed yet.
        const last = producers.lastCommitted.get(r.producerId);
        if (last !== undefined) [first, end] = last;
      }
      if (commit && first >= 0) routes.push({ stream: topic, partition, from: first, to: end, producerId: r.producerId });
      res.durable.catch((err: unknown) => this.logger.error({ err, topic, partition }, 'transaction marker not durable'));
    }
    if (commit) {
      for (const [group, offsets] of Object.entries(r.offsets)) {
        for (const o of offsets) if (vhost.stream(o.topic)) offsetsDurable.push(vhost.commitOffset(group, o.topic, o.partition, o.offset, o.metadata));
      }
    }
    // The outcome is durable since Prepare: neither the markers nor Complete are waited for (a
    // restart completes Prepare again, and closeOrphans rewrites a marker a crash lost). The
    // offsets are, so that a Complete record never stands for offsets that were lost.
    await Promise.all(offsetsDurable);
    // The committed records reach AMQP/MQTT/STOMP only now, in commit order, and the Complete
    // record is appended in the same tick as the routed copies (one group commit): a restart
    // before it completes the PrepareCommit again and routes again, skipping the copies a kill
    // left on disk (each carries its record's identity); after it, never.
    if (routes.length > 0) await this.route(routes, recovering, origin);
    // Complete keeps the partitions: closeOrphans commits a lost marker only on those.
    const done: TxnRecord = { ...r, status: commit ? 'CompleteCommit' : 'CompleteAbort', offsets: {}, updatedAt: this.now() };
    this.txns.set(r.transactionalId, done);
    this.log.append(done).catch((err: unknown) => this.logger.error({ err, transactionalId: r.transactionalId }, 'transaction state not durable'));
  }

  /** Routes committed records; chained so that transactions are routed in the order they committed. */
  private route(routes: StoredRange[], afterRestart = false, origin?: MessageOrigin): Promise<void> {
    const vhost = this.vhost();
    const next = this.routing.then(() => vhost.routeStored(routes, origin !== undefined ? { skipRouted: afterRestart, origin } : { skipRouted: afterRestart })).then(
      () => undefined,
      (err: unknown) => this.logger.error({ err, routes }, 'routing committed transaction records failed'),
    );
    this.routing = next;
    return next;
  }

  private async abortTimedOut(r: TxnRecord): Promise<void> {
    await this.end(this.bump(r), false);
  }

  /** Aborts transactions open longer than their timeout (Kafka bumps the epoch: the producer is fenced). */
  private async expire(): Promise<void> {
    const now = this.now();
    for (const [id, r] of this.txns) {
      if (r.status !== 'Ongoing' || now - r.startedAt <= r.timeoutMs) continue;
      await this.exclusive(id, async () => {
        const cur = this.txns.get(id);
        if (!cur || cur.status !== 'Ongoing' || now - cur.startedAt <= cur.timeoutMs) return;
        this.logger.info({ transactionalId: id, producerId: cur.producerId }, 'transaction timed out: aborting');
        await this.abortTimedOut(cur);
      }).catch((err: unknown) => this.logger.error({ err, transactionalId: id }, 'aborting a timed-out transaction failed'));
    }
  }

  /**
   * The changes of an Ongoing transaction (partitions, groups, held offsets) are answered once
   * appended, without waiting for their fsync: everything that depends on them is appended after
   * them in the same commit log, so is durable only once they are. A transactional batch is
   * acknowledged when durable; the Prepare record is waited for before EndTxn answers; and a
   * restart aborts whatever is still Ongoing. Kafka waits for its log write here; dropping that
   * wait saves one fsync round trip per transaction (AddPartitionsToTxn precedes every one).
   */
  private async saveUnsynced(r: TxnRecord): Promise<void> {
    const stamped = { ...r, updatedAt: this.now() };
    const { durable } = await this.log.queue(stamped);
    durable.catch((err: unknown) => this.logger.error({ err, transactionalId: r.transactionalId }, 'transaction state not durable'));
    this.txns.set(r.transactionalId, stamped);
  }

  private async save(r: TxnRecord): Promise<void> {
    const stamped = { ...r, updatedAt: this.now() };
    await this.log.write(stamped);
    this.txns.set(r.transactionalId, stamped);
  }

  /** State of a transactional id (tests, DescribeTransactions). */
  state(id: string): Readonly<TxnRecord> | undefined {
    return this.txns.get(id);
  }
}
