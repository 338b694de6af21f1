/**
 * Delivery and attempt statements. Synchronous; run inside the commit queue's group.
 *
 * A published message owed to push subscriptions is stored once in `messages` with a
 * `pending` count; each subscription gets a small `deliveries` row pointing at it. Finishing
 * a delivery decrements the count and the message row goes when it reaches zero, so a
 * 1,000-subscription fanout stores the body once and garbage collection never scans.
 */
import type Database from 'better-sqlite3';
import type { Attempt, Delivery } from '../../types.js';
import type { AttemptQuery, AttemptRecord, LeasedDelivery } from '../store.js';
import { decodeAttributes, toAttempt, toDelivery, type AttemptRow, type DeliveryRow } from './rows.js';

interface DueRow {
  seq: number;
  subscription_id: string;
  attempts: number;
  mseq: number;
  id: string;
  topic: string;
  body: string;
  attributes: string | null;
  created_at: number;
}

export interface MessageRow {
  mseq: number;
  id: string;
  topic: string;
  body: string;
  attributes: string | null;
  created_at: number;
}

export class Deliveries {
  private readonly insertMessageStmt;
  private readonly insertDeliveryStmt;
  private readonly selectDueStmt;
  private readonly leaseStmt;
  private readonly deleteStmt;
  private readonly retryStmt;
  private readonly failStmt;
  private readonly releaseStmt;
  private readonly decrementStmt;
  private readonly dropMessageStmt;
  private readonly messageOfStmt;
  private readonly nextDueStmt;
  private readonly insertAttemptStmt;
  private readonly recoverStmt;
  private readonly expireLeasesStmt;
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
    this.selectDueStmt = db.prepare(
      `SELECT d.seq, d.subscription_id, d.attempts, m.mseq, m.id, m.topic, m.body, m.attributes, m.created_at
       FROM deliveries d JOIN messages m ON m.mseq = d.mseq
       WHERE d.subscription_id = ? AND d.state = 0 AND d.due_at <= ?
       ORDER BY d.due_at LIMIT ?`,
    );
    this.leaseStmt = db.prepare('UPDATE deliveries SET state = 1, lease_until = ? WHERE seq = ?');
    this.deleteStmt = db.prepare('DELETE FROM deliveries WHERE seq = ? RETURNING mseq');
    this.retryStmt = db.prepare(
      'UPDATE deliveries SET state = 0, lease_until = NULL, attempts = ?, due_at = ?, last_error = ? WHERE seq = ?',
    );
    this.failStmt = db.prepare(
      'UPDATE deliveries SET state = 2, lease_until = NULL, attempts = MAX(attempts, ?), last_error = ? WHERE seq = ? RETURNING mseq',
    );
    this.releaseStmt = db.prepare(
      'UPDATE deliveries SET state = 0, lease_until = NULL, due_at = ? WHERE seq = ? AND state = 1',
    );
    this.decrementStmt = db.prepare('UPDATE messages SET pending = pending - 1 WHERE mseq = ?');
    this.dropMessageStmt = db.prepare('DELETE FROM messages WHERE mseq = ? AND pending <= 0');
    this.messageOfStmt = db.prepare(
      `SELECT m.mseq, m.id, m.topic, m.body, m.attributes, m.created_at
       FROM deliveries d JOIN messages m ON m.mseq = d.mseq WHERE d.seq = ?`,
    );
    this.nextDueStmt = db.prepare(
      'SELECT MIN(due_at) AS t FROM deliveries WHERE subscription_id = ? AND state = 0',
    );
    this.insertAttemptStmt = db.prepare(
      `INSERT INTO attempts (subscription_id, message_id, attempt, at, status, latency_ms, ok, error_class, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.recoverStmt = db.prepare('UPDATE deliveries SET state = 0, lease_until = NULL WHERE state = 1');
    this.expireLeasesStmt = db.prepare(
      'UPDATE deliveries SET state = 0, lease_until = NULL WHERE state = 1 AND lease_until < ?',
    );
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
      `SELECT d.seq, d.subscription_id, m.id AS message_id, d.state, d.attempts, d.due_at, d.last_error, d.created_at
       FROM deliveries d JOIN messages m ON m.mseq = d.mseq
       WHERE d.subscription_id = ? AND d.state IN (${states}) AND d.seq > ? ORDER BY d.seq LIMIT ?`;
    this.listStmts = { pending: db.prepare(listSql('0, 1')), failed: db.prepare(listSql('2')) };
    const cols = 'id, subscription_id, message_id, attempt, at, status, latency_ms, ok, error_class, error';
    this.attemptStmts = {
      bySubscription: db.prepare(
        `SELECT ${cols} FROM attempts WHERE subscription_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
      ),
      byMessage: db.prepare(`SELECT ${cols} FROM attempts WHERE message_id = ? AND id < ? ORDER BY id DESC LIMIT ?`),
      byBoth: db.prepare(
        `SELECT ${cols} FROM attempts WHERE message_id = ? AND subscription_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
      ),
      expire: db.prepare('DELETE FROM attempts WHERE at < ?'),
    };
  }

  /** Store a message once and create one delivery per subscription. */
  create(
    m: { id: string; topic: string; body: string; attributes: string | null; createdAtMs: number },
    deliveries: Array<{ subscriptionId: string; dueAtMs: number }>,
    nowMs: number,
  ): void {
    const mseq = this.insertMessageStmt.run(m.id, m.topic, m.body, m.attributes, m.createdAtMs, deliveries.length)
      .lastInsertRowid as number;
    for (const d of deliveries) this.insertDeliveryStmt.run(d.subscriptionId, mseq, d.dueAtMs, nowMs);
  }

  lease(subscriptionId: string, nowMs: number, limit: number, leaseUntilMs: number): LeasedDelivery[] {
    const rows = this.selectDueStmt.all(subscriptionId, nowMs, limit) as DueRow[];
    const out: LeasedDelivery[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      this.leaseStmt.run(leaseUntilMs, r.seq);
      out[i] = {
        deliveryId: String(r.seq),
        subscriptionId: r.subscription_id,
        attempts: r.attempts,
        messageId: r.id,
        topic: r.topic,
        body: r.body,
        attributes: decodeAttributes(r.attributes),
        publishedAtMs: r.created_at,
      };
    }
    return out;
  }

  recordAttempt(a: AttemptRecord): void {
    this.insertAttemptStmt.run(
      a.subscriptionId,
      a.messageId,
      a.attempt,
      a.atMs,
      a.status,
      a.latencyMs,
      a.ok ? 1 : 0,
      a.errorClass,
      a.error,
    );
  }

  /** Finish a delivery (delivered or dead-lettered): drop it and release its share of the message. */
  finish(deliveryId: string): void {
    const row = this.deleteStmt.get(Number(deliveryId)) as { mseq: number } | undefined;
    if (!row) return;
    this.decrementStmt.run(row.mseq);
    this.dropMessageStmt.run(row.mseq);
  }

  retry(deliveryId: string, attempts: number, dueAtMs: number, lastError: string | null): void {
    this.retryStmt.run(attempts, dueAtMs, lastError, Number(deliveryId));
  }

  /** Keep as failed (no dead-letter queue): listable, and retryable by an operator. */
  fail(deliveryId: string, attempts: number, reason: string): void {
    this.failStmt.get(attempts, reason, Number(deliveryId));
  }

  release(deliveryId: string, dueAtMs: number): void {
    this.releaseStmt.run(dueAtMs, Number(deliveryId));
  }

  messageOf(deliveryId: string): MessageRow | undefined {
    return this.messageOfStmt.get(Number(deliveryId)) as MessageRow | undefined;
  }

  nextDueAt(subscriptionId: string): number | null {
    return (this.nextDueStmt.get(subscriptionId) as { t: number | null }).t;
  }

  /** A previous process died holding leases; only one process opens a SQLite store. */
  recoverLeases(): number {
    return this.recoverStmt.run().changes;
  }

  expireLeases(nowMs: number): number {
    return this.expireLeasesStmt.run(nowMs).changes;
  }

  retryFailed(subscriptionId: string, nowMs: number): number {
    return this.retryFailedStmt.run(nowMs, subscriptionId).changes;
  }

  dropSubscription(subscriptionId: string): void {
    this.decrementForSubscriptionStmt.run(subscriptionId);
    this.dropOrphanMessagesStmt.run(subscriptionId);
    this.dropForSubscriptionStmt.run(subscriptionId);
  }

  list(subscriptionId: string, state: 'pending' | 'failed', limit: number, cursor?: string): { deliveries: Delivery[]; next?: string } {
    const after = cursor ? Number(cursor) || 0 : 0;
    const rows = this.listStmts[state].all(subscriptionId, after, limit + 1) as DeliveryRow[];
    const page = rows.slice(0, limit).map(toDelivery);
    return rows.length > limit ? { deliveries: page, next: page[page.length - 1].id } : { deliveries: page };
  }

  attempts(q: AttemptQuery): { attempts: Attempt[]; next?: string } {
    const before = q.cursor ? Number(q.cursor) || Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    const n = q.limit + 1;
    let rows: AttemptRow[];
    if (q.messageId && q.subscriptionId) rows = this.attemptStmts.byBoth.all(q.messageId, q.subscriptionId, before, n) as AttemptRow[];
    else if (q.messageId) rows = this.attemptStmts.byMessage.all(q.messageId, before, n) as AttemptRow[];
    else rows = this.attemptStmts.bySubscription.all(q.subscriptionId ?? '', before, n) as AttemptRow[];
    const page = rows.slice(0, q.limit).map(toAttempt);
    return rows.length > q.limit ? { attempts: page, next: String(page[page.length - 1].id) } : { attempts: page };
  }

  expireAttempts(beforeMs: number): number {
    return this.attemptStmts.expire.run(beforeMs).changes;
  }
}
