/**
 * The embedded store: one SQLite file in WAL mode, one connection for requests, writes
 * grouped by the commit queue, and a checkpointer thread that keeps WAL checkpoints off
 * the request path. An exclusive lock on a side file (`herald.lock`) means exactly one
 * Herald process owns a data directory; that is what lets leases live in memory and a
 * restart reclaim them all at once.
 *
 * Every statement here writes a bound limit as `LIMIT +?`, never `LIMIT ?`: SQLite compiles
 * a bare parameter there with the value bound at the time and compiles the statement again
 * each time that parameter is bound, which better-sqlite3 does on every run. A lease query
 * cost 70-130 µs that way (test/unit/sqlite-statements.test.ts guards it).
 */
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../../errors.js';
import type { MoveTask, Queue, QueueStats, ReceivedMessage, Subscription, Topic, TopicConfig } from '../../types.js';
import type {
  CommitStats,
  AcceptResult,
  AttemptRecord,
  AckResult,
  AttemptQuery,
  DeliveryOutcome,
  LeasedDelivery,
  PublishEntry,
  ReceiveOptions,
  RedriveResult,
  SendEntry,
  Store,
} from '../store.js';
import { Checkpointer } from './checkpointer.js';
import { CommitQueue, WalFile } from './commit-queue.js';
import { Deliveries } from './deliveries.js';
import { encodeMessageAttributes } from '../../message-attributes.js';
import { migrate } from './migrations.js';
import { QueueMessages } from './queue-messages.js';
import { copyBody, deadLetterAttributes, deliveryTexts, stillOwed } from '../published-message.js';
import { restoredSubscription } from '../restored-subscription.js';
import {
  encodeAttributes,
  jsonObject,
  moveTaskValues,
  queueParams,
  sequenceNumber,
  subscriptionParams,
  toMoveTask,
  toQueue,
  toSubscription,
  toTopic,
  type MoveTaskRow,
  type QueueRow,
  type SubscriptionRow,
  type TopicRow,
} from './rows.js';

export interface SqliteStoreOptions {
  /** Directory holding `herald.db`; `:memory:` for throwaway stores. */
  dataDir: string;
  /** Page cache size in MiB (bounds memory however large the backlog). */
  cacheMiB?: number;
}

const queueNotFound = (name: string) => new HeraldError('queue_not_found', `queue "${name}" does not exist`);

/** An accepted message's answer: its sequence number only on FIFO topics and queues. */
const accepted = (id: string, duplicate: boolean, sequence: string | null | undefined): AcceptResult =>
  sequence == null ? { id, duplicate } : { id, duplicate, sequenceNumber: sequence };

export class SqliteStore implements Store {
  private db!: Database.Database;
  private writes!: CommitQueue;
  private qm!: QueueMessages;
  private dl!: Deliveries;
  private stmts!: ReturnType<typeof prepareMetadata>;
  private lock: Database.Database | null = null;
  private checkpointer: Checkpointer | null = null;
  /** Queue name -> row; queues change rarely and every send/receive needs the qid. */
  private queues = new Map<string, QueueRow>();
  private open_ = false;

  constructor(private readonly options: SqliteStoreOptions) {}

  async open(): Promise<void> {
    const memory = this.options.dataDir === ':memory:';
    const file = memory ? ':memory:' : join(this.options.dataDir, 'herald.db');
    if (!memory) {
      mkdirSync(this.options.dataDir, { recursive: true });
      this.lock = takeDirectoryLock(this.options.dataDir);
    }
    const db = new Database(file, { timeout: 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`cache_size = -${(this.options.cacheMiB ?? 64) * 1024}`);
      // Checkpoints run on the checkpointer thread, never inside a request's commit.
      db.pragma(`wal_autocheckpoint = ${memory ? 1000 : 0}`);
      db.pragma('journal_size_limit = 67108864'); // give back WAL space beyond 64 MiB after a restart
      migrate(db);
      // Herald never runs ANALYZE, but someone may have: with STAT4 samples (better-sqlite3
      // builds SQLite with STAT4) every statement comparing an indexed column with a parameter
      // is compiled again each time it is bound, as with a bare `LIMIT ?` (see above).
      // sqlite_stat1's row counts do no such thing and stay.
      db.exec('DROP TABLE IF EXISTS sqlite_stat4');
    } catch (error) {
      db.close();
      this.lock?.close();
      throw error;
    }
    if (!memory) {
      // RESTART past ~16 MiB of WAL (4 KiB pages): bounded disk and fast reads. (Once a second
      // instead of every 200 ms was measured twice, for throughput and for publish latency,
      // without a difference that held up: docs/benchmarks.md.)
      this.checkpointer = new Checkpointer(file, { intervalMs: 200, restartFrames: 4096 }, (message) => {
        process.emitWarning(`WAL checkpoint failed: ${message}`);
      });
    }
    this.db = db;
    // Durable commits are fsync'd on the thread pool (see commit-queue.ts), the WAL file's
    // directory entry once here.
    const wal = memory ? null : openWal(db, this.options.dataDir, `${file}-wal`);
    this.writes = new CommitQueue(db, { wal });
    this.qm = new QueueMessages(db);
    this.dl = new Deliveries(db);
    this.stmts = prepareMetadata(db);
    this.dl.recoverLeases();
    for (const row of this.stmts.allQueues.all() as QueueRow[]) this.queues.set(row.name, row);
    this.open_ = true;
  }

  async close(): Promise<void> {
    if (!this.open_) return;
    this.open_ = false;
    await this.checkpointer?.stop(); // first, so the last writes never wait on its lock
    await this.writes.close();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
    this.lock?.close();
  }

  sync(): Promise<void> {
    return this.writes.sync();
  }

  healthy(): boolean {
    return this.open_ && !this.writes.failed;
  }

  /** Group-commit statistics (for metrics and tests). */
  commitStats(): CommitStats {
    return { ...this.writes.stats };
  }

  // --- Topics ---------------------------------------------------------------------------

  createTopic(name: string, nowMs: number, config?: TopicConfig): Promise<{ topic: Topic; created: boolean }> {
    return this.writes.enqueue(() => {
      const fifo = config?.fifo ? 1 : 0;
      const cbd = config?.contentBasedDeduplication ? 1 : 0;
      const created = this.stmts.insertTopic.run(name, nowMs, fifo, cbd).changes === 1;
      return { topic: toTopic(this.stmts.getTopic.get(name) as TopicRow), created };
    }, true);
  }

  updateTopic(name: string, config: TopicConfig): Promise<boolean> {
    return this.writes.enqueue(
      () => this.stmts.updateTopic.run(config.contentBasedDeduplication ? 1 : 0, name).changes === 1,
      true,
    );
  }

  async getTopic(name: string): Promise<Topic | null> {
    const row = this.stmts.getTopic.get(name) as TopicRow | undefined;
    return row ? toTopic(row) : null;
  }

  async listTopics(limit: number, after = ''): Promise<Topic[]> {
    return (this.stmts.listTopics.all(after, limit) as TopicRow[]).map(toTopic);
  }

  updateTopicSettings(topic: Topic): Promise<boolean> {
    return this.writes.enqueue(
      () =>
        this.stmts.updateTopicSettings.run(jsonObject(topic.attributes), jsonObject(topic.tags), topic.name).changes ===
        1,
      true,
    );
  }

  deleteTopic(name: string): Promise<boolean> {
    return this.writes.enqueue(() => {
      for (const { id } of this.stmts.subscriptionIdsOfTopic.all(name) as Array<{ id: string }>) {
        this.dl.dropSubscription(id);
      }
      // Its unsubscribed subscriptions go too: a topic made again under the name starts empty.
      this.stmts.forgetUnsubscribedOfTopic.run(name);
      return this.stmts.deleteTopic.run(name).changes === 1; // subscriptions cascade
    }, true);
  }

  // --- Subscriptions --------------------------------------------------------------------

  createSubscription(sub: Subscription): Promise<void> {
    return this.writes.enqueue(() => {
      this.stmts.insertSubscription.run(subscriptionParams(sub));
    }, true);
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const row = this.stmts.getSubscription.get(id) as SubscriptionRow | undefined;
    return row ? toSubscription(row) : null;
  }

  async listSubscriptions(topic: string): Promise<Subscription[]> {
    return (this.stmts.subscriptionsOfTopic.all(topic) as SubscriptionRow[]).map(toSubscription);
  }

  async listAllSubscriptions(): Promise<Subscription[]> {
    return (this.stmts.allSubscriptions.all() as SubscriptionRow[]).map(toSubscription);
  }

  async countSubscriptions(topic: string): Promise<number> {
    return (this.stmts.countSubscriptions.get(topic) as { n: number }).n;
  }

  updateSubscription(sub: Subscription): Promise<void> {
    return this.writes.enqueue(() => {
      this.stmts.updateSubscription.run(subscriptionParams(sub));
    }, true);
  }

  deleteSubscription(id: string, keep?: { token: string; untilMs: number }): Promise<boolean> {
    return this.writes.enqueue(() => {
      const row = keep ? (this.stmts.getSubscription.get(id) as SubscriptionRow | undefined) : undefined;
      if (row && keep) {
        const sub = toSubscription(row);
        this.stmts.keepUnsubscribed.run(keep.token, sub.topic, JSON.stringify(sub), keep.untilMs);
      }
      this.dl.dropSubscription(id);
      return this.stmts.deleteSubscription.run(id).changes === 1;
    }, true);
  }

  restoreUnsubscribed(
    topic: string,
    token: string,
    nowMs: number,
  ): Promise<{ subscription: Subscription; restored: boolean } | null> {
    return this.writes.enqueue(() => {
      const row = this.stmts.takeUnsubscribed.get(token, topic, nowMs) as { subscription: string } | undefined;
      if (!row) return null;
      const kept = JSON.parse(row.subscription) as Subscription;
      const again = (this.stmts.subscriptionsOfTopic.all(topic) as SubscriptionRow[])
        .map(toSubscription)
        .find((s) => s.protocol === kept.protocol && s.endpoint === kept.endpoint);
      if (again) return { subscription: again, restored: false };
      const dlq = kept.deadLetterQueue;
      const restored = restoredSubscription(kept, dlq !== null && this.stmts.getQueue.get(dlq) !== undefined);
      this.stmts.insertSubscription.run(subscriptionParams(restored));
      return { subscription: restored, restored: true };
    }, true);
  }

  // --- Queues ---------------------------------------------------------------------------

  createQueue(queue: Queue): Promise<{ queue: Queue; created: boolean }> {
    return this.writes.enqueue(() => {
      const created = this.stmts.insertQueue.run(queueParams(queue)).changes === 1;
      const row = this.stmts.getQueue.get(queue.name) as QueueRow;
      this.queues.set(row.name, row);
      return { queue: toQueue(row), created };
    }, true);
  }

  async getQueue(name: string): Promise<Queue | null> {
    const row = this.queues.get(name);
    return row ? toQueue(row) : null;
  }

  async listQueues(): Promise<Queue[]> {
    return [...this.queues.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(toQueue);
  }

  updateQueue(queue: Queue): Promise<void> {
    return this.writes.enqueue(() => {
      this.stmts.updateQueue.run(queueParams(queue));
      this.queues.set(queue.name, this.stmts.getQueue.get(queue.name) as QueueRow);
    }, true);
  }

  deleteQueue(name: string): Promise<boolean> {
    return this.writes.enqueue(() => {
      const row = this.queues.get(name);
      if (!row) return false;
      this.qm.purge(row.qid);
      this.stmts.deleteQueue.run(name);
      this.queues.delete(name);
      return true;
    }, true);
  }

  async queueStats(name: string, nowMs: number): Promise<QueueStats> {
    return this.qm.stats(this.qid(name), nowMs);
  }

  async queueDepths(nowMs: number): Promise<Array<{ queue: string } & QueueStats>> {
    return [...this.queues.values()].map((row) => ({ queue: row.name, ...this.qm.stats(row.qid, nowMs) }));
  }

  // --- Accepting messages ---------------------------------------------------------------

  publish(entries: PublishEntry[], idempotencyWindowMs: number, nowMs: number): Promise<AcceptResult[]> {
    return this.writes.enqueue(() => {
      // Whether each subscription owed a delivery or a copy still exists (see stillOwed), asked
      // once per write: writes run one after another, so the answer holds until this commits.
      const known = new Map<string, boolean>();
      const live = (id: string) => {
        let alive = known.get(id);
        if (alive === undefined) known.set(id, (alive = this.stmts.subscriptionExists.get(id) !== undefined));
        return alive;
      };
      return this.dl.batchInline(() =>
        entries.map((e): AcceptResult => {
          const scope = `topic:${e.topic}`;
          if (e.idempotencyKey) {
            const hit = this.idempotencyHit(scope, e.idempotencyKey, idempotencyWindowMs, nowMs);
            if (hit) return hit;
          }
          let sequence: string | undefined;
          if (e.sequenced) {
            const row = this.stmts.nextTopicSequence.get(e.topic) as { last_sequence: number } | undefined;
            if (!row) return { error: { code: 'topic_not_found', message: `topic "${e.topic}" does not exist` } };
            sequence = sequenceNumber(row.last_sequence);
          }
          if (e.idempotencyKey) this.claimIdempotencyKey(scope, e.idempotencyKey, e.id, sequence, nowMs);
          const attributes = encodeAttributes(e.attributes, e);
          for (const { body, deliveries } of deliveryTexts(e)) {
            const owed = stillOwed(deliveries, live);
            if (owed.length > 0)
              this.dl.create({ id: e.id, topic: e.topic, body, attributes, createdAtMs: e.createdAtMs }, owed, nowMs);
          }
          // In the order of the batch, so a FIFO queue's copies keep the publisher's order.
          for (const copy of e.queueCopies) {
            if (copy.subscriptionId !== undefined && !live(copy.subscriptionId)) continue;
            const row = this.queues.get(copy.queue);
            if (!row) continue; // the queue was deleted after the subscription was made
            this.qm.insertWithSource(
              row.qid,
              {
                id: e.id,
                body: copyBody(copy.body, sequence),
                attributes: encodeAttributes(copy.attributes),
                sentAtMs: nowMs,
                visibleAtMs: copy.visibleAtMs,
                groupId: copy.groupId,
                dedupId: copy.deduplicationId,
              },
              null,
              null,
              null,
              row.fifo === 1,
              nowMs,
              encodeMessageAttributes(copy.messageAttributes),
            );
          }
          return accepted(e.id, false, sequence);
        }),
      );
    }, true);
  }

  sendToQueue(
    queue: string,
    entries: SendEntry[],
    idempotencyWindowMs: number,
    nowMs: number,
  ): Promise<AcceptResult[]> {
    return this.writes.enqueue(() => {
      const qid = this.qid(queue);
      const fifo = this.queues.get(queue)!.fifo === 1;
      // A standard queue's sends without a deduplication key, the common case, need no look
      // at anything: inserted in batches, in order.
      if (!fifo && entries.every((e) => !e.idempotencyKey)) {
        this.qm.insertPlain(qid, entries);
        return entries.map((e) => accepted(e.id, false, undefined));
      }
      return entries.map((e): AcceptResult => {
        // The domain requires a group on FIFO queues; a message without one would never be received.
        if (fifo && !e.groupId)
          return { error: { code: 'invalid_request', message: 'messageGroupId is required on a FIFO queue' } };
        const scope = `queue:${queue}`;
        if (e.idempotencyKey) {
          const hit = this.idempotencyHit(scope, e.idempotencyKey, idempotencyWindowMs, nowMs);
          if (hit) return hit;
        }
        const seq = this.qm.insert(qid, e, fifo, nowMs);
        const sequence = fifo ? sequenceNumber(seq) : undefined;
        if (e.idempotencyKey) this.claimIdempotencyKey(scope, e.idempotencyKey, e.id, sequence, nowMs);
        return accepted(e.id, false, sequence);
      });
    }, true);
  }

  /**
   * The answer for a key used within the window: the first message's id and, on FIFO topics
   * and queues, its sequence number (as SQS and SNS answer a duplicate).
   */
  private idempotencyHit(scope: string, key: string, windowMs: number, nowMs: number): AcceptResult | null {
    const hit = this.stmts.getIdempotencyKey.get(scope, key, nowMs - windowMs) as
      { message_id: string; sequence_number: string | null } | undefined;
    return hit ? accepted(hit.message_id, true, hit.sequence_number) : null;
  }

  /** Claims the key for a message just accepted (in the same transaction, after `idempotencyHit` missed). */
  private claimIdempotencyKey(scope: string, key: string, id: string, sequence: string | undefined, nowMs: number) {
    this.stmts.putIdempotencyKey.run(scope, key, id, sequence ?? null, nowMs);
  }

  // --- Consuming queues -----------------------------------------------------------------

  receive(queue: Queue, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
    return this.writes.enqueue(() => {
      const qid = this.qid(queue.name);
      const dlqRow = queue.deadLetterQueue ? this.queues.get(queue.deadLetterQueue) : undefined;
      const dlq = dlqRow ? { qid: dlqRow.qid, fifo: dlqRow.fifo === 1 } : undefined;
      return this.qm.receive(qid, queue, dlq, opts.max, opts.visibilityMs, opts.nowMs);
    }, false);
  }

  ack(queue: string, receipts: string[]): Promise<AckResult> {
    return this.writes.enqueue(() => {
      const row = this.queues.get(queue);
      if (!row) throw queueNotFound(queue);
      return this.qm.ack(row.qid, receipts, row.fifo === 1);
    }, false);
  }

  changeVisibility(queue: string, receipt: string, visibleAtMs: number): Promise<boolean> {
    return this.writes.enqueue(() => this.qm.changeVisibility(this.qid(queue), receipt, visibleAtMs), false);
  }

  purge(queue: string): Promise<number> {
    return this.writes.enqueue(() => this.qm.purge(this.qid(queue)), true);
  }

  async nextVisibleAt(queue: string): Promise<number | null> {
    const qid = this.qid(queue);
    // A FIFO queue's visible messages may all wait behind in-flight heads: its groups say when.
    return this.queues.get(queue)!.fifo === 1 ? this.qm.groups.nextAvailableAt(qid) : this.qm.nextVisibleAt(qid);
  }

  redrive(deadLetterQueue: string, max: number, nowMs: number, destination?: string): Promise<RedriveResult> {
    return this.writes.enqueue(() => {
      const dlq = this.qid(deadLetterQueue);
      let moved = 0;
      const queues = new Set<string>();
      const subscriptions = new Set<string>();
      const dest = destination === undefined ? undefined : this.queues.get(destination);
      if (destination !== undefined && !dest) throw queueNotFound(destination);
      for (const r of this.qm.oldest(dlq, max)) {
        if (dest !== undefined) {
          this.qm.moveTo(r, dlq, { qid: dest.qid, fifo: dest.fifo === 1 }, nowMs);
          queues.add(destination!);
          moved++;
        } else if (r.source?.startsWith('queue:')) {
          const target = this.queues.get(r.source.slice(6));
          if (!target) continue;
          this.qm.moveTo(r, dlq, { qid: target.qid, fifo: target.fifo === 1 }, nowMs);
          queues.add(target.name);
          moved++;
        } else if (r.source?.startsWith('subscription:')) {
          const sub = this.stmts.getSubscription.get(r.source.slice(13)) as SubscriptionRow | undefined;
          if (!sub) continue;
          // A fresh delivery with the same message id: receivers dedupe on webhook-id.
          this.dl.create(
            { id: r.id, topic: sub.topic, body: r.body, attributes: r.attributes, createdAtMs: r.sent_at },
            [{ subscriptionId: sub.id, dueAtMs: nowMs }],
            nowMs,
          );
          this.qm.delete(r.seq);
          subscriptions.add(sub.id);
          moved++;
        }
      }
      return { moved, queues: [...queues], subscriptions: [...subscriptions] };
    }, true);
  }

  saveMoveTask(task: MoveTask): Promise<void> {
    return this.writes.enqueue(() => {
      this.stmts.saveMoveTask.run(...moveTaskValues(task));
    }, true);
  }

  async listMoveTasks(sourceQueue?: string): Promise<MoveTask[]> {
    const rows = (
      sourceQueue === undefined ? this.stmts.allMoveTasks.all() : this.stmts.moveTasksOf.all(sourceQueue)
    ) as MoveTaskRow[];
    return rows.map(toMoveTask);
  }

  // --- Deliveries -----------------------------------------------------------------------

  async leaseDeliveries(
    subscriptionId: string,
    nowMs: number,
    limit: number,
    _leaseUntilMs: number,
  ): Promise<LeasedDelivery[]> {
    // Leases are in memory (see deliveries.ts): a read, no commit needed.
    return this.dl.lease(subscriptionId, nowMs, limit);
  }

  completeDeliveries(outcomes: DeliveryOutcome[], nowMs: number): Promise<void> {
    return this.writes
      .enqueue(() => {
        const attempts: AttemptRecord[] = [];
        const delivered: string[] = [];
        for (const o of outcomes) {
          if (o.attempt) attempts.push(o.attempt);
          switch (o.kind) {
            case 'delivered':
              delivered.push(o.deliveryId);
              break;
            case 'retry':
              this.dl.retry(o.deliveryId, o.attempt.attempt, o.dueAtMs, o.attempt.error);
              break;
            case 'dead_letter':
              this.deadLetter(o, nowMs);
              break;
          }
        }
        // Each outcome is of a different delivery: batching the common two changes no result.
        this.dl.recordAttempts(attempts);
        this.dl.finishAll(delivered);
      }, false)
      .catch(this.forgetCursors);
  }

  /** A write that failed may have put leased rows back, pending, behind a lease cursor. */
  private readonly forgetCursors = (error: unknown): never => {
    this.dl.forgetCursors();
    throw error;
  };

  private deadLetter(o: Extract<DeliveryOutcome, { kind: 'dead_letter' }>, nowMs: number): void {
    const target = o.queue ? this.queues.get(o.queue) : undefined;
    const message = target ? this.dl.messageOf(o.deliveryId) : undefined;
    if (!target || !message) {
      this.dl.fail(o.deliveryId, o.attempt?.attempt ?? 0, o.reason);
      return;
    }
    const subscriptionId = o.attempt?.subscriptionId ?? this.subscriptionOfDelivery(o.deliveryId);
    this.qm.insertWithSource(
      target.qid,
      {
        id: message.id,
        body: message.body,
        attributes: message.attributes,
        sentAtMs: message.created_at,
        visibleAtMs: nowMs,
      },
      `subscription:${subscriptionId}`,
      message.topic,
      o.reason,
      false,
      nowMs,
      deadLetterAttributes(message.attributes),
    );
    this.dl.finish(o.deliveryId);
  }

  private subscriptionOfDelivery(deliveryId: string): string {
    return (this.stmts.subscriptionOfDelivery.get(Number(deliveryId)) as { subscription_id: string }).subscription_id;
  }

  releaseDeliveries(deliveryIds: string[], dueAtMs: number): Promise<void> {
    if (deliveryIds.length === 0) return Promise.resolve();
    return this.writes
      .enqueue(() => {
        for (const id of deliveryIds) this.dl.release(id, dueAtMs);
      }, false)
      .catch(this.forgetCursors);
  }

  async nextDueAt(subscriptionId: string): Promise<number | null> {
    return this.dl.nextDueAt(subscriptionId);
  }

  async listDeliveries(subscriptionId: string, state: 'pending' | 'failed', limit: number, cursor?: string) {
    return this.dl.list(subscriptionId, state, limit, cursor);
  }

  retryFailed(subscriptionId: string, nowMs: number): Promise<number> {
    return this.writes.enqueue(() => this.dl.retryFailed(subscriptionId, nowMs), true);
  }

  async listAttempts(query: AttemptQuery) {
    return this.dl.attempts(query);
  }

  sweep(nowMs: number, opts: { attemptRetentionMs: number; idempotencyWindowMs: number }): Promise<void> {
    return this.writes.enqueue(() => {
      for (const row of this.queues.values()) this.qm.expire(row.qid, nowMs - row.retention_ms);
      this.stmts.expireIdempotencyKeys.run(nowMs - opts.idempotencyWindowMs);
      this.dl.expireAttempts(nowMs - opts.attemptRetentionMs);
      this.stmts.expireUnsubscribed.run(nowMs);
    }, false);
  }

  private qid(name: string): number {
    const row = this.queues.get(name);
    if (!row) throw queueNotFound(name);
    return row.qid;
  }
}

/**
 * Hold an exclusive lock on `<dataDir>/herald.lock` for the life of the process: a second
 * Herald on the same directory is refused, and the lock goes with the process (even kill -9).
 */
function takeDirectoryLock(dataDir: string): Database.Database {
  const lock = new Database(join(dataDir, 'herald.lock'), { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; COMMIT'); // exclusive locking mode keeps the lock after commit
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`data directory ${dataDir} is in use by another Herald process`, { cause: error });
    }
    throw error;
  }
}

function prepareMetadata(db: Database.Database) {
  return {
    insertTopic: db.prepare(
      'INSERT OR IGNORE INTO topics (name, created_at, fifo, content_based_dedup) VALUES (?, ?, ?, ?)',
    ),
    updateTopic: db.prepare('UPDATE topics SET content_based_dedup = ? WHERE name = ?'),
    nextTopicSequence: db.prepare(
      'UPDATE topics SET last_sequence = last_sequence + 1 WHERE name = ? RETURNING last_sequence',
    ),
    getTopic: db.prepare('SELECT * FROM topics WHERE name = ?'),
    listTopics: db.prepare('SELECT * FROM topics WHERE name > ? ORDER BY name LIMIT +?'),
    updateTopicSettings: db.prepare('UPDATE topics SET attributes = ?, tags = ? WHERE name = ?'),
    deleteTopic: db.prepare('DELETE FROM topics WHERE name = ?'),
    insertSubscription: db.prepare(
      `INSERT INTO subscriptions (id, topic, protocol, endpoint, raw, delivery_policy, dead_letter_queue, secret, status, status_reason, created_at,
         filter_policy, filter_policy_scope, style, confirmation_token)
       VALUES (@id, @topic, @protocol, @endpoint, @raw, @delivery_policy, @dead_letter_queue, @secret, @status, @status_reason, @created_at,
         @filter_policy, @filter_policy_scope, @style, @confirmation_token)`,
    ),
    updateSubscription: db.prepare(
      `UPDATE subscriptions SET endpoint = @endpoint, raw = @raw, delivery_policy = @delivery_policy,
       dead_letter_queue = @dead_letter_queue, status = @status, status_reason = @status_reason,
       filter_policy = @filter_policy, filter_policy_scope = @filter_policy_scope, confirmation_token = @confirmation_token
       WHERE id = @id`,
    ),
    getSubscription: db.prepare('SELECT * FROM subscriptions WHERE id = ?'),
    subscriptionExists: db.prepare('SELECT 1 FROM subscriptions WHERE id = ?'),
    subscriptionsOfTopic: db.prepare('SELECT * FROM subscriptions WHERE topic = ? ORDER BY created_at, id'),
    subscriptionIdsOfTopic: db.prepare('SELECT id FROM subscriptions WHERE topic = ?'),
    allSubscriptions: db.prepare('SELECT * FROM subscriptions'),
    countSubscriptions: db.prepare('SELECT COUNT(*) AS n FROM subscriptions WHERE topic = ?'),
    deleteSubscription: db.prepare('DELETE FROM subscriptions WHERE id = ?'),
    keepUnsubscribed: db.prepare(
      'INSERT OR REPLACE INTO unsubscribed (token, topic, subscription, expires_at) VALUES (?, ?, ?, ?)',
    ),
    takeUnsubscribed: db.prepare(
      'DELETE FROM unsubscribed WHERE token = ? AND topic = ? AND expires_at > ? RETURNING subscription',
    ),
    expireUnsubscribed: db.prepare('DELETE FROM unsubscribed WHERE expires_at <= ?'),
    forgetUnsubscribedOfTopic: db.prepare('DELETE FROM unsubscribed WHERE topic = ?'),
    subscriptionOfDelivery: db.prepare('SELECT subscription_id FROM deliveries WHERE seq = ?'),
    insertQueue: db.prepare(
      `INSERT OR IGNORE INTO queues (name, visibility_timeout_ms, delay_ms, retention_ms, max_receive_count, dead_letter_queue,
         max_message_bytes, receive_wait_ms, redrive_allow_policy, tags, created_at, updated_at, fifo, content_based_dedup)
       VALUES (@name, @visibility_timeout_ms, @delay_ms, @retention_ms, @max_receive_count, @dead_letter_queue,
         @max_message_bytes, @receive_wait_ms, @redrive_allow_policy, @tags, @created_at, @updated_at, @fifo, @content_based_dedup)`,
    ),
    updateQueue: db.prepare(
      `UPDATE queues SET visibility_timeout_ms = @visibility_timeout_ms, delay_ms = @delay_ms, retention_ms = @retention_ms,
       max_receive_count = @max_receive_count, dead_letter_queue = @dead_letter_queue, max_message_bytes = @max_message_bytes,
       receive_wait_ms = @receive_wait_ms, redrive_allow_policy = @redrive_allow_policy, tags = @tags, updated_at = @updated_at,
       content_based_dedup = @content_based_dedup WHERE name = @name`,
    ),
    getQueue: db.prepare('SELECT * FROM queues WHERE name = ?'),
    allQueues: db.prepare('SELECT * FROM queues'),
    deleteQueue: db.prepare('DELETE FROM queues WHERE name = ?'),
    getIdempotencyKey: db.prepare(
      'SELECT message_id, sequence_number FROM idempotency_keys WHERE scope = ? AND key = ? AND created_at > ?',
    ),
    putIdempotencyKey: db.prepare(
      `INSERT OR REPLACE INTO idempotency_keys (scope, key, message_id, sequence_number, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    ),
    expireIdempotencyKeys: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
    saveMoveTask: db.prepare(
      `INSERT INTO message_move_tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (handle) DO UPDATE SET moved = excluded.moved, to_move = excluded.to_move,
         failure_reason = excluded.failure_reason,
         status = CASE WHEN status = 'CANCELLING' AND excluded.status = 'RUNNING' THEN 'CANCELLING' ELSE excluded.status END`,
    ),
    moveTasksOf: db.prepare(
      'SELECT * FROM message_move_tasks WHERE source_queue = ? ORDER BY started_at DESC, handle DESC',
    ),
    allMoveTasks: db.prepare('SELECT * FROM message_move_tasks ORDER BY started_at DESC, handle DESC'),
  };
}

/**
 * The WAL file to fsync after durable commits, or null (SQLite then fsyncs inside COMMIT)
 * if the database is not in WAL mode or the file cannot be opened.
 */
function openWal(db: Database.Database, dir: string, path: string): WalFile | null {
  try {
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') throw new Error('the database is not in WAL mode');
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return new WalFile(path);
  } catch (error) {
    process.emitWarning(`cannot fsync ${path} (${String(error)}); commits fsync inside SQLite instead`);
    return null;
  }
}
