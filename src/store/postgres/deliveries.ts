/**
 * Delivery and attempt statements for PostgreSQL.
 *
 * Storage mirrors the SQLite store: a message owed to one push subscription is stored
 * inline in its delivery row; one owed to several is stored once in `messages` with a
 * `pending` count that its deliveries decrement as they finish.
 *
 * Leases are rows, because several nodes share them (SQLite keeps them in memory). A lease
 * is one statement: pick the due rows with `FOR UPDATE SKIP LOCKED` (rows another node is
 * leasing right now are passed over, not waited for), move their `due_at` to the lease's
 * end and stamp a fresh random `lease_token`. So:
 *  - a leased row is not due again until its lease runs out, and no other node gets it
 *    meanwhile, however slow the delivery;
 *  - a node that dies simply stops finishing its rows; when the lease runs out they are
 *    due like any other row and any node leases them (no sweep, no recovery on start);
 *  - `nextDueAt` (MIN of due_at) includes when leases run out;
 *  - outcomes and releases name `<seq>.<token>` and apply only while the token matches: a
 *    late outcome from a node whose lease was taken over is ignored. (If nobody took the
 *    row over, the late outcome still matches and is applied, which avoids a re-send.)
 */
import type { Attempt, Delivery } from '../../types.js';
import type { AttemptQuery, AttemptRecord, DeliveryOutcome, LeasedDelivery } from '../store.js';
import { statement, type Client, type Database } from './database.js';
import { insertQueueMessages } from './queue-messages.js';
import { deadLetterAttributes } from '../published-message.js';
import {
  decodeAttributes,
  decodeExtras,
  formatDeliveryId,
  ms,
  newNonce,
  parseDeliveryId,
  toAttempt,
  toDelivery,
  type AttemptRow,
  type DeliveryRow,
} from './rows.js';

/** A message and the deliveries it is owed, as the accept path and redrive create them. */
export interface NewDeliveries {
  id: string;
  topic: string;
  body: string;
  attributes: string | null;
  createdAtMs: number;
  nowMs: number;
  deliveries: Array<{ subscriptionId: string; dueAtMs: number }>;
}

const insertInline = statement(
  'herald_insert_inline_deliveries',
  `INSERT INTO deliveries (subscription_id, message_id, topic, body, attributes, published_at, due_at, created_at)
   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])`,
);

// Message ids are unique within one group commit (a message's other texts are stored inline,
// see ../published-message.ts), so the join puts each delivery on its message.
const insertFanout = statement(
  'herald_insert_fanout_deliveries',
  `WITH m AS (
     INSERT INTO messages (id, topic, body, attributes, created_at, pending)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[])
     RETURNING mseq, id)
   INSERT INTO deliveries (subscription_id, mseq, due_at, created_at)
   SELECT x.sub, m.mseq, x.due, x.created FROM unnest($7::text[], $8::text[], $9::bigint[], $10::bigint[])
     AS x(message_id, sub, due, created) JOIN m ON m.id = x.message_id`,
);

/** Insert messages and their deliveries with two multi-row statements at most. */
export async function createDeliveries(client: Client, messages: NewDeliveries[]): Promise<void> {
  const inline: unknown[][] = [[], [], [], [], [], [], [], []];
  const fan: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
  for (const m of messages) {
    if (m.deliveries.length === 1) {
      const d = m.deliveries[0];
      const row = [
        d.subscriptionId,
        m.id,
        m.topic,
        m.body,
        m.attributes,
        ms(m.createdAtMs),
        ms(d.dueAtMs),
        ms(m.nowMs),
      ];
      row.forEach((v, i) => inline[i].push(v));
    } else if (m.deliveries.length > 1) {
      [m.id, m.topic, m.body, m.attributes, ms(m.createdAtMs), m.deliveries.length].forEach((v, i) => fan[i].push(v));
      for (const d of m.deliveries) {
        [m.id, d.subscriptionId, ms(d.dueAtMs), ms(m.nowMs)].forEach((v, i) => fan[6 + i].push(v));
      }
    }
  }
  if (inline[0].length > 0) await client.query(insertInline(inline));
  if (fan[0].length > 0) await client.query(insertFanout(fan));
}

const leaseStmt = statement(
  'herald_lease_deliveries',
  `WITH picked AS (
     SELECT seq, due_at FROM deliveries
     WHERE subscription_id = $1 AND state = 0 AND due_at <= $2
     ORDER BY due_at, seq LIMIT $3
     FOR UPDATE SKIP LOCKED),
   leased AS (
     UPDATE deliveries d SET due_at = $4, lease_token = $5 FROM picked WHERE d.seq = picked.seq
     RETURNING d.seq, d.subscription_id, d.attempts, d.mseq, d.message_id, d.topic, d.body, d.attributes, d.published_at)
   SELECT l.seq, l.subscription_id, l.attempts, COALESCE(m.id, l.message_id) AS message_id,
          COALESCE(m.topic, l.topic) AS topic, COALESCE(m.body, l.body) AS body,
          COALESCE(m.attributes, l.attributes) AS attributes, COALESCE(m.created_at, l.published_at) AS published_at
   FROM leased l JOIN picked p ON p.seq = l.seq LEFT JOIN messages m ON m.mseq = l.mseq
   ORDER BY p.due_at, l.seq`,
);

export async function lease(
  db: Database,
  subscriptionId: string,
  nowMs: number,
  limit: number,
  leaseUntilMs: number,
): Promise<LeasedDelivery[]> {
  const token = newNonce();
  const rows = await db.query(
    leaseStmt([subscriptionId, ms(nowMs), limit, ms(Math.max(leaseUntilMs, nowMs + 1)), token]),
    undefined,
    { lazy: true },
  );
  return rows.map((r) => ({
    deliveryId: formatDeliveryId(r.seq, token),
    subscriptionId: r.subscription_id,
    attempts: r.attempts,
    messageId: r.message_id,
    topic: r.topic,
    body: r.body,
    attributes: decodeAttributes(r.attributes),
    publishedAtMs: r.published_at,
    ...decodeExtras(r.attributes),
  }));
}

const insertAttempts = statement(
  'herald_insert_attempts',
  `INSERT INTO attempts (subscription_id, message_id, attempt, at, status, latency_ms, ok, error_class, error)
   SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::int[], $6::float8[], $7::bool[], $8::text[], $9::text[])`,
);

// Delivered: drop the rows still leased with these tokens and release their share of
// fanout messages. Returns the messages whose last delivery this was.
const finishStmt = statement(
  'herald_finish_deliveries',
  `WITH gone AS (
     DELETE FROM deliveries d USING unnest($1::bigint[], $2::bigint[]) AS x(seq, token)
     WHERE d.seq = x.seq AND d.lease_token = x.token RETURNING d.mseq)
   UPDATE messages m SET pending = m.pending - g.n
   FROM (SELECT mseq, count(*)::int AS n FROM gone WHERE mseq IS NOT NULL GROUP BY mseq) g
   WHERE m.mseq = g.mseq RETURNING m.mseq, m.pending`,
);

const dropMessages = statement(
  'herald_drop_messages',
  'DELETE FROM messages WHERE mseq = ANY($1::bigint[]) AND pending <= 0',
);

const retryStmt = statement(
  'herald_retry_deliveries',
  `UPDATE deliveries d SET attempts = x.attempts, due_at = x.due, last_error = x.error, lease_token = NULL
   FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], $5::text[]) AS x(seq, token, attempts, due, error)
   WHERE d.seq = x.seq AND d.lease_token = x.token`,
);

const failStmt = statement(
  'herald_fail_delivery',
  `UPDATE deliveries SET state = 2, lease_token = NULL, attempts = GREATEST(attempts, $3), last_error = $4
   WHERE seq = $1 AND lease_token = $2`,
);

const takeForDeadLetter = statement(
  'herald_take_dead_letter',
  `WITH gone AS (DELETE FROM deliveries WHERE seq = $1 AND lease_token = $2
                 RETURNING mseq, subscription_id, message_id, topic, body, attributes, published_at)
   SELECT g.mseq, g.subscription_id, COALESCE(m.id, g.message_id) AS id, COALESCE(m.topic, g.topic) AS topic,
          COALESCE(m.body, g.body) AS body, COALESCE(m.attributes, g.attributes) AS attributes,
          COALESCE(m.created_at, g.published_at) AS created_at
   FROM gone g LEFT JOIN messages m ON m.mseq = g.mseq`,
);

const decrementOne = statement(
  'herald_decrement_message',
  'UPDATE messages SET pending = pending - 1 WHERE mseq = $1 RETURNING mseq, pending',
);

/** Apply a batch of outcomes in the caller's transaction. */
export async function complete(client: Client, outcomes: DeliveryOutcome[], nowMs: number): Promise<void> {
  const attempts = outcomes.flatMap((o) => (o.attempt ? [o.attempt] : []));
  if (attempts.length > 0) await client.query(insertAttempts(attemptColumns(attempts)));
  const delivered: number[][] = [[], []];
  const retried: unknown[][] = [[], [], [], [], []];
  const emptied: number[] = [];
  /** Shared messages of dead letters, counted down once every delivery row is done. */
  const deadMessages: number[] = [];
  // Sorted by row, so concurrent batches from several nodes lock rows in the same order; and
  // every delivery row before any message row, as dropSubscriptions takes them.
  const ordered = outcomes
    .map((o) => ({ o, id: parseDeliveryId(o.deliveryId) }))
    .filter((x): x is { o: DeliveryOutcome; id: { seq: number; token: number } } => x.id !== null)
    .sort((a, b) => a.id.seq - b.id.seq);
  for (const { o, id } of ordered) {
    if (o.kind === 'delivered') {
      delivered[0].push(id.seq);
      delivered[1].push(id.token);
    } else if (o.kind === 'retry') {
      [id.seq, id.token, o.attempt.attempt, ms(o.dueAtMs), o.attempt.error].forEach((v, i) => retried[i].push(v));
    } else {
      const mseq = await deadLetter(client, o, id, nowMs);
      if (mseq !== null) deadMessages.push(mseq);
    }
  }
  if (retried[0].length > 0) await client.query(retryStmt(retried));
  if (delivered[0].length > 0) {
    // Its deliveries, then their messages, in one statement.
    const rows = await client.query(finishStmt(delivered));
    for (const r of rows.rows) if (r.pending <= 0) emptied.push(r.mseq);
  }
  for (const mseq of deadMessages.sort((a, b) => a - b)) {
    const [m] = (await client.query(decrementOne([mseq]))).rows;
    if (m && m.pending <= 0) emptied.push(m.mseq);
  }
  if (emptied.length > 0) await client.query(dropMessages([emptied]));
}

/**
 * Move to the dead-letter queue, or keep as failed when there is none (or it is gone). Returns
 * the shared message whose share the caller is to count down (after every delivery row).
 */
async function deadLetter(
  client: Client,
  o: Extract<DeliveryOutcome, { kind: 'dead_letter' }>,
  id: { seq: number; token: number },
  nowMs: number,
): Promise<number | null> {
  const target = o.queue
    ? (await client.query('SELECT qid FROM queues WHERE name = $1 FOR KEY SHARE', [o.queue])).rows[0]
    : undefined;
  if (!target) {
    await client.query(failStmt([id.seq, id.token, o.attempt?.attempt ?? 0, o.reason]));
    return null;
  }
  const [m] = (await client.query(takeForDeadLetter([id.seq, id.token]))).rows;
  if (!m) return null; // the lease was taken over (or the subscription deleted)
  await insertQueueMessages(client, [
    {
      qid: target.qid,
      id: m.id,
      body: m.body,
      attributes: m.attributes,
      messageAttributes: deadLetterAttributes(m.attributes),
      sentAtMs: m.created_at,
      visibleAtMs: ms(nowMs),
      source: `subscription:${m.subscription_id}`,
      topic: m.topic,
      lastError: o.reason,
    },
  ]);
  return m.mseq === null ? null : Number(m.mseq);
}

function attemptColumns(attempts: AttemptRecord[]): unknown[][] {
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const a of attempts) {
    [a.subscriptionId, a.messageId, a.attempt, ms(a.atMs), a.status, a.latencyMs, a.ok, a.errorClass, a.error].forEach(
      (v, i) => cols[i].push(v),
    );
  }
  return cols;
}

const releaseStmt = statement(
  'herald_release_deliveries',
  `UPDATE deliveries d SET due_at = $3, lease_token = NULL
   FROM unnest($1::bigint[], $2::bigint[]) AS x(seq, token)
   WHERE d.seq = x.seq AND d.lease_token = x.token AND d.state = 0`,
);

export async function release(db: Database, deliveryIds: string[], dueAtMs: number): Promise<void> {
  const ids = deliveryIds.map(parseDeliveryId).filter((x) => x !== null);
  if (ids.length === 0) return;
  ids.sort((a, b) => a.seq - b.seq);
  await db.query(releaseStmt([ids.map((x) => x.seq), ids.map((x) => x.token), ms(dueAtMs)]), undefined, {
    lazy: true,
  });
}

const nextDueStmt = statement(
  'herald_next_due',
  'SELECT MIN(due_at) AS due FROM deliveries WHERE subscription_id = $1 AND state = 0',
);

export async function nextDueAt(db: Database, subscriptionId: string): Promise<number | null> {
  const [row] = await db.query(nextDueStmt([subscriptionId]));
  return row?.due ?? null;
}

export async function list(
  db: Database,
  subscriptionId: string,
  state: 'pending' | 'failed',
  limit: number,
  cursor?: string,
): Promise<{ deliveries: Delivery[]; next?: string }> {
  const after = cursor ? Number(cursor) || 0 : 0;
  const rows = await db.query<DeliveryRow>(
    `SELECT d.seq, d.subscription_id, COALESCE(m.id, d.message_id) AS message_id, d.state,
            (d.lease_token IS NOT NULL AND d.due_at > $5) AS leased, d.attempts, d.due_at, d.last_error, d.created_at
     FROM deliveries d LEFT JOIN messages m ON m.mseq = d.mseq
     WHERE d.subscription_id = $1 AND d.state = $2 AND d.seq > $3 ORDER BY d.seq LIMIT $4`,
    [subscriptionId, state === 'failed' ? 2 : 0, after, limit + 1, Date.now()],
  );
  const page = rows.slice(0, limit).map(toDelivery);
  return rows.length > limit ? { deliveries: page, next: page[page.length - 1].id } : { deliveries: page };
}

export async function retryFailed(client: Client, subscriptionId: string, nowMs: number): Promise<number> {
  const result = await client.query(
    `UPDATE deliveries SET state = 0, attempts = 0, due_at = $2, last_error = NULL, lease_token = NULL
     WHERE subscription_id = $1 AND state = 2`,
    [subscriptionId, ms(nowMs)],
  );
  return result.rowCount ?? 0;
}

const dropDeliveriesStmt = statement(
  'herald_drop_subscription_deliveries',
  `WITH gone AS (DELETE FROM deliveries WHERE subscription_id = ANY($1::text[]) RETURNING mseq)
   UPDATE messages m SET pending = m.pending - g.n
   FROM (SELECT mseq, count(*)::int AS n FROM gone WHERE mseq IS NOT NULL GROUP BY mseq) g
   WHERE m.mseq = g.mseq RETURNING m.mseq, m.pending`,
);

/**
 * Remove the subscriptions' deliveries and their shares of fanout messages. The delivery rows
 * go first, all in one statement, then their messages: the order `complete` takes them in (a
 * delivery, then its message), so the two cannot deadlock. And only what this DELETE removed
 * is counted off a message: a delivery finished meanwhile by `complete` was counted there
 * (counting it again took the message away from subscriptions still owed it).
 */
export async function dropSubscriptions(client: Client, subscriptionIds: string[]): Promise<void> {
  if (subscriptionIds.length === 0) return;
  const counted = await client.query(dropDeliveriesStmt([subscriptionIds]));
  const emptied = counted.rows.filter((r) => r.pending <= 0).map((r) => r.mseq);
  if (emptied.length > 0) await client.query(dropMessages([emptied]));
}

const ATTEMPT_COLUMNS = 'id, subscription_id, message_id, attempt, at, status, latency_ms, ok, error_class, error';

export async function attempts(db: Database, q: AttemptQuery): Promise<{ attempts: Attempt[]; next?: string }> {
  const before = q.cursor ? Number(q.cursor) || Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  const n = q.limit + 1;
  let rows: AttemptRow[];
  if (q.messageId && q.subscriptionId) {
    rows = await db.query(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE message_id = $1 AND subscription_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4`,
      [q.messageId, q.subscriptionId, before, n],
    );
  } else if (q.messageId) {
    rows = await db.query(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE message_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [q.messageId, before, n],
    );
  } else {
    rows = await db.query(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE subscription_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [q.subscriptionId ?? '', before, n],
    );
  }
  const page = rows.slice(0, q.limit).map(toAttempt);
  return rows.length > q.limit ? { attempts: page, next: String(page[page.length - 1].id) } : { attempts: page };
}
