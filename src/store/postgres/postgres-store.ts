/**
 * The shared store: one PostgreSQL database that several stateless Herald nodes use at
 * once. Nothing is cached across calls that another node could change (queues and
 * subscriptions are read from the database), leases and receipts live in rows, claims use
 * `FOR UPDATE SKIP LOCKED`, and accepted messages are group-committed (commit-batcher.ts).
 *
 * Where the tables live: the `schema` query parameter of the URL
 * (`postgres://user@host/db?schema=herald`), default `public`. It is removed from the URL
 * before connecting and becomes every connection's `search_path`; the schema is created on
 * first start. Tests give every store its own schema, which is cheap to create and drop.
 *
 * Unlike the SQLite store, `open()` recovers no leases: other live nodes hold them. A lease
 * whose holder died runs out and its rows are due again (see deliveries.ts).
 */
import { HeraldError } from '../../errors.js';
import type { MoveTask, Queue, QueueStats, ReceivedMessage, Subscription, Topic, TopicConfig } from '../../types.js';
import type {
  CommitStats,
  AcceptResult,
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
import { CommitBatcher } from './commit-batcher.js';
import { Database, statement } from './database.js';
import * as dl from './deliveries.js';
import { migrate } from './migrations.js';
import * as groups from './fifo-groups.js';
import * as qm from './queue-messages.js';
import { restoredSubscription } from '../restored-subscription.js';
import {
  moveTaskValues,
  ms,
  queueValues,
  jsonObject,
  subscriptionValues,
  toMoveTask,
  toQueue,
  toSubscription,
  toTopic,
  type MoveTaskRow,
  type QueueRow,
  type SubscriptionRow,
  type TopicRow,
} from './rows.js';

export interface PostgresStoreOptions {
  /** `postgres://` or `postgresql://` URL; `?schema=` picks the schema (default public). */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How often the health check probes the database, ms (default 1000). */
  healthCheckMs?: number;
}

// Lower case only: search_path folds unquoted names to lower case, CREATE SCHEMA here quotes.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Split `?schema=` off the URL (pg would pass unknown parameters to the server). */
export function parseDatabaseUrl(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`HERALD_DATABASE_URL: schema "${schema}" must be lower-case letters, digits and underscores`);
  }
  return { connectionString: parsed.toString(), schema };
}

const queueNotFound = (name: string) => new HeraldError('queue_not_found', `queue "${name}" does not exist`);

const getQueueStmt = statement('herald_get_queue', 'SELECT * FROM queues WHERE name = $1');
const getTopicStmt = statement('herald_get_topic', 'SELECT * FROM topics WHERE name = $1');
const subscriptionsOfTopic = statement(
  'herald_subscriptions_of_topic',
  'SELECT * FROM subscriptions WHERE topic = $1 ORDER BY created_at, id',
);

const INSERT_SUBSCRIPTION = `INSERT INTO subscriptions (id, topic, protocol, endpoint, raw, delivery_policy, dead_letter_queue, secret, status, status_reason, created_at,
     filter_policy, filter_policy_scope, style, confirmation_token)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`;

export class PostgresStore implements Store {
  private readonly db: Database;
  private readonly schema: string;
  /** The URL without its password, for messages. */
  private readonly where: string;
  private readonly batcher: CommitBatcher;
  private open_ = false;

  constructor(options: PostgresStoreOptions) {
    const { connectionString, schema } = parseDatabaseUrl(options.url);
    this.schema = schema;
    const shown = new URL(connectionString);
    if (shown.password) shown.password = '***';
    this.where = shown.toString();
    this.db = new Database({
      connectionString,
      schema,
      poolSize: options.poolSize ?? 10,
      healthCheckMs: options.healthCheckMs ?? 1000,
    });
    this.batcher = new CommitBatcher(this.db);
  }

  async open(): Promise<void> {
    const client = await this.db.connect().catch(async (error: HeraldError) => {
      await this.db.close();
      // At start the operator needs the reason (refused, wrong password, no such database).
      const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
      throw new HeraldError('unavailable', `cannot connect to PostgreSQL at ${this.where}: ${cause}`, { cause: error });
    });
    try {
      await migrate(client, this.schema);
    } catch (error) {
      client.release(error as Error);
      await this.db.close();
      throw error;
    }
    client.release();
    this.db.startHealthCheck();
    this.open_ = true;
  }

  async close(): Promise<void> {
    if (!this.open_) return;
    this.open_ = false;
    await this.batcher.drain();
    await this.db.close();
  }

  /** A durable write is visible to others only once its commit is flushed: nothing to wait for. */
  async sync(): Promise<void> {}

  healthy(): boolean {
    return this.open_ && this.db.healthy();
  }

  /** Group-commit statistics (for metrics and tests). */
  commitStats(): CommitStats {
    return { ...this.batcher.stats, syncs: 0 };
  }

  // --- Topics ---------------------------------------------------------------------------

  async createTopic(name: string, nowMs: number, config?: TopicConfig): Promise<{ topic: Topic; created: boolean }> {
    const inserted = await this.db.query(
      `INSERT INTO topics (name, created_at, fifo, content_based_dedup) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING name`,
      [name, ms(nowMs), config?.fifo ?? false, config?.contentBasedDeduplication ?? false],
    );
    const [row] = await this.db.query<TopicRow>(getTopicStmt([name]));
    return { topic: toTopic(row), created: inserted.length === 1 };
  }

  async updateTopic(name: string, config: TopicConfig): Promise<boolean> {
    const rows = await this.db.query('UPDATE topics SET content_based_dedup = $2 WHERE name = $1 RETURNING name', [
      name,
      config.contentBasedDeduplication,
    ]);
    return rows.length === 1;
  }

  async getTopic(name: string): Promise<Topic | null> {
    const [row] = await this.db.query<TopicRow>(getTopicStmt([name]));
    return row ? toTopic(row) : null;
  }

  async listTopics(limit: number, after = ''): Promise<Topic[]> {
    const rows = await this.db.query<TopicRow>(
      'SELECT * FROM topics WHERE name COLLATE "C" > $1 ORDER BY name COLLATE "C" LIMIT $2',
      [after, limit],
    );
    return rows.map(toTopic);
  }

  async updateTopicSettings(topic: Topic): Promise<boolean> {
    const rows = await this.db.query('UPDATE topics SET attributes = $2, tags = $3 WHERE name = $1 RETURNING name', [
      topic.name,
      jsonObject(topic.attributes),
      jsonObject(topic.tags),
    ]);
    return rows.length === 1;
  }

  async sharedSigningIdentity(candidate: { keyPem: string; certPem: string }) {
    await this.db.query(
      `INSERT INTO sns_signing_identity (id, key_pem, cert_pem, created_at) VALUES (1, $1, $2, $3)
       ON CONFLICT (id) DO NOTHING`,
      [candidate.keyPem, candidate.certPem, Date.now()],
    );
    const [row] = await this.db.query<{ key_pem: string; cert_pem: string }>(
      'SELECT key_pem, cert_pem FROM sns_signing_identity WHERE id = 1',
    );
    return { keyPem: row.key_pem, certPem: row.cert_pem };
  }

  deleteTopic(name: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      // The topic's row first, then its subscriptions' (in id order), as every transaction
      // takes them: a FIFO publish its topic, then the subscriptions it owes (commit-batcher.ts);
      // a subscription made or restored holds the topic (KEY SHARE) until it commits. So once
      // the topic is held no subscription can come under it, and each one found here is held
      // until every publish owing it has committed: the drop below sees all their deliveries.
      if ((await c.query('SELECT 1 FROM topics WHERE name = $1 FOR UPDATE', [name])).rows.length === 0) return false;
      const subs = await c.query('SELECT id FROM subscriptions WHERE topic = $1 ORDER BY id FOR UPDATE', [name]);
      await dl.dropSubscriptions(
        c,
        subs.rows.map((r) => r.id as string),
      );
      // Its unsubscribed subscriptions go too: a topic made again under the name starts empty.
      // (After the subscriptions: a deleteSubscription keeping a token has committed by now.)
      await c.query('DELETE FROM unsubscribed WHERE topic = $1', [name]);
      const deleted = await c.query('DELETE FROM topics WHERE name = $1', [name]); // subscriptions cascade
      return deleted.rowCount === 1;
    });
  }

  // --- Subscriptions --------------------------------------------------------------------

  async createSubscription(sub: Subscription): Promise<void> {
    await this.db.query(INSERT_SUBSCRIPTION, subscriptionValues(sub));
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    const [row] = await this.db.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE id = $1', [id]);
    return row ? toSubscription(row) : null;
  }

  async listSubscriptions(topic: string): Promise<Subscription[]> {
    return (await this.db.query<SubscriptionRow>(subscriptionsOfTopic([topic]))).map(toSubscription);
  }

  async listAllSubscriptions(): Promise<Subscription[]> {
    return (await this.db.query<SubscriptionRow>('SELECT * FROM subscriptions')).map(toSubscription);
  }

  async countSubscriptions(topic: string): Promise<number> {
    const [row] = await this.db.query('SELECT COUNT(*) AS n FROM subscriptions WHERE topic = $1', [topic]);
    return row.n;
  }

  async updateSubscription(sub: Subscription): Promise<void> {
    const [id, , , endpoint, raw, policy, dlq, , status, reason, , filter, scope, , token] = subscriptionValues(sub);
    await this.db.query(
      `UPDATE subscriptions SET endpoint = $2, raw = $3, delivery_policy = $4, dead_letter_queue = $5,
       status = $6, status_reason = $7, filter_policy = $8, filter_policy_scope = $9, confirmation_token = $10
       WHERE id = $1`,
      [id, endpoint, raw, policy, dlq, status, reason, filter, scope, token],
    );
  }

  deleteSubscription(id: string, keep?: { token: string; untilMs: number }): Promise<boolean> {
    return this.db.tx(async (c) => {
      // The row first, as deleteTopic does: a publish holding it (KEY SHARE, commit-batcher.ts)
      // commits before the drop below, which then sees the deliveries it wrote.
      await c.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE', [id]);
      await dl.dropSubscriptions(c, [id]);
      const gone = await c.query<SubscriptionRow>('DELETE FROM subscriptions WHERE id = $1 RETURNING *', [id]);
      if (keep && gone.rows.length === 1) {
        const sub = toSubscription(gone.rows[0]);
        await c.query(
          `INSERT INTO unsubscribed (token, topic, subscription, expires_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (token) DO UPDATE SET topic = EXCLUDED.topic, subscription = EXCLUDED.subscription,
             expires_at = EXCLUDED.expires_at`,
          [keep.token, sub.topic, JSON.stringify(sub), ms(keep.untilMs)],
        );
      }
      return gone.rows.length === 1;
    });
  }

  restoreUnsubscribed(
    topic: string,
    token: string,
    nowMs: number,
  ): Promise<{ subscription: Subscription; restored: boolean } | null> {
    return this.db.tx(async (c) => {
      // The topic row first, then the token row, in deleteTopic's order (it holds the topic,
      // then deletes the topic's tokens), so the two cannot wait for each other. KEY SHARE on
      // the topic: a deleteTopic that comes later waits for this commit.
      const live = await c.query('SELECT 1 FROM topics WHERE name = $1 FOR KEY SHARE', [topic]);
      if (live.rows.length === 0) return null;
      const taken = await c.query<{ subscription: string }>(
        'DELETE FROM unsubscribed WHERE token = $1 AND topic = $2 AND expires_at > $3 RETURNING subscription',
        [token, topic, ms(nowMs)],
      );
      if (taken.rows.length === 0) return null;
      const kept = JSON.parse(taken.rows[0].subscription) as Subscription;
      const again = await c.query<SubscriptionRow>(
        'SELECT * FROM subscriptions WHERE topic = $1 AND protocol = $2 AND endpoint = $3 ORDER BY created_at, id LIMIT 1',
        [topic, kept.protocol, kept.endpoint],
      );
      if (again.rows.length > 0) return { subscription: toSubscription(again.rows[0]), restored: false };
      const dlq =
        kept.deadLetterQueue !== null &&
        (await c.query('SELECT 1 FROM queues WHERE name = $1 FOR KEY SHARE', [kept.deadLetterQueue])).rows.length > 0;
      const restored = restoredSubscription(kept, dlq);
      await c.query(INSERT_SUBSCRIPTION, subscriptionValues(restored));
      return { subscription: restored, restored: true };
    });
  }

  // --- Queues ---------------------------------------------------------------------------

  async createQueue(queue: Queue): Promise<{ queue: Queue; created: boolean }> {
    const inserted = await this.db.query(
      `INSERT INTO queues (name, visibility_timeout_ms, delay_ms, retention_ms, max_receive_count, dead_letter_queue, created_at,
         max_message_bytes, receive_wait_ms, redrive_allow_policy, tags, updated_at, fifo, content_based_dedup)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (name) DO NOTHING RETURNING qid`,
      queueValues(queue),
    );
    const row = await this.queueRow(queue.name);
    return { queue: toQueue(row!), created: inserted.length === 1 };
  }

  async getQueue(name: string): Promise<Queue | null> {
    const row = await this.queueRow(name);
    return row ? toQueue(row) : null;
  }

  async listQueues(): Promise<Queue[]> {
    return (await this.db.query<QueueRow>('SELECT * FROM queues ORDER BY name COLLATE "C"')).map(toQueue);
  }

  async updateQueue(queue: Queue): Promise<void> {
    const [name, visibility, delay, retention, maxReceive, dlq, , maxBytes, wait, allow, tags, updated, , cbd] =
      queueValues(queue);
    await this.db.query(
      `UPDATE queues SET visibility_timeout_ms = $2, delay_ms = $3, retention_ms = $4, max_receive_count = $5,
       dead_letter_queue = $6, max_message_bytes = $7, receive_wait_ms = $8, redrive_allow_policy = $9, tags = $10,
       updated_at = $11, content_based_dedup = $12 WHERE name = $1`,
      [name, visibility, delay, retention, maxReceive, dlq, maxBytes, wait, allow, tags, updated, cbd],
    );
  }

  async deleteQueue(name: string): Promise<boolean> {
    // Its messages cascade.
    return (await this.db.query('DELETE FROM queues WHERE name = $1 RETURNING qid', [name])).length === 1;
  }

  async queueStats(name: string, nowMs: number): Promise<QueueStats> {
    return qm.stats(this.db, await this.qid(name), nowMs);
  }

  queueDepths(nowMs: number): Promise<Array<{ queue: string } & QueueStats>> {
    return qm.depths(this.db, nowMs);
  }

  // --- Accepting messages ---------------------------------------------------------------

  publish(entries: PublishEntry[], idempotencyWindowMs: number, nowMs: number): Promise<AcceptResult[]> {
    return this.batcher.publish(entries, idempotencyWindowMs, nowMs);
  }

  sendToQueue(
    queue: string,
    entries: SendEntry[],
    idempotencyWindowMs: number,
    nowMs: number,
  ): Promise<AcceptResult[]> {
    return this.batcher.send(queue, entries, idempotencyWindowMs, nowMs);
  }

  // --- Consuming queues -----------------------------------------------------------------

  async receive(queue: Queue, opts: ReceiveOptions): Promise<ReceivedMessage[]> {
    const got = queue.fifo
      ? await groups.receive(this.db, queue, opts.max, opts.visibilityMs, opts.nowMs)
      : await qm.receive(this.db, queue, opts.max, opts.visibilityMs, opts.nowMs);
    if (got.length === 0) await this.qid(queue.name); // an unknown queue is an error, not empty
    return got;
  }

  async ack(queue: string, receipts: string[]): Promise<AckResult> {
    const result = await qm.ack(this.db, queue, receipts);
    if (result.failed.length > 0) await this.qid(queue);
    return result;
  }

  async changeVisibility(queue: string, receipt: string, visibleAtMs: number): Promise<boolean> {
    if (await qm.changeVisibility(this.db, queue, receipt, visibleAtMs)) return true;
    await this.qid(queue);
    return false;
  }

  purge(queue: string): Promise<number> {
    return this.db.tx(async (c) => {
      // The queue row, as FIFO sends hold it: no send commits between the two deletes.
      const row = (await c.query('SELECT qid FROM queues WHERE name = $1 FOR NO KEY UPDATE', [queue])).rows[0];
      if (!row) throw queueNotFound(queue);
      await c.query('DELETE FROM fifo_groups WHERE qid = $1', [row.qid]);
      return (await c.query('DELETE FROM queue_messages WHERE qid = $1', [row.qid])).rowCount ?? 0;
    });
  }

  async nextVisibleAt(queue: string): Promise<number | null> {
    const row = await this.queueRow(queue);
    if (!row) throw queueNotFound(queue);
    // A FIFO queue's visible messages may all wait behind in-flight heads: its groups say when.
    return row.fifo ? groups.nextAvailableAt(this.db, row.qid) : qm.nextVisibleAt(this.db, row.qid);
  }

  redrive(deadLetterQueue: string, max: number, nowMs: number, destination?: string): Promise<RedriveResult> {
    return this.db.tx(async (c) => {
      const dlq = (await c.query('SELECT qid FROM queues WHERE name = $1', [deadLetterQueue])).rows[0];
      if (!dlq) throw queueNotFound(deadLetterQueue);
      if (destination !== undefined && !(await c.query('SELECT 1 FROM queues WHERE name = $1', [destination])).rows[0])
        throw queueNotFound(destination);
      const toQueue = new Map<string, qm.DeadRow[]>();
      const toSubscription: dl.NewDeliveries[] = [];
      const dropped: number[] = [];
      const subscriptions = new Set<string>();
      const rows = await qm.oldest(c, dlq.qid, max);
      // The subscriptions dead letters go back to, held (KEY SHARE) in one statement in id
      // order, as deleteTopic locks them: a deleteSubscription or deleteTopic coming later
      // waits, then drops these deliveries too, and the two cannot deadlock.
      const sourceIds = new Set<string>();
      if (destination === undefined) {
        for (const r of rows) if (r.source?.startsWith('subscription:')) sourceIds.add(r.source.slice(13));
      }
      const sources = new Map<string, { id: string; topic: string }>();
      if (sourceIds.size > 0) {
        const held = await c.query<{ id: string; topic: string }>(
          'SELECT id, topic FROM subscriptions WHERE id = ANY($1::text[]) ORDER BY id FOR KEY SHARE',
          [[...sourceIds]],
        );
        for (const sub of held.rows) sources.set(sub.id, sub);
      }
      for (const r of rows) {
        if (destination !== undefined) {
          toQueue.set(destination, [...(toQueue.get(destination) ?? []), r]);
        } else if (r.source?.startsWith('queue:')) {
          const name = r.source.slice(6);
          toQueue.set(name, [...(toQueue.get(name) ?? []), r]);
        } else if (r.source?.startsWith('subscription:')) {
          const sub = sources.get(r.source.slice(13));
          if (!sub) continue;
          // A fresh delivery with the same message id: receivers dedupe on webhook-id.
          toSubscription.push({
            id: r.id,
            topic: sub.topic,
            body: r.body,
            attributes: r.attributes,
            createdAtMs: r.sent_at,
            nowMs,
            deliveries: [{ subscriptionId: sub.id, dueAtMs: nowMs }],
          });
          dropped.push(r.seq);
          subscriptions.add(sub.id);
        }
      }
      let moved = toSubscription.length;
      const queues: string[] = [];
      for (const [name, rows] of toQueue) {
        const target = (await c.query('SELECT qid, fifo FROM queues WHERE name = $1 FOR KEY SHARE', [name])).rows[0];
        if (!target) continue;
        await qm.moveTo(c, rows, dlq.qid, target, nowMs);
        queues.push(name);
        moved += rows.length;
      }
      await dl.createDeliveries(c, toSubscription);
      if (dropped.length > 0) await qm.remove(c, dropped);
      return { moved, queues, subscriptions: [...subscriptions] };
    });
  }

  async saveMoveTask(task: MoveTask): Promise<void> {
    await this.db.query(
      `INSERT INTO message_move_tasks VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (handle) DO UPDATE SET moved = EXCLUDED.moved, to_move = EXCLUDED.to_move,
         failure_reason = EXCLUDED.failure_reason,
         -- A progress update from the running node must not undo a cancel from another one.
         status = CASE WHEN message_move_tasks.status = 'CANCELLING' AND EXCLUDED.status = 'RUNNING'
                       THEN 'CANCELLING' ELSE EXCLUDED.status END`,
      moveTaskValues(task),
    );
  }

  async listMoveTasks(sourceQueue?: string): Promise<MoveTask[]> {
    const rows =
      sourceQueue === undefined
        ? await this.db.query<MoveTaskRow>('SELECT * FROM message_move_tasks ORDER BY started_at DESC, handle DESC')
        : await this.db.query<MoveTaskRow>(
            'SELECT * FROM message_move_tasks WHERE source_queue = $1 ORDER BY started_at DESC, handle DESC',
            [sourceQueue],
          );
    return rows.map(toMoveTask);
  }

  // --- Deliveries -----------------------------------------------------------------------

  leaseDeliveries(
    subscriptionId: string,
    nowMs: number,
    limit: number,
    leaseUntilMs: number,
  ): Promise<LeasedDelivery[]> {
    return dl.lease(this.db, subscriptionId, nowMs, limit, leaseUntilMs);
  }

  completeDeliveries(outcomes: DeliveryOutcome[], nowMs: number): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve();
    // Bookkeeping: committed without waiting for the WAL flush; losing it re-delivers.
    return this.db.tx((c) => dl.complete(c, outcomes, nowMs), { asyncCommit: true });
  }

  releaseDeliveries(deliveryIds: string[], dueAtMs: number): Promise<void> {
    return dl.release(this.db, deliveryIds, dueAtMs);
  }

  nextDueAt(subscriptionId: string): Promise<number | null> {
    return dl.nextDueAt(this.db, subscriptionId);
  }

  listDeliveries(subscriptionId: string, state: 'pending' | 'failed', limit: number, cursor?: string) {
    return dl.list(this.db, subscriptionId, state, limit, cursor);
  }

  retryFailed(subscriptionId: string, nowMs: number): Promise<number> {
    return this.db.tx((c) => dl.retryFailed(c, subscriptionId, nowMs));
  }

  listAttempts(query: AttemptQuery) {
    return dl.attempts(this.db, query);
  }

  /**
   * Housekeeping. Every node runs it on a timer; a transaction-scoped advisory lock lets one
   * node sweep at a time and the others skip that round instead of deleting the same rows.
   * Expired leases need nothing here: claims treat them as due.
   */
  sweep(nowMs: number, opts: { attemptRetentionMs: number; idempotencyWindowMs: number }): Promise<void> {
    return this.db.tx(
      async (c) => {
        const lock = await c.query('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [
          `herald.sweep:${this.schema}`,
        ]);
        if (!lock.rows[0].ok) return;
        await qm.expire(c, nowMs);
        await c.query('DELETE FROM idempotency_keys WHERE created_at < $1', [ms(nowMs - opts.idempotencyWindowMs)]);
        await c.query('DELETE FROM attempts WHERE at < $1', [ms(nowMs - opts.attemptRetentionMs)]);
        await c.query('DELETE FROM unsubscribed WHERE expires_at <= $1', [ms(nowMs)]);
      },
      { asyncCommit: true },
    );
  }

  private async queueRow(name: string): Promise<QueueRow | null> {
    const [row] = await this.db.query<QueueRow>(getQueueStmt([name]));
    return row ?? null;
  }

  private async qid(name: string): Promise<number> {
    const row = await this.queueRow(name);
    if (!row) throw queueNotFound(name);
    return row.qid;
  }
}
