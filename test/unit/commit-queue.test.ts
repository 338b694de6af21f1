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
      q.enqueue(() => insert.run('c'), true),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(q.stats).toEqual({ groups: 1, writes: 3 });
    expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'c']);
    other.close();
    db.close();
  });

  it('commits the bookkeeping of a turn first, on its own, and its durable writes one turn later', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db);
    const order: string[] = [];
    // What another connection sees when each write's caller hears back: the bookkeeping
    // write is committed (and answered) before the durable one has even run.
    const seen = () => other.prepare('SELECT v FROM t ORDER BY rowid').pluck().all();
    const durable = q.enqueue(() => insert.run('durable'), true).then(() => order.push(`durable ${seen()}`));
    const bookkeeping = q
      .enqueue(() => insert.run('bookkeeping'), false)
      .then(() => order.push(`bookkeeping ${seen()}`));
    await Promise.all([durable, bookkeeping]);
    expect(order).toEqual(['bookkeeping bookkeeping', 'durable bookkeeping,durable']);
    expect(q.stats).toEqual({ groups: 2, writes: 2 });
    other.close();
    db.close();
  });

  it('defers durable writes once at most: the next flush commits everything it finds', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db);
    const first = q.enqueue(() => insert.run('durable 1'), true);
    const writes: Array<Promise<unknown>> = [first, q.enqueue(() => insert.run('bookkeeping 1'), false)];
    // Bookkeeping arriving every turn must not keep pushing the durable write back.
    let stop = false;
    void first.then(() => (stop = true));
    for (let i = 0; i < 20 && !stop; i++) {
      await new Promise((r) => setImmediate(r));
      writes.push(q.enqueue(() => insert.run(`bookkeeping ${i + 2}`), false));
    }
    await Promise.all(writes);
    const rows = db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all() as string[];
    // Deferred once (after the first bookkeeping group), then committed with whatever came next.
    expect(rows.indexOf('durable 1')).toBeLessThanOrEqual(2);
    other.close();
    db.close();
  });

  it('fails what it cannot commit at close instead of retrying on a closed connection', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db);
    other.exec('BEGIN IMMEDIATE');
    const write = q.enqueue(() => insert.run('x'), true);
    q.close();
    db.close();
    await expect(write).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    // A retry timer firing now would touch the closed connection (an uncaught error here).
    await new Promise((r) => setTimeout(r, 30));
    other.exec('ROLLBACK');
    other.close();
  });

  it('commits everything, durable writes included, when closed', () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db);
    void q.enqueue(() => insert.run('durable'), true);
    void q.enqueue(() => insert.run('bookkeeping'), false);
    q.close();
    expect(other.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['bookkeeping', 'durable']);
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
