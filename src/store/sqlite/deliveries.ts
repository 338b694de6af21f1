/**
 * Delivery and attempt statements. Synchronous; run inside the commit queue's group.
 *
 * A message owed to one push subscription (the common case) is stored inline in its
 * delivery row: one row written, one deleted. A message owed to several is stored once in
 * `messages` with a `pending` count, each subscription getting a small `deliveries` row
 * pointing at it; finishing a delivery decrements the count and the message row goes when
 * it reaches zero, so a 1,000-subscription fanout stores the body once and garbage
 * collection never scans.
 *
 * Leases live in memory. Exactly one process opens a SQLite store (it holds an exclusive
 * lock), so a lease only has to exclude this process's own engine, and a crash forgets
 * every lease at once, which is precisely the recovery a restart needs. This saves an
 * indexed write per delivery; stores shared by several nodes keep leases in their rows.
 */
import type Database from 'better-sqlite3';
import type { Attempt, Delivery } from '../../types.js';
import type { AttemptQuery, AttemptRecord, LeasedDelivery } from '../store.js';
import {
  decodeAttributes,
  decodeExtras,
  ROWS_PER_STATEMENT,
  runInRows,
  toAttempt,
  toDelivery,
  type AttemptRow,
  type DeliveryRow,
} from './rows.js';

interface DueSeq {
  seq: number;
  due_at: number;
}

export interface MessageRow {
  id: string;
  topic: string;
  body: string;
  attributes: string | null;
  created_at: number;
}

const ATTEMPT_COLUMNS = 9;
const INLINE_COLUMNS = 8;

/** An attempt's columns, in insert order, into `out` from `at`. */
function attemptParams(a: AttemptRecord, out: unknown[], at: number): void {
  out[at] = a.subscriptionId;
  out[at + 1] = a.messageId;
  out[at + 2] = a.attempt;
  out[at + 3] = a.atMs;
  out[at + 4] = a.status;
  out[at + 5] = a.latencyMs;
  out[at + 6] = a.ok ? 1 : 0;
  out[at + 7] = a.errorClass;
  out[at + 8] = a.error;
}

export class Deliveries {
  private readonly insertMessageStmt;
  private readonly insertDeliveryStmt;
  private readonly insertInlineStmt;
  private readonly insertInlineManyStmt;
  /**
   * Inline rows of the publish in progress (see `batchInline`), INLINE_COLUMNS parameters
   * each, inserted ROWS_PER_STATEMENT to a statement; and their subscriptions and due times.
   */
  private inlineParams: unknown[] = [];
  private inlineOwed: Array<{ subscriptionId: string; dueAtMs: number }> = [];
  private batching = false;
  private readonly selectDueStmt;
  /** Per subscription: the last row leased, in due order, while it holds any lease. */
  private readonly cursors = new Map<string, { due: number; seq: number }>();
  /**
   * Subscriptions that may have a pending row not leased at or before their cursor (a row
   * committed behind it, a retry or release due earlier, a rolled-back outcome). Without
   * that mark, every pending row up to the cursor is known to be leased.
   */
  private readonly behind = new Set<string>();
  private readonly leaseAfterStmt;
  private readonly nextAfterStmt;
  private readonly leaseStmt;
  private readonly deleteStmt;
  private readonly deleteInlineStmt;
  private readonly deleteInlineManyStmt;
  private readonly retryStmt;
  private readonly failStmt;
  private readonly releaseStmt;
  private readonly decrementStmt;
  private readonly dropMessageStmt;
  private readonly dropLastStmt;
  /** Leased delivery seqs (in flight or buffered in the engine), per subscription. */
  private readonly leased = new Map<string, Set<number>>();
  private readonly leasedSeqs = new Map<number, string>();
  /** Leased seqs whose message is shared with other subscriptions (the rest store it inline). */
  private readonly leasedShared = new Set<number>();
  private readonly messageOfStmt;
  private readonly nextDueStmt;
  private readonly insertAttemptStmt;
  private readonly insertAttemptsStmt;
  private readonly recoverStmt;
  private readonly retryFailedStmt;
  private readonly dropForSubscriptionStmt;
  private readonly decrementForSubscriptionStmt;
  private readonly dropOrphanMessagesStmt;
  private readonly listStmts;
  private readonly attemptStmts;

  constructor(db: Database.Database) {
    this.insertMessageStmt = db.prepare(
      'INSERT INTO messages (id, topic, body, attributes, created_at, pending) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertDeliveryStmt = db.prepare(
      'INSERT INTO deliveries (subscription_id, mseq, due_at, created_at) VALUES (?, ?, ?, ?)',
    );
    const inlineInsert = (rows: number) =>
      `INSERT INTO deliveries (subscription_id, message_id, topic, body, attributes, published_at, due_at, created_at)
       VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    this.insertInlineStmt = db.prepare(inlineInsert(1));
    this.insertInlineManyStmt = db.prepare(inlineInsert(ROWS_PER_STATEMENT));
    // Index-only: (subscription_id, state, due_at) carries the rowid.
    this.selectDueStmt = db.prepare(
      `SELECT seq, due_at FROM deliveries WHERE subscription_id = ? AND state = 0 AND due_at <= ?
       ORDER BY due_at, seq LIMIT +?`,
    );
    // The steady state (see `lease`): the next rows after the cursor, with what the engine
    // needs to send them, in one statement.
    const leaseCols = `d.seq, d.due_at, d.subscription_id, d.attempts, COALESCE(m.id, d.message_id), COALESCE(m.topic, d.topic),
       COALESCE(m.body, d.body), COALESCE(m.attributes, d.attributes), COALESCE(m.created_at, d.published_at), d.mseq`;
    this.leaseAfterStmt = db
      .prepare(
        `SELECT ${leaseCols} FROM deliveries d LEFT JOIN messages m ON m.mseq = d.mseq
         WHERE d.subscription_id = ? AND d.state = 0 AND d.due_at <= ? AND d.due_at >= ? AND NOT (d.due_at = ? AND d.seq <= ?)
         ORDER BY d.due_at, d.seq LIMIT +?`,
      )
      .raw(true);
    this.nextAfterStmt = db.prepare(
      `SELECT seq, due_at FROM deliveries WHERE subscription_id = ? AND state = 0
       AND due_at >= ? AND NOT (due_at = ? AND seq <= ?) ORDER BY due_at, seq LIMIT +?`,
    );
    // All chosen rows in one statement (a JSON array of seqs), as arrays rather than objects.
    this.leaseStmt = db
      .prepare(
        `SELECT ${leaseCols} FROM deliveries d LEFT JOIN messages m ON m.mseq = d.mseq
         WHERE d.seq IN (SELECT value FROM json_each(?)) ORDER BY d.due_at, d.seq`,
      )
      .raw(true);
    this.deleteStmt = db.prepare('DELETE FROM deliveries WHERE seq = ? RETURNING mseq');
    this.deleteInlineStmt = db.prepare('DELETE FROM deliveries WHERE seq = ?');
    this.deleteInlineManyStmt = db.prepare(
      `DELETE FROM deliveries WHERE seq IN (${Array(ROWS_PER_STATEMENT).fill('?').join(', ')})`,
    );
    this.retryStmt = db.prepare(
      'UPDATE deliveries SET state = 0, lease_until = NULL, attempts = ?, due_at = ?, last_error = ? WHERE seq = ?',
    );
    this.failStmt = db.prepare(
      'UPDATE deliveries SET state = 2, lease_until = NULL, attempts = MAX(attempts, ?), last_error = ? WHERE seq = ? RETURNING mseq',
    );
    this.releaseStmt = db.prepare('UPDATE deliveries SET due_at = ? WHERE seq = ? AND state = 0');
    this.decrementStmt = db.prepare('UPDATE messages SET pending = pending - 1 WHERE mseq = ? RETURNING pending');
    this.dropMessageStmt = db.prepare('DELETE FROM messages WHERE mseq = ?');
    this.dropLastStmt = db.prepare('DELETE FROM messages WHERE mseq = ? AND pending = 1');
    this.messageOfStmt = db.prepare(
      `SELECT COALESCE(m.id, d.message_id) AS id, COALESCE(m.topic, d.topic) AS topic, COALESCE(m.body, d.body) AS body,
              COALESCE(m.attributes, d.attributes) AS attributes, COALESCE(m.created_at, d.published_at) AS created_at
       FROM deliveries d LEFT JOIN messages m ON m.mseq = d.mseq WHERE d.seq = ?`,
    );
    this.nextDueStmt = db.prepare(
      `SELECT seq, due_at FROM deliveries WHERE subscription_id = ? AND state = 0
       ORDER BY due_at, seq LIMIT +? OFFSET ?`,
    );
    const attemptInsert = (rows: number) =>
      `INSERT INTO attempts (subscription_id, message_id, attempt, at, status, latency_ms, ok, error_class, error)
       VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    this.insertAttemptStmt = db.prepare(attemptInsert(1));
    this.insertAttemptsStmt = db.prepare(attemptInsert(ROWS_PER_STATEMENT));
    this.recoverStmt = db.prepare('UPDATE deliveries SET state = 0, lease_until = NULL WHERE state = 1');
    this.retryFailedStmt = db.prepare(
      `UPDATE deliveries SET state = 0, attempts = 0, due_at = ?, last_error = NULL
       WHERE subscription_id = ? AND state = 2`,
    );
    this.decrementForSubscriptionStmt = db.prepare(
      `UPDATE messages SET pending = pending - 1
       WHERE mseq IN (SELECT mseq FROM deliveries WHERE subscription_id = ?)`,
    );
    this.dropForSubscriptionStmt = db.prepare('DELETE FROM deliveries WHERE subscription_id = ?');
    this.dropOrphanMessagesStmt = db.prepare(
      `DELETE FROM messages WHERE pending <= 0
       AND mseq IN (SELECT mseq FROM deliveries WHERE subscription_id = ?)`,
    );
    const listSql = (states: string) =>
      `SELECT d.seq, d.subscription_id, COALESCE(m.id, d.message_id) AS message_id, d.state, d.attempts, d.due_at, d.last_error, d.created_at
       FROM deliveries d LEFT JOIN messages m ON m.mseq = d.mseq
       WHERE d.subscription_id = ? AND d.state IN (${states}) AND d.seq > ? ORDER BY d.seq LIMIT +?`;
    this.listStmts = { pending: db.prepare(listSql('0')), failed: db.prepare(listSql('2')) };
    const cols = 'id, subscription_id, message_id, attempt, at, status, latency_ms, ok, error_class, error';
    this.attemptStmts = {
      bySubscription: db.prepare(
        `SELECT ${cols} FROM attempts WHERE subscription_id = ? AND id < ? ORDER BY id DESC LIMIT +?`,
      ),
      byMessage: db.prepare(`SELECT ${cols} FROM attempts WHERE message_id = ? AND id < ? ORDER BY id DESC LIMIT +?`),
      byBoth: db.prepare(
        `SELECT ${cols} FROM attempts WHERE message_id = ? AND subscription_id = ? AND id < ? ORDER BY id DESC LIMIT +?`,
      ),
      maxId: db.prepare('SELECT MAX(id) AS id FROM attempts'),
      atOf: db.prepare('SELECT at FROM attempts WHERE id >= ? ORDER BY id LIMIT 1'),
      expire: db.prepare('DELETE FROM attempts WHERE id < ?'),
    };
  }

  /**
   * Run `write` (one publish) with the inline rows it creates (`create` of a message owed to
   * one subscription) inserted ROWS_PER_STATEMENT to a statement, which took about a tenth
   * off the server's CPU per message of 1,000-message batches (docs/benchmarks.md). Rows
   * keep their order: what waits is inserted before any other delivery row, and when `write`
   * ends. If `write` throws, what waits is dropped (its savepoint rolls back the rest).
   */
  batchInline<T>(write: () => T): T {
    if (this.batching) return write();
    this.batching = true;
    try {
      const result = write();
      this.flushInline();
      return result;
    } finally {
      this.batching = false;
      this.inlineParams.length = 0;
      this.inlineOwed = [];
    }
  }

  /** Insert the inline rows waiting (see batchInline), in order. */
  private flushInline(): void {
    const owed = this.inlineOwed;
    if (owed.length === 0) return;
    const params = this.inlineParams;
    if (owed.length === ROWS_PER_STATEMENT) {
      const last = this.insertInlineManyStmt.run(params).lastInsertRowid as number;
      // One statement's rows get consecutive rowids, each one more than the largest before
      // it (SQLite picks at random only once rowids reach 2^63 - 1).
      for (let j = 0; j < ROWS_PER_STATEMENT; j++) {
        this.mark(owed[j].subscriptionId, owed[j].dueAtMs, last - (ROWS_PER_STATEMENT - 1) + j);
      }
    } else {
      for (let i = 0; i < owed.length; i++) {
        const seq = this.insertInlineStmt.run(params.slice(i * INLINE_COLUMNS, (i + 1) * INLINE_COLUMNS))
          .lastInsertRowid as number;
        this.mark(owed[i].subscriptionId, owed[i].dueAtMs, seq);
      }
    }
    params.length = 0;
    this.inlineOwed = [];
  }

  /** Store a message once (inline when one subscription is owed it) and create its deliveries. */
  create(
    m: { id: string; topic: string; body: string; attributes: string | null; createdAtMs: number },
    deliveries: Array<{ subscriptionId: string; dueAtMs: number }>,
    nowMs: number,
  ): void {
    if (deliveries.length === 1) {
      const d = deliveries[0];
      if (this.batching) {
        this.inlineParams.push(d.subscriptionId, m.id, m.topic, m.body, m.attributes, m.createdAtMs, d.dueAtMs, nowMs);
        this.inlineOwed.push(d);
        if (this.inlineOwed.length === ROWS_PER_STATEMENT) this.flushInline();
        return;
      }
      const seq = this.insertInlineStmt.run(
        d.subscriptionId,
        m.id,
        m.topic,
        m.body,
        m.attributes,
        m.createdAtMs,
        d.dueAtMs,
        nowMs,
      ).lastInsertRowid as number;
      this.mark(d.subscriptionId, d.dueAtMs, seq);
      return;
    }
    this.flushInline(); // rows keep their order
    const mseq = this.insertMessageStmt.run(m.id, m.topic, m.body, m.attributes, m.createdAtMs, deliveries.length)
      .lastInsertRowid as number;
    for (const d of deliveries) {
      const seq = this.insertDeliveryStmt.run(d.subscriptionId, mseq, d.dueAtMs, nowMs).lastInsertRowid as number;
      this.mark(d.subscriptionId, d.dueAtMs, seq);
    }
  }

  /** A row of the subscription became pending at (due, seq): note it if that is behind the cursor. */
  private mark(subscriptionId: string, due: number, seq: number): void {
    const c = this.cursors.get(subscriptionId);
    if (c && (due < c.due || (due === c.due && seq <= c.seq))) this.behind.add(subscriptionId);
  }

  /** Forget every cursor (after a failed write, whose rows may be back, pending, behind them). */
  forgetCursors(): void {
    this.cursors.clear();
    this.behind.clear();
  }

  /**
   * Lease up to `limit` due rows of a subscription, in due order. Leased rows (in flight,
   * buffered, or finished but not yet committed) are still state 0 and sit at the front of
   * the due order. In the steady state every pending row up to the cursor (the last row
   * leased) is leased, so one seek past the cursor finds the next rows, however many are
   * leased. Without a cursor, or when a row may have landed behind it (`behind`), the due
   * rows are walked from the start, skipping leased ones; that walk also re-establishes the
   * steady state.
   */
  lease(subscriptionId: string, nowMs: number, limit: number): LeasedDelivery[] {
    let mine = this.leased.get(subscriptionId);
    if (!mine) this.leased.set(subscriptionId, (mine = new Set()));
    const cursor = this.cursors.get(subscriptionId);
    let rows: unknown[][];
    if (cursor && !this.behind.has(subscriptionId)) {
      rows = this.leaseAfterStmt.all(subscriptionId, nowMs, cursor.due, cursor.due, cursor.seq, limit) as unknown[][];
      if (rows.some((r) => mine.has(r[0] as number))) {
        // Not the steady state after all; take the unleased ones and walk from the start next time.
        rows = rows.filter((r) => !mine.has(r[0] as number));
        this.behind.add(subscriptionId);
      }
    } else {
      const scanned = this.selectDueStmt.all(subscriptionId, nowMs, limit + mine.size) as DueSeq[];
      const picked = scanned.filter((r) => !mine.has(r.seq)).slice(0, limit);
      // `picked` are the first unleased due rows: once they are leased, every pending row up
      // to the last of them is leased; and when that was every unleased due row, every one up
      // to the cursor too (unless the clock went back past the cursor's due time).
      const last = picked[picked.length - 1];
      const exhausted = picked.length < limit && (!cursor || cursor.due <= nowMs);
      if (
        exhausted ||
        !cursor ||
        (last && (last.due_at > cursor.due || (last.due_at === cursor.due && last.seq > cursor.seq)))
      )
        this.behind.delete(subscriptionId);
      rows = picked.length ? (this.leaseStmt.all(JSON.stringify(picked.map((r) => r.seq))) as unknown[][]) : [];
    }
    let last = cursor;
    const out: LeasedDelivery[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [seq, due, subscription, attempts, id, topic, body, attributes, createdAt, mseq] = rows[i] as [
        number,
        number,
        string,
        number,
        string,
        string,
        string,
        string | null,
        number,
        number | null,
      ];
      if (mseq !== null) this.leasedShared.add(seq);
      if (!last || due > last.due || (due === last.due && seq > last.seq)) last = { due, seq };
      mine.add(seq);
      this.leasedSeqs.set(seq, subscriptionId);
      const leased: LeasedDelivery = {
        deliveryId: String(seq),
        subscriptionId: subscription,
        attempts,
        messageId: id,
        topic,
        body,
        attributes: decodeAttributes(attributes),
        publishedAtMs: createdAt,
      };
      // Most messages have no attributes at all: no spread of an empty object per delivery.
      if (attributes !== null) Object.assign(leased, decodeExtras(attributes));
      out[i] = leased;
    }
    if (last && last !== cursor) this.cursors.set(subscriptionId, last);
    return out;
  }

  private unlease(seq: number): void {
    const sub = this.leasedSeqs.get(seq);
    if (sub === undefined) return;
    this.leasedSeqs.delete(seq);
    if (this.leasedShared.size > 0) this.leasedShared.delete(seq);
    const mine = this.leased.get(sub);
    mine?.delete(seq);
    if (mine && mine.size === 0) {
      this.leased.delete(sub);
      this.cursors.delete(sub); // nothing leased: the next lease scans from the start
      this.behind.delete(sub);
    }
  }

  /** Log attempts, in order: ROWS_PER_STATEMENT to a statement, then one by one. */
  recordAttempts(attempts: readonly AttemptRecord[]): void {
    runInRows(attempts, ATTEMPT_COLUMNS, attemptParams, this.insertAttemptsStmt, this.insertAttemptStmt);
  }

  /** Finish a delivery (delivered or dead-lettered): drop it and release its share of the message. */
  finish(deliveryId: string): void {
    this.finishAll([deliveryId]);
  }

  /**
   * Finish deliveries (see `finish`). Those leased here with their message inline (the
   * common case) go ROWS_PER_STATEMENT to a plain delete; RETURNING would cost a third more.
   */
  finishAll(deliveryIds: readonly string[]): void {
    const inline: number[] = [];
    for (const id of deliveryIds) {
      const seq = Number(id);
      const plain = this.leasedSeqs.has(seq) && !this.leasedShared.has(seq);
      this.unlease(seq);
      if (plain) inline.push(seq);
      else this.finishShared(seq);
    }
    let i = 0;
    for (; i + ROWS_PER_STATEMENT <= inline.length; i += ROWS_PER_STATEMENT)
      this.deleteInlineManyStmt.run(inline.slice(i, i + ROWS_PER_STATEMENT));
    for (; i < inline.length; i++) this.deleteInlineStmt.run(inline[i]);
  }

  /** Drop a delivery that may point at a shared message row (or was not leased here). */
  private finishShared(seq: number): void {
    const row = this.deleteStmt.get(seq) as { mseq: number | null } | undefined;
    if (!row || row.mseq === null) return; // inline: nothing else to release
    // The common case, a message with one webhook subscription, is a single statement.
    if (this.dropLastStmt.run(row.mseq).changes === 1) return;
    const left = this.decrementStmt.get(row.mseq) as { pending: number } | undefined;
    if (left && left.pending <= 0) this.dropMessageStmt.run(row.mseq);
  }

  retry(deliveryId: string, attempts: number, dueAtMs: number, lastError: string | null): void {
    const seq = Number(deliveryId);
    const sub = this.leasedSeqs.get(seq);
    this.unlease(seq);
    this.retryStmt.run(attempts, dueAtMs, lastError, seq);
    if (sub !== undefined) this.mark(sub, dueAtMs, seq);
  }

  /** Keep as failed (no dead-letter queue): listable, and retryable by an operator. */
  fail(deliveryId: string, attempts: number, reason: string): void {
    this.unlease(Number(deliveryId));
    this.failStmt.get(attempts, reason, Number(deliveryId));
  }

  /** Hand a leased delivery back, due at `dueAtMs`, without spending an attempt. */
  release(deliveryId: string, dueAtMs: number): void {
    const seq = Number(deliveryId);
    const sub = this.leasedSeqs.get(seq);
    if (sub === undefined) return;
    this.unlease(seq);
    this.releaseStmt.run(dueAtMs, seq);
    this.mark(sub, dueAtMs, seq);
  }

  messageOf(deliveryId: string): MessageRow | undefined {
    return this.messageOfStmt.get(Number(deliveryId)) as MessageRow | undefined;
  }

  /** When the next delivery not already leased falls due (leased rows are skipped as in `lease`). */
  nextDueAt(subscriptionId: string): number | null {
    const mine = this.leased.get(subscriptionId);
    const cursor = this.cursors.get(subscriptionId);
    if (mine && cursor && !this.behind.has(subscriptionId)) {
      // Steady state (see `lease`): the first pending row after the cursor is the next one.
      const [row] = this.nextAfterStmt.all(subscriptionId, cursor.due, cursor.due, cursor.seq, 1) as DueSeq[];
      if (!row) return null;
      if (!mine.has(row.seq)) return row.due_at;
    }
    if (!mine || mine.size === 0) {
      const row = this.nextDueStmt.get(subscriptionId, 1, 0) as { due_at: number } | undefined;
      return row?.due_at ?? null;
    }
    const [row] = this.nextDueStmt.all(subscriptionId, 1, mine.size) as Array<{ seq: number; due_at: number }>;
    if (row && !mine.has(row.seq)) return row.due_at;
    const rows = this.nextDueStmt.all(subscriptionId, mine.size + 1, 0) as Array<{ seq: number; due_at: number }>;
    return rows.find((r) => !mine.has(r.seq))?.due_at ?? null;
  }

  /** Rows leased in the database by an older layout; leases are in memory now. */
  recoverLeases(): number {
    return this.recoverStmt.run().changes;
  }

  retryFailed(subscriptionId: string, nowMs: number): number {
    if (this.cursors.has(subscriptionId)) this.behind.add(subscriptionId);
    return this.retryFailedStmt.run(nowMs, subscriptionId).changes;
  }

  dropSubscription(subscriptionId: string): void {
    for (const seq of this.leased.get(subscriptionId) ?? []) {
      this.leasedSeqs.delete(seq);
      this.leasedShared.delete(seq);
    }
    this.leased.delete(subscriptionId);
    this.cursors.delete(subscriptionId);
    this.behind.delete(subscriptionId);
    this.decrementForSubscriptionStmt.run(subscriptionId);
    this.dropOrphanMessagesStmt.run(subscriptionId);
    this.dropForSubscriptionStmt.run(subscriptionId);
  }

  list(
    subscriptionId: string,
    state: 'pending' | 'failed',
    limit: number,
    cursor?: string,
  ): { deliveries: Delivery[]; next?: string } {
    const after = cursor ? Number(cursor) || 0 : 0;
    const rows = this.listStmts[state].all(subscriptionId, after, limit + 1) as DeliveryRow[];
    for (const r of rows) if (r.state === 0 && this.leasedSeqs.has(r.seq)) r.state = 1;
    const page = rows.slice(0, limit).map(toDelivery);
    return rows.length > limit ? { deliveries: page, next: page[page.length - 1].id } : { deliveries: page };
  }

  attempts(q: AttemptQuery): { attempts: Attempt[]; next?: string } {
    const before = q.cursor ? Number(q.cursor) || Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    const n = q.limit + 1;
    let rows: AttemptRow[];
    if (q.messageId && q.subscriptionId)
      rows = this.attemptStmts.byBoth.all(q.messageId, q.subscriptionId, before, n) as AttemptRow[];
    else if (q.messageId) rows = this.attemptStmts.byMessage.all(q.messageId, before, n) as AttemptRow[];
    else rows = this.attemptStmts.bySubscription.all(q.subscriptionId ?? '', before, n) as AttemptRow[];
    const page = rows.slice(0, q.limit).map(toAttempt);
    return rows.length > q.limit ? { attempts: page, next: String(page[page.length - 1].id) } : { attempts: page };
  }

  /** Drop attempts older than `beforeMs`. Ids grow with time: binary-search the first id to keep. */
  expireAttempts(beforeMs: number): number {
    const max = (this.attemptStmts.maxId.get() as { id: number | null }).id;
    if (max === null) return 0;
    let lo = 1;
    let hi = max + 1; // first id whose attempt is at or after the cut-off (max + 1: none)
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.attemptStmts.atOf.get(mid) as { at: number } | undefined;
      if (!row || row.at >= beforeMs) hi = mid;
      else lo = mid + 1;
    }
    return this.attemptStmts.expire.run(lo).changes;
  }
}
