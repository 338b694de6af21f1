/**
 * Queue message statements. All methods are synchronous and run inside the caller's
 * transaction (the commit queue's group), so a receive, its dead-lettering and its
 * receipt update commit together.
 */
import type Database from 'better-sqlite3';
import type { Queue, QueueStats, ReceivedMessage } from '../../types.js';
import type { AckResult, SendEntry } from '../store.js';
import { decodeMessageAttributes, encodeMessageAttributes } from '../../message-attributes.js';
import { decodeAttributes, encodeAttributes, formatReceipt, iso, newNonce, parseReceipt } from './rows.js';

interface VisibleRow {
  seq: number;
  id: string;
  body: string;
  attributes: string | null;
  message_attributes: string | null;
  trace_header: string | null;
  sent_at: number;
  first_received_at: number | null;
  receive_count: number;
  source: string | null;
  topic: string | null;
  last_error: string | null;
}

export class QueueMessages {
  private readonly insertStmt;
  private readonly selectVisibleStmt;
  private readonly markReceivedStmt;
  private readonly moveStmt;
  private readonly deleteStmt;
  private readonly visibilityStmt;
  private readonly purgeStmt;
  private readonly nextVisibleStmt;
  private readonly countVisibleStmt;
  private readonly countHiddenStmt;
  private readonly expireStmt;
  private readonly oldestDeadStmt;
  private readonly deleteSeqStmt;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO queue_messages (qid, id, body, attributes, sent_at, visible_at, source, topic, last_error,
         message_attributes, trace_header)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Oldest-visible first; ties keep insertion order because index entries end with the rowid.
    this.selectVisibleStmt = db.prepare(
      `SELECT seq, id, body, attributes, message_attributes, trace_header, sent_at, first_received_at, receive_count,
         source, topic, last_error
       FROM queue_messages WHERE qid = ? AND visible_at <= ? ORDER BY visible_at LIMIT ?`,
    );
    this.markReceivedStmt = db.prepare(
      `UPDATE queue_messages SET visible_at = ?, receive_count = receive_count + 1, receipt = ?,
       first_received_at = COALESCE(first_received_at, ?) WHERE seq = ?`,
    );
    this.moveStmt = db.prepare(
      `UPDATE queue_messages SET qid = ?, visible_at = ?, receive_count = 0, receipt = 0, source = ?, last_error = ?
       WHERE seq = ?`,
    );
    this.deleteStmt = db.prepare('DELETE FROM queue_messages WHERE seq = ? AND qid = ? AND receipt = ?');
    this.visibilityStmt = db.prepare(
      'UPDATE queue_messages SET visible_at = ? WHERE seq = ? AND qid = ? AND receipt = ? AND receive_count > 0',
    );
    this.purgeStmt = db.prepare('DELETE FROM queue_messages WHERE qid = ?');
    this.nextVisibleStmt = db.prepare('SELECT MIN(visible_at) AS t FROM queue_messages WHERE qid = ?');
    this.countVisibleStmt = db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE qid = ? AND visible_at <= ?');
    this.countHiddenStmt = db.prepare(
      `SELECT SUM(receive_count > 0) AS inflight, SUM(receive_count = 0) AS delayed
       FROM queue_messages WHERE qid = ? AND visible_at > ?`,
    );
    this.expireStmt = db.prepare('DELETE FROM queue_messages WHERE qid = ? AND sent_at < ?');
    this.oldestDeadStmt = db.prepare(
      `SELECT seq, id, body, attributes, message_attributes, trace_header, sent_at, first_received_at, receive_count,
         source, topic, last_error
       FROM queue_messages WHERE qid = ? ORDER BY seq LIMIT ?`,
    );
    this.deleteSeqStmt = db.prepare('DELETE FROM queue_messages WHERE seq = ?');
  }

  insert(qid: number, e: SendEntry): void {
    this.insertStmt.run(
      qid,
      e.id,
      e.body,
      encodeAttributes(e.attributes),
      e.sentAtMs,
      e.visibleAtMs,
      null,
      null,
      null,
      encodeMessageAttributes(e.messageAttributes),
      e.traceHeader ?? null,
    );
  }

  /** Insert a dead letter (or a copy from a topic) with its provenance. */
  insertWithSource(
    qid: number,
    m: { id: string; body: string; attributes: string | null; sentAtMs: number; visibleAtMs: number },
    source: string | null,
    topic: string | null,
    lastError: string | null,
    messageAttributes: string | null = null,
  ): void {
    this.insertStmt.run(
      qid,
      m.id,
      m.body,
      m.attributes,
      m.sentAtMs,
      m.visibleAtMs,
      source,
      topic,
      lastError,
      messageAttributes,
      null,
    );
  }

  receive(
    qid: number,
    queue: Queue,
    deadLetterQid: number | undefined,
    max: number,
    visibilityMs: number,
    nowMs: number,
  ): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    const limit = queue.maxReceiveCount > 0 && deadLetterQid !== undefined ? queue.maxReceiveCount : 0;
    // Loop because dead-lettered rows do not count towards `max`.
    while (out.length < max) {
      const rows = this.selectVisibleStmt.all(qid, nowMs, max - out.length) as VisibleRow[];
      if (rows.length === 0) break;
      for (const r of rows) {
        if (limit > 0 && r.receive_count >= limit) {
          this.moveStmt.run(deadLetterQid, nowMs, `queue:${queue.name}`, r.last_error, r.seq);
          continue;
        }
        const nonce = newNonce();
        this.markReceivedStmt.run(nowMs + visibilityMs, nonce, nowMs, r.seq);
        out.push(toReceived(r, nonce, nowMs));
      }
    }
    return out;
  }

  ack(qid: number, receipts: string[]): AckResult {
    const result: AckResult = { acked: 0, failed: [] };
    for (const receipt of receipts) {
      const parsed = parseReceipt(receipt);
      if (parsed && this.deleteStmt.run(parsed.seq, qid, parsed.nonce).changes === 1) {
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
    }
    return result;
  }

  changeVisibility(qid: number, receipt: string, visibleAtMs: number): boolean {
    const parsed = parseReceipt(receipt);
    return !!parsed && this.visibilityStmt.run(visibleAtMs, parsed.seq, qid, parsed.nonce).changes === 1;
  }

  purge(qid: number): number {
    return this.purgeStmt.run(qid).changes;
  }

  nextVisibleAt(qid: number): number | null {
    return (this.nextVisibleStmt.get(qid) as { t: number | null }).t;
  }

  stats(qid: number, nowMs: number): QueueStats {
    const visible = (this.countVisibleStmt.get(qid, nowMs) as { n: number }).n;
    const hidden = this.countHiddenStmt.get(qid, nowMs) as { inflight: number | null; delayed: number | null };
    return { visible, inFlight: hidden.inflight ?? 0, delayed: hidden.delayed ?? 0 };
  }

  expire(qid: number, sentBeforeMs: number): number {
    return this.expireStmt.run(qid, sentBeforeMs).changes;
  }

  /** Oldest messages of a dead-letter queue, for redrive. */
  oldest(qid: number, limit: number): Array<VisibleRow> {
    return this.oldestDeadStmt.all(qid, limit) as VisibleRow[];
  }

  moveTo(seq: number, qid: number, nowMs: number): void {
    this.moveStmt.run(qid, nowMs, null, null, seq);
  }

  delete(seq: number): void {
    this.deleteSeqStmt.run(seq);
  }
}

function toReceived(r: VisibleRow, nonce: number, nowMs: number): ReceivedMessage {
  const m: ReceivedMessage = {
    id: r.id,
    body: r.body,
    attributes: decodeAttributes(r.attributes),
    receipt: formatReceipt(r.seq, nonce),
    receiveCount: r.receive_count + 1,
    sentAt: iso(r.sent_at),
    firstReceivedAt: iso(r.first_received_at ?? nowMs),
  };
  const typed = decodeMessageAttributes(r.message_attributes);
  if (typed) m.messageAttributes = typed;
  if (r.trace_header) m.traceHeader = r.trace_header;
  if (r.source?.startsWith('queue:')) m.sourceQueue = r.source.slice(6);
  else if (r.source?.startsWith('subscription:')) m.sourceSubscription = r.source.slice(13);
  if (r.topic) m.topic = r.topic;
  if (r.last_error) m.lastError = r.last_error;
  return m;
}
