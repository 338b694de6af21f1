/**
 * Queue message statements for PostgreSQL. Queues are named in the statements (a subquery
 * finds the qid) rather than cached, because another node may delete or re-create a queue.
 *
 * A receive is one statement: pick visible messages with `FOR UPDATE SKIP LOCKED` (rows
 * another node is receiving right now are passed over), move those past `maxReceiveCount`
 * to the dead-letter queue, and hide the rest with a fresh random receipt each. Several
 * nodes receiving at once never get the same message while it is invisible: the second
 * either skips the locked row or, once the first committed, sees it is no longer visible.
 */
import type { QueueStats, ReceivedMessage } from '../../types.js';
import type { AckResult } from '../store.js';
import { withRowExtras } from '../received-message.js';
import { statement, type Client, type Database } from './database.js';
import * as groups from './fifo-groups.js';
import { decodeAttributes, formatReceipt, iso, ms, parseReceipt } from './rows.js';

export interface NewQueueMessage {
  qid: number;
  id: string;
  body: string;
  attributes: string | null;
  /** Typed attributes as stored JSON (sends only). */
  messageAttributes?: string | null;
  traceHeader?: string | null;
  sentAtMs: number;
  visibleAtMs: number;
  source: string | null;
  topic: string | null;
  lastError: string | null;
  groupId?: string | null;
  dedupId?: string | null;
}

// Rows are inserted, and take their sequence numbers, in array order (WITH ORDINALITY and
// ORDER BY make that explicit): a batch keeps its order within every queue and group.
const insertStmt = statement(
  'herald_insert_queue_messages',
  `INSERT INTO queue_messages (qid, id, body, attributes, sent_at, visible_at, source, topic, last_error,
     message_attributes, trace_header, group_id, dedup_id)
   SELECT qid, id, body, attributes, sent_at, visible_at, source, topic, last_error,
     message_attributes, trace_header, group_id, dedup_id
   FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[],
               $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
        WITH ORDINALITY AS x(qid, id, body, attributes, sent_at, visible_at, source, topic, last_error,
          message_attributes, trace_header, group_id, dedup_id, ord)
   ORDER BY ord
   RETURNING seq`,
);

/**
 * One multi-row insert for any number of messages (sends, topic copies, dead letters).
 * Returns their sequence numbers, in the order of `rows`.
 */
export async function insertQueueMessages(client: Client, rows: NewQueueMessage[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const cols: unknown[][] = Array.from({ length: 13 }, () => []);
  for (const r of rows) {
    [
      r.qid,
      r.id,
      r.body,
      r.attributes,
      r.sentAtMs,
      r.visibleAtMs,
      r.source,
      r.topic,
      r.lastError,
      r.messageAttributes ?? null,
      r.traceHeader ?? null,
      r.groupId ?? null,
      r.dedupId ?? null,
    ].forEach((v, i) => cols[i].push(v));
  }
  const result = await client.query(insertStmt(cols));
  // Sequence numbers are allocated in insertion order, so sorting them restores `rows` order.
  return result.rows.map((r) => r.seq as number).sort((a, b) => a - b);
}

// $1 queue, $2 now, $3 max, $4 visible-at after the receive, $5 dead-letter queue name (or
// NULL), $6 maxReceiveCount (0: never). The receipt nonce is random per row, below 2^52.
const receiveStmt = statement(
  'herald_receive',
  `WITH q AS (SELECT qid FROM queues WHERE name = $1),
   dlq AS (SELECT qid FROM queues WHERE name = $5),
   picked AS (
     SELECT seq, visible_at, receive_count >= $6 AND $6 > 0 AND EXISTS (SELECT 1 FROM dlq) AS dead
     FROM queue_messages
     WHERE qid = (SELECT qid FROM q) AND visible_at <= $2
     ORDER BY visible_at, seq LIMIT $3
     FOR UPDATE SKIP LOCKED),
   moved AS (
     UPDATE queue_messages m SET qid = (SELECT qid FROM dlq), visible_at = $2, receive_count = 0, receipt = 0,
            source = 'queue:' || $1
     FROM picked p WHERE m.seq = p.seq AND p.dead RETURNING m.seq, p.visible_at AS ord),
   got AS (
     UPDATE queue_messages m SET visible_at = $4, receive_count = m.receive_count + 1,
            receipt = 1 + floor(random() * 4503599627370495)::bigint,
            first_received_at = COALESCE(m.first_received_at, $2)
     FROM picked p WHERE m.seq = p.seq AND NOT p.dead
     RETURNING p.visible_at AS ord, m.seq, m.id, m.body, m.attributes, m.sent_at, m.receive_count, m.receipt,
               m.source, m.topic, m.last_error, m.message_attributes, m.trace_header, m.first_received_at,
               m.group_id, m.dedup_id)
   SELECT false AS dead, got.* FROM got
   UNION ALL SELECT true, ord, seq, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
   FROM moved
   ORDER BY ord, seq`,
);

export interface ReceivedRow {
  dead?: boolean;
  seq: number;
  id: string;
  body: string;
  attributes: string | null;
  sent_at: number;
  receive_count: number;
  receipt: number;
  source: string | null;
  topic: string | null;
  last_error: string | null;
  message_attributes: string | null;
  trace_header: string | null;
  first_received_at: number;
  group_id: string | null;
  dedup_id: string | null;
}

/** Standard queues; FIFO queues receive through fifo-groups.ts. */
export async function receive(
  db: Database,
  queue: { name: string; maxReceiveCount: number; deadLetterQueue: string | null },
  max: number,
  visibilityMs: number,
  nowMs: number,
): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  // Loop because dead-lettered rows do not count towards `max`.
  while (out.length < max) {
    const rows = await db.query<ReceivedRow>(
      receiveStmt([
        queue.name,
        ms(nowMs),
        max - out.length,
        ms(nowMs + visibilityMs),
        queue.deadLetterQueue,
        queue.maxReceiveCount,
      ]),
      undefined,
      { lazy: true },
    );
    for (const r of rows) if (!r.dead) out.push(toReceived(r, false));
    if (!rows.some((r) => r.dead)) break;
  }
  return out;
}

export function toReceived(r: ReceivedRow, fifo: boolean): ReceivedMessage {
  const m: ReceivedMessage = {
    id: r.id,
    body: r.body,
    attributes: decodeAttributes(r.attributes),
    receipt: formatReceipt(r.seq, r.receipt),
    receiveCount: r.receive_count,
    sentAt: iso(r.sent_at),
    firstReceivedAt: iso(r.first_received_at),
  };
  return withRowExtras(m, r, fifo);
}

const ackStmt = statement(
  'herald_ack',
  `DELETE FROM queue_messages m USING unnest($2::bigint[], $3::bigint[]) AS x(seq, receipt)
   WHERE m.seq = x.seq AND m.receipt = x.receipt AND m.qid = (SELECT qid FROM queues WHERE name = $1)
   RETURNING m.seq, m.receipt, m.qid, m.group_id, m.sent_at`,
);

export async function ack(db: Database, queue: string, receipts: string[]): Promise<AckResult> {
  const parsed = receipts.map(parseReceipt);
  const valid = parsed.filter((p) => p !== null);
  const deleted = new Set<string>();
  if (valid.length > 0) {
    const rows = await db.query(ackStmt([queue, valid.map((p) => p.seq), valid.map((p) => p.nonce)]), undefined, {
      lazy: true,
    });
    for (const r of rows) deleted.add(`${r.seq}.${r.receipt}`);
    // After the delete committed (see fifo-groups.ts): the groups' heads may be gone. The
    // hint is the acked message's send time, which keeps groups served oldest message first
    // (see ackedHint in ../sqlite/queue-messages.ts).
    const fifo = rows.filter((r) => r.group_id !== null);
    await groups.lower(
      db,
      fifo.map((r) => ({ qid: r.qid, groupId: r.group_id, atMs: r.sent_at })),
    );
  }
  const result: AckResult = { acked: 0, failed: [] };
  const seen = new Set<string>();
  receipts.forEach((receipt, i) => {
    const p = parsed[i];
    const key = p ? `${p.seq}.${p.nonce}` : '';
    // The same receipt twice in one call acks once, as two separate deletes would.
    if (p && deleted.has(key) && !seen.has(key)) {
      seen.add(key);
      result.acked++;
    } else {
      result.failed.push({
        receipt,
        error: {
          code: 'invalid_receipt',
          message: 'receipt is unknown, was already acked, or was replaced by a later receive',
        },
      });
    }
  });
  return result;
}

export async function changeVisibility(
  db: Database,
  queue: string,
  receipt: string,
  visibleAtMs: number,
): Promise<boolean> {
  const parsed = parseReceipt(receipt);
  if (!parsed) return false;
  const rows = await db.query(
    `UPDATE queue_messages SET visible_at = $4
     WHERE seq = $2 AND receipt = $3 AND receive_count > 0 AND qid = (SELECT qid FROM queues WHERE name = $1)
     RETURNING qid, group_id`,
    [queue, parsed.seq, parsed.nonce, ms(visibleAtMs)],
    { lazy: true },
  );
  if (rows[0]?.group_id != null) {
    await groups.lower(db, [{ qid: rows[0].qid, groupId: rows[0].group_id, atMs: visibleAtMs }]);
  }
  return rows.length === 1;
}

export async function nextVisibleAt(db: Database, qid: number): Promise<number | null> {
  const [row] = await db.query('SELECT MIN(visible_at) AS t FROM queue_messages WHERE qid = $1', [qid]);
  return row?.t ?? null;
}

/** The three counts of QueueStats, with `now` as parameter `$n`. */
const statsSql = (now: string) => `SELECT count(*) FILTER (WHERE visible_at <= ${now}) AS visible,
       count(*) FILTER (WHERE visible_at > ${now} AND receive_count > 0) AS in_flight,
       count(*) FILTER (WHERE visible_at > ${now} AND receive_count = 0) AS delayed`;

export async function stats(db: Database, qid: number, nowMs: number): Promise<QueueStats> {
  const [r] = await db.query(`${statsSql('$2')} FROM queue_messages WHERE qid = $1`, [qid, ms(nowMs)]);
  return { visible: r.visible, inFlight: r.in_flight, delayed: r.delayed };
}

/** Depth of every queue in one statement (queues without messages report zeros). */
export async function depths(db: Database, nowMs: number): Promise<Array<{ queue: string } & QueueStats>> {
  const rows = await db.query(
    `SELECT q.name, s.* FROM queues q CROSS JOIN LATERAL (${statsSql('$1')} FROM queue_messages WHERE qid = q.qid) s
     ORDER BY q.name`,
    [ms(nowMs)],
  );
  return rows.map((r) => ({ queue: r.name, visible: r.visible, inFlight: r.in_flight, delayed: r.delayed }));
}

/** Retention: drop every queue's messages older than its retention period. */
export async function expire(client: Client, nowMs: number): Promise<void> {
  // Groups whose messages expired may have lost their head: lower their hints.
  await client.query(
    `WITH gone AS (
       DELETE FROM queue_messages m USING queues q WHERE m.qid = q.qid AND m.sent_at < $1 - q.retention_ms
       RETURNING m.qid, m.group_id)
     UPDATE fifo_groups g SET available_at = 0
     FROM (SELECT DISTINCT qid, group_id FROM gone WHERE group_id IS NOT NULL) x
     WHERE g.qid = x.qid AND g.group_id = x.group_id`,
    [ms(nowMs)],
  );
}

export interface DeadRow {
  seq: number;
  id: string;
  body: string;
  attributes: string | null;
  sent_at: number;
  source: string | null;
  group_id: string | null;
}

/** Oldest messages of a dead-letter queue, locked for a redrive (other redrives skip them). */
export async function oldest(client: Client, qid: number, limit: number): Promise<DeadRow[]> {
  const result = await client.query(
    `SELECT seq, id, body, attributes, sent_at, source, group_id FROM queue_messages WHERE qid = $1
     ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [qid, limit],
  );
  return result.rows;
}

/** Redrive: move dead letters back to queue `to`, keeping their sequence (their place in their group). */
export async function moveTo(
  client: Client,
  rows: DeadRow[],
  fromQid: number,
  to: { qid: number; fifo: boolean },
  nowMs: number,
): Promise<void> {
  await client.query(
    `UPDATE queue_messages SET qid = $2, visible_at = $3, receive_count = 0, receipt = 0, source = NULL, last_error = NULL
     WHERE seq = ANY($1::bigint[])`,
    [rows.map((r) => r.seq), to.qid, ms(nowMs)],
  );
  const grouped = rows.filter((r) => r.group_id !== null);
  await groups.lower(
    client,
    grouped.map((r) => ({ qid: fromQid, groupId: r.group_id!, atMs: 0 })),
  );
  if (to.fifo)
    await groups.movedIn(
      client,
      grouped.map((r) => ({ qid: to.qid, groupId: r.group_id!, atMs: nowMs })),
    );
}

export async function remove(client: Client, seqs: number[]): Promise<void> {
  await client.query('DELETE FROM queue_messages WHERE seq = ANY($1::bigint[])', [seqs]);
}
