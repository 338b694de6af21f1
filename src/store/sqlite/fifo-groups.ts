/**
 * The message groups of FIFO queues: one `fifo_groups` row per (queue, group) that has
 * messages, with `available_at`, a hint of when the group can next be served.
 *
 * Why a table. Receive must find the heads of the groups it may serve. Ordering by the
 * message index alone would walk past every visible message stuck behind an in-flight head:
 * with 10,000 groups, 1,000,000 messages and a few hundred groups in flight, that is tens of
 * thousands of rows per receive. With this table a receive is one range scan of
 * (qid, available_at <= now) that meets only groups that can be served now, plus one probe
 * of (qid, group_id, seq) per group it serves. The cost is a small write per event that can
 * change a group's head: a send to an empty group, a receive, an ack, a visibility change.
 *
 * The invariant: a group with messages has a row, and its `available_at` is never LATER
 * than the moment its head message becomes visible. Earlier is allowed: the receive that
 * looks finds the head still hidden, corrects the hint and moves on. So every event that
 * may make a group servable sooner (ack, visibility change, retention, redrive) only lowers
 * the hint, and the receive, which reads the messages, is the one place that raises it or
 * drops the row of an empty group.
 */
import type Database from 'better-sqlite3';
import type { Queue, ReceivedMessage } from '../../types.js';
import { DEAD_SLACK, planGroupRun } from '../fifo-run.js';
import type { QueueMessages } from './queue-messages.js';

export class FifoGroups {
  private readonly sentStmt;
  private readonly movedInStmt;
  private readonly lowerStmt;
  private readonly setStmt;
  private readonly dropStmt;
  private readonly dropQueueStmt;
  private readonly candidatesStmt;
  private readonly nextStmt;

  constructor(db: Database.Database) {
    // A hint later than now means the group's head is in flight or delayed until then; a new
    // message is last in its group, so it cannot make the group servable sooner. Otherwise
    // (an empty group, or one already servable) the earlier time is the hint.
    this.sentStmt = db.prepare(
      `INSERT INTO fifo_groups (qid, group_id, available_at) VALUES (?, ?, ?)
       ON CONFLICT (qid, group_id) DO UPDATE SET available_at =
         CASE WHEN available_at > ? THEN available_at ELSE MIN(available_at, excluded.available_at) END`,
    );
    // A moved-in message keeps its sequence and may become the group's head.
    this.movedInStmt = db.prepare(
      `INSERT INTO fifo_groups (qid, group_id, available_at) VALUES (?, ?, ?)
       ON CONFLICT (qid, group_id) DO UPDATE SET available_at = MIN(available_at, excluded.available_at)`,
    );
    this.lowerStmt = db.prepare(
      'UPDATE fifo_groups SET available_at = MIN(available_at, ?) WHERE qid = ? AND group_id = ?',
    );
    this.setStmt = db.prepare('UPDATE fifo_groups SET available_at = ? WHERE qid = ? AND group_id = ?');
    this.dropStmt = db.prepare('DELETE FROM fifo_groups WHERE qid = ? AND group_id = ?');
    this.dropQueueStmt = db.prepare('DELETE FROM fifo_groups WHERE qid = ?');
    this.candidatesStmt = db.prepare(
      'SELECT group_id FROM fifo_groups WHERE qid = ? AND available_at <= ? ORDER BY available_at LIMIT +?',
    );
    this.nextStmt = db.prepare('SELECT MIN(available_at) AS t FROM fifo_groups WHERE qid = ?');
  }

  sent(qid: number, group: string, visibleAtMs: number, nowMs: number): void {
    this.sentStmt.run(qid, group, visibleAtMs, nowMs);
  }

  movedIn(qid: number, group: string, visibleAtMs: number): void {
    this.movedInStmt.run(qid, group, visibleAtMs);
  }

  /** The group may be servable from `atMs` (its head was acked, released, moved or expired). */
  lower(qid: number, group: string, atMs: number): void {
    this.lowerStmt.run(atMs, qid, group);
  }

  /** Set by a receive that read the group's messages: the exact time its head is visible. */
  setAvailableAt(qid: number, group: string, atMs: number): void {
    this.setStmt.run(atMs, qid, group);
  }

  drop(qid: number, group: string): void {
    this.dropStmt.run(qid, group);
  }

  dropQueue(qid: number): void {
    this.dropQueueStmt.run(qid);
  }

  /** Groups that may be servable at `nowMs`, the longest-waiting first. */
  candidates(qid: number, nowMs: number, limit: number): string[] {
    return (this.candidatesStmt.all(qid, nowMs, limit) as Array<{ group_id: string }>).map((r) => r.group_id);
  }

  /** When a receive should look again (a long poll sleeps until then). */
  nextAvailableAt(qid: number): number | null {
    return (this.nextStmt.get(qid) as { t: number | null }).t;
  }
}

/**
 * FIFO receive: serve the groups whose hint says they may be servable, the longest-waiting
 * first, a run of visible messages from each group's head (planGroupRun). One process owns
 * a SQLite store and receives run one at a time in the commit queue, so no group lock is
 * needed (the PostgreSQL store locks the group rows).
 */
export function receiveFifo(
  messages: QueueMessages,
  groups: FifoGroups,
  qid: number,
  queue: Queue,
  deadLetter: { qid: number; fifo: boolean } | undefined,
  max: number,
  visibilityMs: number,
  nowMs: number,
): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  const deadAfter = queue.maxReceiveCount > 0 && deadLetter ? queue.maxReceiveCount : 0;
  // A group is served at most once per receive (with visibility 0 its hint stays "now").
  const seen = new Set<string>();
  for (let round = 0; round < 4 && out.length < max; round++) {
    const page = max - out.length + seen.size;
    const all = groups.candidates(qid, nowMs, page);
    for (const group of all) {
      if (out.length >= max) break;
      if (seen.has(group)) continue;
      seen.add(group);
      const want = max - out.length;
      const fetched = want + (deadAfter > 0 ? DEAD_SLACK : 0);
      const plan = planGroupRun(messages.groupRun(qid, group, fetched), {
        want,
        fetched,
        nowMs,
        visibilityMs,
        deadAfter,
      });
      for (const r of plan.dead) messages.moveToDeadLetter(r, queue.name, deadLetter!, nowMs);
      for (const r of plan.take) out.push(messages.markReceived(r, nowMs + visibilityMs, true, nowMs));
      if (plan.availableAt === null) groups.drop(qid, group);
      else groups.setAvailableAt(qid, group, plan.availableAt);
    }
    if (all.length < page) break; // no more servable groups
  }
  return out;
}
