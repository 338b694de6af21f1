/**
 * Queue message statements. All methods are synchronous and run inside the caller's
 * transaction (the commit queue's group), so a receive, its dead-lettering and its
 * receipt update commit together.
 */
import type Database from 'better-sqlite3';
import type { Queue, QueueStats, ReceivedMessage } from '../../types.js';
import type { AckResult, SendEntry } from '../store.js';
import { encodeMessageAttributes } from '../../message-attributes.js';
import { withRowExtras } from '../received-message.js';
import { FifoGroups, receiveFifo } from './fifo-groups.js';
import {
  decodeAttributes,
  encodeAttributes,
  formatReceipt,
  iso,
  newNonce,
  parseReceipt,
  ROWS_PER_STATEMENT,
  runInRows,
} from './rows.js';

/** A plain send's columns (see insertPlain), in insert order. */
const PLAIN_COLUMNS = 10;

function plainParams(qid: number, e: SendEntry, out: unknown[], at: number): void {
  out[at] = qid;
  out[at + 1] = e.id;
  out[at + 2] = e.body;
  out[at + 3] = encodeAttributes(e.attributes);
  out[at + 4] = e.sentAtMs;
  out[at + 5] = e.visibleAtMs;
  out[at + 6] = encodeMessageAttributes(e.messageAttributes);
  out[at + 7] = e.traceHeader ?? null;
  out[at + 8] = e.groupId ?? null;
  out[at + 9] = e.deduplicationId ?? null;
}

export interface VisibleRow {
  seq: number;
  visible_at: number;
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
  group_id: string | null;
  dedup_id: string | null;
}

/** A message moved or inserted with its provenance (dead letters, topic copies). */
export interface SourcedMessage {
  id: string;
  body: string;
  attributes: string | null;
  sentAtMs: number;
  visibleAtMs: number;
  groupId?: string | null;
  dedupId?: string | null;
}

const COLUMNS =
  'seq, id, body, attributes, sent_at, visible_at, receive_count, source, topic, last_error, group_id, dedup_id, ' +
  'message_attributes, trace_header, first_received_at';

export class QueueMessages {
  private readonly insertStmt;
  private readonly insertPlainStmt;
  private readonly insertPlainManyStmt;
  private readonly selectVisibleStmt;
  private readonly markReceivedStmt;
  private readonly markManyReceivedStmt;
  private readonly moveStmt;
  private readonly deleteStmt;
  private readonly deletePlainStmt;
  private readonly visibilityStmt;
  private readonly purgeStmt;
  private readonly nextVisibleStmt;
  private readonly countVisibleStmt;
  private readonly countHiddenStmt;
  private readonly expireStmt;
  private readonly oldestDeadStmt;
  private readonly deleteSeqStmt;
  private readonly groupRunStmt;
  readonly groups: FifoGroups;

  constructor(db: Database.Database) {
    this.groups = new FifoGroups(db);
    this.insertStmt = db.prepare(
      `INSERT INTO queue_messages (qid, id, body, attributes, sent_at, visible_at, source, topic, last_error,
         message_attributes, trace_header, group_id, dedup_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // A standard queue's plain sends (see insertPlain): one row, or ROWS_PER_STATEMENT.
    const plainInsert = (rows: number) =>
      `INSERT INTO queue_messages (qid, id, body, attributes, sent_at, visible_at, message_attributes, trace_header,
         group_id, dedup_id)
       VALUES ${Array(rows)
         .fill(`(${Array(PLAIN_COLUMNS).fill('?').join(', ')})`)
         .join(', ')}`;
    this.insertPlainStmt = db.prepare(plainInsert(1));
    this.insertPlainManyStmt = db.prepare(plainInsert(ROWS_PER_STATEMENT));
    // Oldest-visible first; ties keep insertion order because index entries end with the rowid.
    // Not the rows this receive has taken (they carry its nonce): with no visibility timeout
    // they are visible again at once.
    this.selectVisibleStmt = db.prepare(
      `SELECT ${COLUMNS} FROM queue_messages WHERE qid = ? AND visible_at <= ? AND receipt <> ?
       ORDER BY visible_at LIMIT +?`,
    );
    const markReceived = (rows: number) =>
      `UPDATE queue_messages SET visible_at = ?, receive_count = receive_count + 1, receipt = ?,
       first_received_at = COALESCE(first_received_at, ?) WHERE seq IN (${Array(rows).fill('?').join(', ')})`;
    this.markReceivedStmt = db.prepare(markReceived(1));
    this.markManyReceivedStmt = db.prepare(markReceived(ROWS_PER_STATEMENT));
    this.moveStmt = db.prepare(
      `UPDATE queue_messages SET qid = ?, visible_at = ?, receive_count = 0, receipt = 0, source = ?, last_error = ?
       WHERE seq = ?`,
    );
    this.deleteStmt = db.prepare(
      'DELETE FROM queue_messages WHERE seq = ? AND qid = ? AND receipt = ? RETURNING group_id, sent_at',
    );
    // A standard queue's ack needs nothing back from the row (RETURNING costs a third more).
    this.deletePlainStmt = db.prepare('DELETE FROM queue_messages WHERE seq = ? AND qid = ? AND receipt = ?');
    this.visibilityStmt = db.prepare(
      `UPDATE queue_messages SET visible_at = ? WHERE seq = ? AND qid = ? AND receipt = ? AND receive_count > 0
       RETURNING group_id`,
    );
    this.purgeStmt = db.prepare('DELETE FROM queue_messages WHERE qid = ?');
    this.nextVisibleStmt = db.prepare('SELECT MIN(visible_at) AS t FROM queue_messages WHERE qid = ?');
    this.countVisibleStmt = db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE qid = ? AND visible_at <= ?');
    this.countHiddenStmt = db.prepare(
      `SELECT SUM(receive_count > 0) AS inflight, SUM(receive_count = 0) AS delayed
       FROM queue_messages WHERE qid = ? AND visible_at > ?`,
    );
    this.expireStmt = db.prepare('DELETE FROM queue_messages WHERE qid = ? AND sent_at < ? RETURNING group_id');
    this.oldestDeadStmt = db.prepare(`SELECT ${COLUMNS} FROM queue_messages WHERE qid = ? ORDER BY seq LIMIT +?`);
    this.deleteSeqStmt = db.prepare('DELETE FROM queue_messages WHERE seq = ?');
    this.groupRunStmt = db.prepare(
      `SELECT ${COLUMNS} FROM queue_messages WHERE qid = ? AND group_id = ? ORDER BY seq LIMIT +?`,
    );
  }

  /**
   * Append a sent message; returns its sequence. On a FIFO queue its group's row is kept: the
   * new message is last in its group, so it changes when the group can be served only if the
   * group was empty (see FifoGroups.sent).
   */
  insert(qid: number, e: SendEntry, fifo: boolean, nowMs: number): number {
    const seq = this.insertStmt.run(
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
      e.groupId ?? null,
      e.deduplicationId ?? null,
    ).lastInsertRowid as number;
    if (fifo && e.groupId) this.groups.sent(qid, e.groupId, e.visibleAtMs, nowMs);
    return seq;
  }

  /**
   * Append sends to a standard queue, in order, ROWS_PER_STATEMENT rows to a statement and
   * the rest one by one (a statement per row was about a fifth of a 250-message send).
   */
  insertPlain(qid: number, entries: readonly SendEntry[]): void {
    const fill = (e: SendEntry, out: unknown[], at: number) => plainParams(qid, e, out, at);
    runInRows(entries, PLAIN_COLUMNS, fill, this.insertPlainManyStmt, this.insertPlainStmt);
  }

  /** Insert a dead letter (or a copy from a topic) with its provenance. */
  insertWithSource(
    qid: number,
    m: SourcedMessage,
    source: string | null,
    topic: string | null,
    lastError: string | null,
    fifo = false,
    nowMs = 0,
    messageAttributes: string | null = null,
  ): void {
    const groupId = m.groupId ?? null;
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
      groupId,
      m.dedupId ?? null,
    );
    if (fifo && groupId) this.groups.sent(qid, groupId, m.visibleAtMs, nowMs);
  }

  receive(
    qid: number,
    queue: Queue,
    deadLetter: { qid: number; fifo: boolean } | undefined,
    max: number,
    visibilityMs: number,
    nowMs: number,
  ): ReceivedMessage[] {
    if (queue.fifo) return receiveFifo(this, this.groups, qid, queue, deadLetter, max, visibilityMs, nowMs);
    const deadLetterQid = deadLetter?.qid;
    const out: ReceivedMessage[] = [];
    const limit = queue.maxReceiveCount > 0 && deadLetterQid !== undefined ? queue.maxReceiveCount : 0;
    // One nonce for the whole receive: every receive still replaces it, so only the latest
    // receive of a message can ack it, and the messages' rows are updated
    // ROWS_PER_STATEMENT to a statement (about a tenth less than a statement per row).
    const nonce = newNonce();
    const visibleAt = nowMs + visibilityMs;
    const marks: number[] = [visibleAt, nonce, nowMs];
    const times = { sent: new IsoTimes(), first: new IsoTimes() };
    // Loop because dead-lettered rows do not count towards `max`.
    while (out.length < max) {
      const rows = this.selectVisibleStmt.all(qid, nowMs, nonce, max - out.length) as VisibleRow[];
      if (rows.length === 0) break;
      for (const r of rows) {
        if (limit > 0 && r.receive_count >= limit) {
          this.moveToDeadLetter(r, queue.name, deadLetter!, nowMs);
          continue;
        }
        marks.push(r.seq);
        if (marks.length === 3 + ROWS_PER_STATEMENT) {
          this.markManyReceivedStmt.run(marks);
          marks.length = 3;
        }
        out.push(toReceived(r, nonce, false, nowMs, times));
      }
      // Every row taken is marked before the next look: the look must not find them again.
      for (let i = 3; i < marks.length; i++) this.markReceivedStmt.run(visibleAt, nonce, nowMs, marks[i]);
      marks.length = 3;
    }
    return out;
  }

  /** A group's first messages in sequence order (for the FIFO receive). */
  groupRun(qid: number, group: string, limit: number): VisibleRow[] {
    return this.groupRunStmt.all(qid, group, limit) as VisibleRow[];
  }

  /** Hide a message until `visibleAtMs` with a fresh receipt, and return it as received. */
  markReceived(r: VisibleRow, visibleAtMs: number, fifo: boolean, nowMs: number): ReceivedMessage {
    const nonce = newNonce();
    this.markReceivedStmt.run(visibleAtMs, nonce, nowMs, r.seq);
    return toReceived(r, nonce, fifo, nowMs);
  }

  moveToDeadLetter(r: VisibleRow, from: string, to: { qid: number; fifo: boolean }, nowMs: number): void {
    this.moveStmt.run(to.qid, nowMs, `queue:${from}`, r.last_error, r.seq);
    // The moved message may be older than the dead-letter queue's messages of its group.
    if (to.fifo && r.group_id) this.groups.movedIn(to.qid, r.group_id, nowMs);
  }

  ack(qid: number, receipts: string[], fifo: boolean): AckResult {
    const result: AckResult = { acked: 0, failed: [] };
    for (const receipt of receipts) {
      const parsed = parseReceipt(receipt);
      let acked = false;
      if (parsed && !fifo) {
        // Only FIFO groups need to know what went.
        acked = this.deletePlainStmt.run(parsed.seq, qid, parsed.nonce).changes === 1;
      } else if (parsed) {
        const deleted = this.deleteStmt.get(parsed.seq, qid, parsed.nonce) as
          { group_id: string | null; sent_at: number } | undefined;
        // The group's head may be gone: let the next receive look at the group again.
        if (deleted?.group_id != null) this.groups.lower(qid, deleted.group_id, ackedHint(deleted.sent_at));
        acked = deleted !== undefined;
      }
      if (acked) {
        result.acked++;
        continue;
      }
      result.failed.push({
        receipt,
        error: {
          code: 'invalid_receipt',
          message: 'receipt is unknown, was already acked, or was replaced by a later receive',
        },
      });
    }
    return result;
  }

  changeVisibility(qid: number, receipt: string, visibleAtMs: number): boolean {
    const parsed = parseReceipt(receipt);
    if (!parsed) return false;
    const row = this.visibilityStmt.get(visibleAtMs, parsed.seq, qid, parsed.nonce) as
      { group_id: string | null } | undefined;
    if (row?.group_id != null) this.groups.lower(qid, row.group_id, visibleAtMs);
    return row !== undefined;
  }

  purge(qid: number): number {
    this.groups.dropQueue(qid);
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
    const rows = this.expireStmt.all(qid, sentBeforeMs) as Array<{ group_id: string | null }>;
    for (const group of new Set(rows.map((r) => r.group_id))) if (group !== null) this.groups.lower(qid, group, 0);
    return rows.length;
  }

  /** Oldest messages of a dead-letter queue, for redrive. */
  oldest(qid: number, limit: number): Array<VisibleRow> {
    return this.oldestDeadStmt.all(qid, limit) as VisibleRow[];
  }

  /** Redrive: move a dead letter back to `to`, keeping its sequence (so its place in its group). */
  moveTo(r: VisibleRow, fromQid: number, to: { qid: number; fifo: boolean }, nowMs: number): void {
    this.moveStmt.run(to.qid, nowMs, null, null, r.seq);
    if (r.group_id !== null) {
      this.groups.lower(fromQid, r.group_id, 0);
      if (to.fifo) this.groups.movedIn(to.qid, r.group_id, nowMs);
    }
  }

  delete(seq: number): void {
    this.deleteSeqStmt.run(seq);
  }
}

/**
 * The hint for a group whose message was just acked: the message's send time. Any time up to
 * now is a valid hint (the next head may be servable now); the send time, rather than 0,
 * keeps receives serving groups oldest message first, so a consumer that acks and receives
 * in a loop cannot keep one busy group ahead of the others for ever.
 */
export const ackedHint = (sentAtMs: number) => sentAtMs;

/**
 * ISO times of one receive: its messages mostly share their send time (they came in one
 * batch) and their first receive (this one), so each distinct time is formatted once.
 */
class IsoTimes {
  private lastMs = NaN;
  private lastIso = '';
  of(ms: number): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = iso(ms);
    }
    return this.lastIso;
  }
}

function toReceived(
  r: VisibleRow,
  nonce: number,
  fifo: boolean,
  nowMs: number,
  times?: { sent: IsoTimes; first: IsoTimes },
): ReceivedMessage {
  const first = r.first_received_at ?? nowMs;
  const m: ReceivedMessage = {
    id: r.id,
    body: r.body,
    attributes: decodeAttributes(r.attributes),
    receipt: formatReceipt(r.seq, nonce),
    receiveCount: r.receive_count + 1,
    sentAt: times ? times.sent.of(r.sent_at) : iso(r.sent_at),
    firstReceivedAt: times ? times.first.of(first) : iso(first),
  };
  return withRowExtras(m, r, fifo);
}
