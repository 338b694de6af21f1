import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitQueue } from '../../src/store/sqlite/commit-queue.js';
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
});
