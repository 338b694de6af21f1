import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitQueue, type SyncTarget } from '../../src/store/sqlite/commit-queue.js';
import { removeDir, tempDir } from '../support/herald.js';

describe('CommitQueue', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));

  function open() {
    const dir = tempDir('herald-cq-');
    dirs.push(dir);
    // No busy timeout: a refused lock surfaces at once, as it can in WAL mode during checkpoints.
    const db = new Database(`${dir}/q.db`, { timeout: 0 });
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT)');
    const other = new Database(`${dir}/q.db`, { timeout: 0 });
    return { db, other, insert: db.prepare('INSERT INTO t (v) VALUES (?)') };
  }

  it('groups writes of one turn into one transaction and isolates a failing write', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db);
    const results = await Promise.allSettled([
      q.enqueue(() => insert.run('a'), true),
      q.enqueue(() => {
        insert.run('rolled back');
        throw new Error('boom');
      }, true),
      q.enqueue(() => insert.run('c'), false),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(q.stats).toEqual({ groups: 1, writes: 3 });
    expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'c']);
    other.close();
    db.close();
  });

  it('retries a group whose write lock is refused, instead of failing it', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db);
    other.exec('BEGIN IMMEDIATE');
    const write = q.enqueue(() => insert.run('after the lock'), true);
    await new Promise((r) => setTimeout(r, 60));
    other.exec('COMMIT');
    await expect(write).resolves.toBeDefined();
    expect(db.prepare('SELECT v FROM t').pluck().all()).toEqual(['after the lock']);
    other.close();
    db.close();
  });

  it('gives up after busyLimitMs with SQLITE_BUSY', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db, { busyLimitMs: 50 });
    other.exec('BEGIN IMMEDIATE');
    await expect(q.enqueue(() => insert.run('x'), true)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    other.exec('ROLLBACK');
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(0);
    other.close();
    db.close();
  });

  /** A WAL whose fsyncs complete when the test says so. */
  function heldSync() {
    const calls: Array<(error: Error | null) => void> = [];
    const target: SyncTarget = { sync: (done) => calls.push(done), close: () => {} };
    return { target, calls };
  }
  const turn = () => new Promise((r) => setImmediate(r));

  it('answers a durable group only once its WAL fsync completes, and starts no group before that', async () => {
    const { db, other, insert } = open();
    const wal = heldSync();
    let settled = 0;
    const q = new CommitQueue(db, { wal: wal.target, onSettled: () => settled++ });
    const answered: string[] = [];
    void q.enqueue(() => insert.run('durable'), true).then(() => answered.push('durable'));
    void q.enqueue(() => insert.run('same group'), false).then(() => answered.push('same group'));
    await turn();
    expect(wal.calls).toHaveLength(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(0); // OFF: the queue syncs, not SQLite
    expect(answered).toEqual([]);
    expect(settled).toBe(0);
    // A write arriving meanwhile (a receive, say) waits: it must not see rows not yet durable.
    void q.enqueue(() => insert.run('next group'), false).then(() => answered.push('next group'));
    await turn();
    await turn();
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(2);
    wal.calls[0](null);
    expect(settled).toBe(1);
    await turn();
    await turn();
    expect(answered).toEqual(['durable', 'same group', 'next group']);
    expect(wal.calls).toHaveLength(1); // bookkeeping-only groups need no fsync
    expect(settled).toBe(2);
    other.close();
    db.close();
  });

  it('fails the writers of a group whose fsync fails', async () => {
    const { db, other, insert } = open();
    const wal = heldSync();
    const q = new CommitQueue(db, { wal: wal.target });
    const write = q.enqueue(() => insert.run('x'), true);
    await turn();
    wal.calls[0](new Error('EIO'));
    await expect(write).rejects.toThrow('EIO');
    other.close();
    db.close();
  });

  it('close waits for the fsync in flight, then commits what is left with SQLite syncing', async () => {
    const { db, other, insert } = open();
    const wal = heldSync();
    const q = new CommitQueue(db, { wal: wal.target });
    const first = q.enqueue(() => insert.run('a'), true);
    await turn();
    const second = q.enqueue(() => insert.run('b'), true);
    const closed = q.close();
    await turn();
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(1);
    wal.calls[0](null);
    await closed;
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(2);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await expect(q.enqueue(() => insert.run('c'), true)).rejects.toThrow('closed');
    other.close();
    db.close();
  });
});
