import type Database from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';
import { HeraldError } from '../../errors.js';

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
 * only its own caller. Writes are durable or bookkeeping. A durable write (a publish, a
 * send, a change to topics, queues or subscriptions) is answered only once the WAL frames
 * holding it are on disk. Bookkeeping (leases, receives, acks, delivery outcomes) is answered
 * as soon as it is committed, which survives a process crash and, after a power cut, at
 * worst re-delivers work.
 *
 * With a `wal` (file databases) SQLite commits with `synchronous=NORMAL` and never fsyncs
 * inside COMMIT; the queue fdatasyncs the WAL file on libuv's thread pool and answers a
 * durable group's writers when an fsync that started after their COMMIT completes. The
 * event loop goes on serving requests, committing later groups and sending webhooks while
 * the disk works (an fsync blocked it for 0.2-0.5 ms per group before, a third of the
 * server's time at 1,000 single publishes a second). One fsync is in flight at a time and
 * covers every group committed before it started, so fsyncs group themselves under load.
 * The WAL is append-only between checkpoints and SQLite syncs it before each checkpoint
 * (and the WAL header when it restarts), so an fsync'd commit survives a power cut. Readers
 * may see a durable write before it is answered (a receive may hand out a message whose
 * send is still waiting for its fsync): if the power fails in between, the sender was never
 * answered and sends again, which at-least-once allows; a caller that would answer from
 * such a read that something exists awaits `sync()` first. A failed fsync fails its writers
 * and every write queued or made after it (`failed`): after an fsync error the kernel may
 * have dropped the pages, and nothing written since can be trusted to be durable. Without a `wal`
 * (in-memory databases) a durable group commits with `synchronous=FULL`.
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

/** The file whose fsync makes a commit durable (the WAL), synced off the event loop. */
export interface SyncTarget {
  sync(done: (error: Error | null) => void): void;
  close(): void;
}

/**
 * The SQLite WAL file, opened once. SQLite removes or replaces the WAL only when the last
 * connection closes (or the journal mode changes, which Herald never does), and the store
 * keeps its connection open for as long as this file is, so the descriptor always refers
 * to the live WAL.
 */
export class WalFile implements SyncTarget {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  sync(done: (error: Error | null) => void): void {
    fdatasync(this.fd, done);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface CommitQueueOptions {
  busyLimitMs?: number;
  /** Fsync this after durable groups instead of letting SQLite fsync inside COMMIT (see above). */
  wal?: SyncTarget | null;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Committed {
  group: PendingWrite[];
  outcomes: Outcome[];
}

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
  private wal: SyncTarget | null;
  /** Durable groups committed and waiting for an fsync that started after their COMMIT. */
  private unsynced: Committed[] = [];
  private syncing = false;
  /** Waiting for the fsync in flight (close). */
  private idle: Array<() => void> = [];
  /** Set when a WAL fsync failed: every later write is refused with it. */
  failed: HeraldError | null = null;
  /** Durable writes put back by the last flush (they go first and whole in the next). */
  private deferred = false;
  private closed = false;
  /** Set by close(): a refused lock is then not retried later (the connection is closing). */
  private closing = false;
  /** Groups committed, writes in them and WAL fsyncs started, for metrics and tests. */
  readonly stats = { groups: 0, writes: 0, syncs: 0 };

  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;

  constructor(
    private readonly db: Database.Database,
    opts: CommitQueueOptions = {},
  ) {
    this.busyLimitMs = opts.busyLimitMs ?? 10_000;
    this.wal = opts.wal ?? null;
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT w');
    this.release = db.prepare('RELEASE w');
    this.rollbackTo = db.prepare('ROLLBACK TO w');
  }

  enqueue<T>(run: () => T, durable: boolean): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (this.failed) return Promise.reject(this.failed);
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
    if (this.failed) {
      // Queued before an fsync failed: nothing committed from now on could be trusted durable
      // (the next fsync may well report success for pages the kernel already dropped).
      for (const w of group) w.reject(this.failed);
      return;
    }
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
    const outcomes: Outcome[] = new Array(group.length);
    // A lone write needs no savepoint: if it fails, the whole (one-write) group rolls back.
    const isolate = group.length > 1;
    try {
      this.setSync(durable && !this.wal ? 'FULL' : 'NORMAL');
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
    if (durable && this.wal) {
      this.unsynced.push({ group, outcomes });
      this.startSync();
    } else {
      answer(group, outcomes);
    }
  }

  /** Fsync the WAL for every durable group committed so far, unless an fsync is in flight. */
  private startSync(): void {
    const wal = this.wal;
    if (this.syncing || this.unsynced.length === 0 || !wal) return;
    const batch = this.unsynced;
    this.unsynced = [];
    this.syncing = true;
    this.stats.syncs++;
    wal.sync((error) => {
      this.syncing = false;
      if (error) {
        this.failed ??= new HeraldError(
          'unavailable',
          `the store cannot make writes durable: WAL fsync failed: ${error.message}`,
        );
        for (const c of batch.concat(this.unsynced.splice(0))) for (const w of c.group) w.reject(this.failed);
      } else {
        for (const c of batch) answer(c.group, c.outcomes);
        this.startSync();
      }
      for (const fn of this.idle.splice(0)) fn();
    });
  }

  /**
   * Resolves once every write committed before the call is durable: an empty durable write,
   * answered after an fsync that started after its own (later) commit.
   */
  sync(): Promise<void> {
    return this.enqueue(() => undefined, true);
  }

  /** Commit what is queued and wait until it is durable; later writes are refused. */
  async close(): Promise<void> {
    this.closing = true;
    for (;;) {
      this.flush(true);
      if (this.syncing) await new Promise<void>((resolve) => this.idle.push(resolve));
      else if (this.pending.length === 0 && this.unsynced.length === 0) break;
    }
    this.closed = true;
    this.wal?.close();
    this.wal = null;
  }

  private setSync(mode: 'FULL' | 'NORMAL'): void {
    if (this.syncMode === mode) return;
    this.db.pragma(`synchronous = ${mode}`);
    this.syncMode = mode;
  }
}

function answer(group: PendingWrite[], outcomes: Outcome[]): void {
  for (let i = 0; i < group.length; i++) {
    const o = outcomes[i];
    if (o.ok) group[i].resolve(o.value);
    else group[i].reject(o.error);
  }
}
