import type Database from 'better-sqlite3';

/**
 * Group commit for a synchronous SQLite connection.
 *
 * Every write is queued and run at the next `setImmediate`, together with all other writes
 * that arrived in the same turn of the event loop, inside ONE transaction: one fsync covers
 * them all. While that fsync blocks the loop, new requests pile up in socket buffers and
 * form the next, larger group, so batches grow with load and durability costs one fsync per
 * group instead of one per message.
 *
 * Each write runs in its own savepoint, so a write that throws rolls back alone and rejects
 * only its own caller. A group that contains a durable write commits with
 * `synchronous=FULL` (fsync of the WAL before the commit returns); groups of bookkeeping
 * writes only (leases, acks, outcomes) commit with `synchronous=NORMAL`, which survives a
 * process crash and, after a power cut, at worst re-delivers work.
 *
 * A turn that brings both kinds commits the bookkeeping first, on its own, and the durable
 * writes one event-loop turn later: a receive or an ack is answered without waiting behind
 * the fsync of other requests' sends, and the turn in between lets those answers go out (so
 * consumers come back sooner than producers, and a backlog drains instead of standing). The
 * durable part is deferred at most once: the next flush commits everything it finds. Writes
 * of different kinds from one turn are concurrent requests, with no order between them; a
 * caller that needs one write after another awaits the first.
 *
 * If the write lock is refused (SQLITE_BUSY: another connection holds it, such as the
 * checkpointer finishing a RESTART, or an online backup; SQLite does not always wait
 * for it in WAL mode), nothing of the group has run, so the group is retried a few
 * milliseconds later, for up to `busyLimitMs`, before its writers are failed.
 */
interface PendingWrite {
  run: () => unknown;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const BUSY_RETRY_MS = 2;

const isBusy = (error: unknown) => {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
};

export class CommitQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  /** When the write lock was first refused for the group now waiting, if any. */
  private busySince: number | null = null;
  private busyLimitMs: number;
  private syncMode: 'FULL' | 'NORMAL' | null = null;
  /** Durable writes put back by the last flush (they go first and whole in the next). */
  private deferred = false;
  private closed = false;
  /** Set by close(): a refused lock is then not retried later (the connection is closing). */
  private closing = false;
  /** Groups committed and writes in them, for metrics and tests. */
  readonly stats = { groups: 0, writes: 0 };

  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;

  constructor(
    private readonly db: Database.Database,
    opts: { busyLimitMs?: number } = {},
  ) {
    this.busyLimitMs = opts.busyLimitMs ?? 10_000;
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT w');
    this.release = db.prepare('RELEASE w');
    this.rollbackTo = db.prepare('ROLLBACK TO w');
  }

  enqueue<T>(run: () => T, durable: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, durable, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Commit what is queued now: everything when `whole` (on close), else possibly the
   * bookkeeping first (see the header), with the durable writes left for the next turn.
   */
  flush(whole = false): void {
    this.scheduled = false;
    let group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    let durable = group.some((w) => w.durable);
    if (durable && !whole && !this.deferred && group.some((w) => !w.durable)) {
      this.pending = group.filter((w) => w.durable);
      group = group.filter((w) => !w.durable);
      durable = false;
      this.deferred = true;
    } else {
      this.deferred = false;
    }
    try {
      this.commitGroup(group, durable);
    } finally {
      if (this.pending.length > 0 && !this.scheduled && !this.closed) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    }
  }

  private commitGroup(group: PendingWrite[], durable: boolean): void {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = new Array(group.length);
    // A lone write needs no savepoint: if it fails, the whole (one-write) group rolls back.
    const isolate = group.length > 1;
    try {
      this.setSync(durable ? 'FULL' : 'NORMAL');
      this.begin.run();
    } catch (error) {
      const now = Date.now();
      this.busySince ??= now;
      if (isBusy(error) && !this.closed && !this.closing && now - this.busySince < this.busyLimitMs) {
        // Nothing ran: put the group back in front and try again shortly.
        this.pending = group.concat(this.pending);
        this.scheduled = true;
        setTimeout(() => this.flush(), BUSY_RETRY_MS);
        return;
      }
      this.busySince = null;
      for (const w of group) w.reject(error);
      return;
    }
    this.busySince = null;
    try {
      for (let i = 0; i < group.length; i++) {
        if (!isolate) {
          try {
            outcomes[i] = { ok: true, value: group[i].run() };
          } catch (error) {
            this.rollback.run();
            group[i].reject(error);
            return;
          }
          continue;
        }
        this.savepoint.run();
        try {
          outcomes[i] = { ok: true, value: group[i].run() };
          this.release.run();
        } catch (error) {
          this.rollbackTo.run();
          this.release.run();
          outcomes[i] = { ok: false, error };
        }
      }
      this.commit.run();
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing in the group is durable.
      if (this.db.inTransaction) {
        try {
          this.rollback.run();
        } catch {
          /* already rolled back by SQLite */
        }
      }
      for (const w of group) w.reject(error);
      return;
    }
    this.stats.groups++;
    this.stats.writes += group.length;
    for (let i = 0; i < group.length; i++) {
      const o = outcomes[i];
      if (o.ok) group[i].resolve(o.value);
      else group[i].reject(o.error);
    }
  }

  close(): void {
    this.closing = true;
    this.flush(true);
    this.closed = true;
  }

  private setSync(mode: 'FULL' | 'NORMAL'): void {
    if (this.syncMode === mode) return;
    this.db.pragma(`synchronous = ${mode}`);
    this.syncMode = mode;
  }
}
