import type Database from 'better-sqlite3';
import { closeSync, fdatasync, fstatSync, openSync } from 'node:fs';

/**
 * Group commit for a synchronous SQLite connection.
 *
 * Every write is queued and run at the next `setImmediate`, together with all other writes
 * that arrived in the same turn of the event loop, inside ONE transaction: one fsync covers
 * them all. While that fsync runs, new requests pile up and form the next, larger group, so
 * batches grow with load and durability costs one fsync per group instead of one per message.
 *
 * Each write runs in its own savepoint, so a write that throws rolls back alone and rejects
 * only its own caller. A group that contains a durable write is answered only once the WAL
 * holding it is fsync'd; groups of bookkeeping writes only (leases, acks, outcomes) are
 * answered at once, which survives a process crash and, after a power cut, at worst
 * re-delivers work.
 *
 * With a `wal` (file databases), SQLite itself never fsyncs on commit (`synchronous=OFF`):
 * the queue fsyncs the WAL file on libuv's thread pool and answers the group's writers when
 * that completes. The event loop keeps serving requests and sending webhooks meanwhile,
 * instead of sitting in fsync (0.2 ms on a quiet disk, tens of milliseconds on a busy one).
 * No other group starts until that fsync is done, so no write, and no receive (a write),
 * ever sees rows that are not yet durable; reads outside the queue (leases) are told which
 * rows those are through `onSettled` (see deliveries.ts). Without a `wal` (in-memory
 * databases), durable groups commit with `synchronous=FULL` as before.
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

/** The file whose fsync makes a commit durable (the WAL), synced off the event loop. */
export interface SyncTarget {
  sync(done: (error: Error | null) => void): void;
  close(): void;
}

/** The SQLite WAL file, opened once; reopened if it was ever replaced (unlinked) under us. */
export class WalFile implements SyncTarget {
  private fd: number;

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'r');
  }

  sync(done: (error: Error | null) => void): void {
    try {
      if (fstatSync(this.fd).nlink === 0) {
        closeSync(this.fd);
        this.fd = openSync(this.path, 'r');
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    fdatasync(this.fd, done);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface CommitQueueOptions {
  busyLimitMs?: number;
  /** Sync this instead of letting SQLite fsync inside COMMIT (see above). */
  wal?: SyncTarget | null;
  /** Called once a group is over (durable, or failed), before its writers are answered. */
  onSettled?: () => void;
}

export class CommitQueue {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  /** A group's fsync is in flight: the next group waits for it. */
  private syncing = false;
  private idle: Array<() => void> = [];
  private wal: SyncTarget | null;
  private readonly onSettled: () => void;
  /** When the write lock was first refused for the group now waiting, if any. */
  private busySince: number | null = null;
  private busyLimitMs: number;
  private syncMode: 'FULL' | 'NORMAL' | 'OFF' | null = null;
  private closed = false;
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
    opts: CommitQueueOptions = {},
  ) {
    this.busyLimitMs = opts.busyLimitMs ?? 10_000;
    this.wal = opts.wal ?? null;
    this.onSettled = opts.onSettled ?? (() => {});
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

  /** Commit everything queued now (also used on close). */
  flush(): void {
    this.scheduled = false;
    if (this.syncing) return; // the sync's completion flushes again
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    const durable = group.some((w) => w.durable);
    this.setSync(this.wal ? 'OFF' : durable ? 'FULL' : 'NORMAL');
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = new Array(group.length);
    // A lone write needs no savepoint: if it fails, the whole (one-write) group rolls back.
    const isolate = group.length > 1;
    try {
      this.begin.run();
    } catch (error) {
      const now = Date.now();
      this.busySince ??= now;
      if (isBusy(error) && !this.closed && now - this.busySince < this.busyLimitMs) {
        // Nothing ran: put the group back in front and try again shortly.
        this.pending = group.concat(this.pending);
        this.scheduled = true;
        setTimeout(() => this.flush(), BUSY_RETRY_MS);
        return;
      }
      this.busySince = null;
      this.onSettled();
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
            this.onSettled();
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
      this.onSettled();
      for (const w of group) w.reject(error);
      return;
    }
    this.stats.groups++;
    this.stats.writes += group.length;
    if (!durable || !this.wal) {
      this.onSettled();
      answer(group, outcomes);
      return;
    }
    this.syncing = true;
    this.wal.sync((error) => {
      this.syncing = false;
      this.onSettled();
      // A failed fsync leaves the group committed but not known durable: its writers get the
      // error (a publisher retries; at least once allows the duplicate).
      if (error) for (const w of group) w.reject(error);
      else answer(group, outcomes);
      if (this.pending.length > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
      for (const fn of this.idle.splice(0)) fn();
    });
  }

  /** Commit what is queued, waiting for a sync in flight first; later writes are refused. */
  async close(): Promise<void> {
    while (this.syncing) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.wal?.close();
    this.wal = null; // what remains commits with SQLite's own fsync
    this.flush();
    this.closed = true;
    this.setSync('FULL');
  }

  private setSync(mode: 'FULL' | 'NORMAL' | 'OFF'): void {
    if (this.syncMode === mode) return;
    this.db.pragma(`synchronous = ${mode}`);
    this.syncMode = mode;
  }
}

function answer(group: PendingWrite[], outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>) {
  for (let i = 0; i < group.length; i++) {
    const o = outcomes[i];
    if (o.ok) group[i].resolve(o.value);
    else group[i].reject(o.error);
  }
}
