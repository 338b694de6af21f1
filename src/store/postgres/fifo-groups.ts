/**
 * The message groups of FIFO queues on PostgreSQL: one `fifo_groups` row per (queue, group)
 * with messages, whose `available_at` hints when the group can next be served. Why a table,
 * and the invariant it keeps (the hint is never later than the moment the group's head
 * becomes visible; only a receive that read the messages raises it or drops the row), are
 * explained in ../sqlite/fifo-groups.ts; the statements here keep the same rules.
 *
 * What several nodes add: the group row is the group's lock. A receive claims candidate
 * groups with `FOR UPDATE SKIP LOCKED` and reads their messages in a LATER statement (under
 * READ COMMITTED that statement sees everything committed before the lock was granted), so
 *  - two receivers never serve one group at once: the second skips the locked row, and once
 *    the first commits, the row's raised hint keeps it out of the second's range scan;
 *  - a sender always takes the same row lock (an upsert, never DO NOTHING) after inserting
 *    its message, so a receive that drops the row of a group it found empty cannot lose a
 *    message being sent: the sender either committed first (the receive saw its message) or
 *    waits and re-inserts the row;
 *  - sends to a FIFO queue hold its `queues` row (FOR NO KEY UPDATE, see commit-batcher.ts)
 *    while they allocate sequence numbers, so sequence order is commit order and a new
 *    message is always last in its group.
 * Acks and visibility changes lower the hint in a statement after their own commit: lowered
 * before, a receive could read the message still there and raise the hint past it.
 */
import type { Queue, ReceivedMessage } from '../../types.js';
import { DEAD_SLACK, planGroupRun } from '../fifo-run.js';
import { statement, type Client, type Database, type Query } from './database.js';
import { ms } from './rows.js';
import { toReceived, type ReceivedRow } from './queue-messages.js';

/** A group row to insert or lower: which queue, which group, from when it may be served. */
export interface GroupHint {
  qid: number;
  groupId: string;
  atMs: number;
}

// $4 is now. A hint later than now means the head is in flight or delayed until then, and a
// sent message is last in its group: keep the hint. Otherwise take the earlier time.
const sentStmt = statement(
  'herald_fifo_groups_sent',
  `INSERT INTO fifo_groups AS g (qid, group_id, available_at)
   SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[])
   ON CONFLICT (qid, group_id) DO UPDATE SET available_at =
     CASE WHEN g.available_at > $4 THEN g.available_at ELSE LEAST(g.available_at, EXCLUDED.available_at) END`,
);

/**
 * Groups that got messages from a send or a topic copy. `nowMs`: the latest "now" of the
 * calls committed together (the later, the more often the hint is lowered: always safe).
 */
export async function sent(client: Client, hints: GroupHint[], nowMs: number): Promise<void> {
  const rows = uniqueGroups(hints);
  if (rows.length === 0) return;
  await client.query(
    sentStmt([rows.map((r) => r.qid), rows.map((r) => r.groupId), rows.map((r) => ms(r.atMs)), ms(nowMs)]),
  );
}

/** Groups that got messages moved in (dead letters, redrive): they may be older than the head. */
export async function movedIn(client: Client, hints: GroupHint[]): Promise<void> {
  const rows = uniqueGroups(hints);
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO fifo_groups AS g (qid, group_id, available_at)
     SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[])
     ON CONFLICT (qid, group_id) DO UPDATE SET available_at = LEAST(g.available_at, EXCLUDED.available_at)`,
    [rows.map((r) => r.qid), rows.map((r) => r.groupId), rows.map((r) => ms(r.atMs))],
  );
}

/** The groups may be servable from `atMs` (a head acked, released, expired or moved away). */
export async function lower(db: { query(q: Query): Promise<unknown> }, hints: GroupHint[]): Promise<void> {
  const rows = uniqueGroups(hints);
  if (rows.length === 0) return;
  await db.query({
    text: `UPDATE fifo_groups g SET available_at = LEAST(g.available_at, x.at)
           FROM unnest($1::int[], $2::text[], $3::bigint[]) AS x(qid, group_id, at)
           WHERE g.qid = x.qid AND g.group_id = x.group_id`,
    values: [rows.map((r) => r.qid), rows.map((r) => r.groupId), rows.map((r) => ms(r.atMs))],
  });
}

/** One row per (qid, group), the earliest time, sorted so concurrent writers lock in one order. */
function uniqueGroups(hints: GroupHint[]): GroupHint[] {
  const byKey = new Map<string, GroupHint>();
  for (const h of hints) {
    const key = `${h.qid}\n${h.groupId}`;
    const seen = byKey.get(key);
    if (!seen || h.atMs < seen.atMs) byKey.set(key, h);
  }
  return [...byKey.values()].sort(
    (a, b) => a.qid - b.qid || (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0),
  );
}

const candidatesStmt = statement(
  'herald_fifo_candidates',
  `SELECT group_id FROM fifo_groups WHERE qid = $1 AND available_at <= $2
   ORDER BY available_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
);

// The first $3 messages of each claimed group, in sequence order, locked: an ack or
// visibility change in progress on one of them finishes first, and we see its outcome.
const runsStmt = statement(
  'herald_fifo_runs',
  `SELECT g.ord, m.* FROM unnest($2::text[]) WITH ORDINALITY AS g(group_id, ord)
   CROSS JOIN LATERAL (
     SELECT seq, id, body, attributes, sent_at, visible_at, receive_count, receipt, source, topic, last_error,
            group_id, dedup_id, message_attributes, trace_header, first_received_at
     FROM queue_messages WHERE qid = $1 AND group_id = g.group_id ORDER BY seq LIMIT $3 FOR UPDATE) m
   ORDER BY g.ord, m.seq`,
);

const takeStmt = statement(
  'herald_fifo_take',
  `UPDATE queue_messages m SET visible_at = $2, receive_count = m.receive_count + 1,
          receipt = 1 + floor(random() * 4503599627370495)::bigint,
          first_received_at = COALESCE(m.first_received_at, $3)
   FROM unnest($1::bigint[]) WITH ORDINALITY AS x(seq, ord) WHERE m.seq = x.seq
   RETURNING x.ord, m.seq, m.id, m.body, m.attributes, m.sent_at, m.receive_count, m.receipt, m.source, m.topic,
             m.last_error, m.group_id, m.dedup_id, m.message_attributes, m.trace_header, m.first_received_at`,
);

type RunRow = ReceivedRow & { ord: number; visible_at: number };

/**
 * FIFO receive: one transaction that claims servable groups, reads a run from each head
 * (planGroupRun), hands the runs out, dead-letters what is past maxReceiveCount, and sets
 * each served group's hint (or drops the row of an empty one).
 */
export async function receive(db: Database, queue: Queue, max: number, visibilityMs: number, nowMs: number) {
  return db.tx(async (c): Promise<ReceivedMessage[]> => {
    const q = (await c.query('SELECT qid FROM queues WHERE name = $1', [queue.name])).rows[0];
    if (!q) return [];
    const dlq =
      queue.maxReceiveCount > 0 && queue.deadLetterQueue
        ? (await c.query('SELECT qid, fifo FROM queues WHERE name = $1 FOR KEY SHARE', [queue.deadLetterQueue])).rows[0]
        : undefined;
    const deadAfter = dlq ? queue.maxReceiveCount : 0;
    const take: number[] = [];
    const dead: RunRow[] = [];
    const hints: Array<{ group: string; at: number }> = [];
    const drops: string[] = [];
    const seen = new Set<string>();
    // A receive serves a group at most once; a few rounds in case claimed groups were stale.
    for (let round = 0; round < 4 && take.length < max; round++) {
      const want = max - take.length;
      // Up to 32 groups per round: each brings up to `want` rows, bounded work per round.
      const page = Math.min(want, 32) + seen.size;
      const all = (await c.query(candidatesStmt([q.qid, ms(nowMs), page]))).rows.map((r) => r.group_id as string);
      const claimed = all.filter((g) => !seen.has(g));
      if (claimed.length === 0) break;
      for (const g of claimed) seen.add(g);
      const fetched = want + (deadAfter > 0 ? DEAD_SLACK : 0);
      const rows = (await c.query(runsStmt([q.qid, claimed, fetched]))).rows as RunRow[];
      const byGroup = new Map<string, RunRow[]>(claimed.map((g) => [g, []]));
      for (const r of rows) byGroup.get(r.group_id!)!.push(r);
      for (const g of claimed) {
        const remaining = max - take.length;
        if (remaining === 0) break; // unread groups keep their hint
        const plan = planGroupRun(byGroup.get(g)!, { want: remaining, fetched, nowMs, visibilityMs, deadAfter });
        take.push(...plan.take.map((r) => r.seq));
        dead.push(...plan.dead);
        if (plan.availableAt === null) drops.push(g);
        else hints.push({ group: g, at: plan.availableAt });
      }
      if (all.length < page) break; // no more servable groups
    }
    if (dead.length > 0) {
      await c.query(
        `UPDATE queue_messages SET qid = $2, visible_at = $3, receive_count = 0, receipt = 0, source = 'queue:' || $4
         WHERE seq = ANY($1::bigint[])`,
        [dead.map((r) => r.seq), dlq!.qid, ms(nowMs), queue.name],
      );
      if (dlq!.fifo) {
        const into = dead.filter((r) => r.group_id !== null);
        await movedIn(
          c,
          into.map((r) => ({ qid: dlq!.qid, groupId: r.group_id!, atMs: nowMs })),
        );
      }
    }
    if (hints.length > 0) {
      await c.query(
        `UPDATE fifo_groups g SET available_at = x.at FROM unnest($2::text[], $3::bigint[]) AS x(group_id, at)
         WHERE g.qid = $1 AND g.group_id = x.group_id`,
        [q.qid, hints.map((h) => h.group), hints.map((h) => ms(h.at))],
      );
    }
    if (drops.length > 0) {
      await c.query('DELETE FROM fifo_groups WHERE qid = $1 AND group_id = ANY($2::text[])', [q.qid, drops]);
    }
    if (take.length === 0) return [];
    const got = (await c.query(takeStmt([take, ms(nowMs + visibilityMs), ms(nowMs)]))).rows as RunRow[];
    return got.sort((a, b) => a.ord - b.ord).map((r) => toReceived(r, true));
  });
}

/** When a receive should look again: the earliest group hint (a long poll sleeps until then). */
export async function nextAvailableAt(db: Database, qid: number): Promise<number | null> {
  const [row] = await db.query('SELECT MIN(available_at) AS t FROM fifo_groups WHERE qid = $1', [qid]);
  return row?.t ?? null;
}
