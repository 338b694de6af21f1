import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitQueue, type SyncTarget, WalFile } from '../../src/store/sqlite/commit-queue.js';
import { removeDir, tempDir } from '../support/herald.js';

describe('CommitQueue', () => {
  const dirs: string[] = [];
  const connections: Database.Database[] = [];
  afterEach(() => {
    for (const c of connections.splice(0)) c.close(); // a no-op for those a test closed itself
    dirs.splice(0).forEach(removeDir);
  });

  function open() {
    const dir = tempDir('herald-cq-');
    dirs.push(dir);
    // No busy timeout: a refused lock surfaces at once, as it can in WAL mode during checkpoints.
    const db = new Database(`${dir}/q.db`, { timeout: 0 });
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT)');
    const other = new Database(`${dir}/q.db`, { timeout: 0 });
    connections.push(other, db);
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
    expect(q.stats).toEqual({ groups: 1, writes: 3, syncs: 0 });
    expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'c']);
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
    expect(q.stats).toEqual({ groups: 2, writes: 2, syncs: 0 });
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
  });

  it('gives up after busyLimitMs with SQLITE_BUSY', async () => {
    const { db, other, insert } = open();
    const q = new CommitQueue(db, { busyLimitMs: 50 });
    other.exec('BEGIN IMMEDIATE');
    await expect(q.enqueue(() => insert.run('x'), true)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    other.exec('ROLLBACK');
    expect(db.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(0);
  });

  describe("with the WAL fsync'd on the thread pool", () => {
    /** A sync target the test completes by hand, recording when each fsync started. */
    function manualWal() {
      const calls: Array<(error: Error | null) => void> = [];
      const wal: SyncTarget & { closed: boolean } = {
        closed: false,
        sync: (done) => void calls.push(done),
        close() {
          this.closed = true;
        },
      };
      return { wal, calls };
    }
    const turn = () => new Promise((r) => setImmediate(r));
    /** Two turns: the flush that commits what was queued, and the one after it. */
    const committed = async () => {
      await turn();
      await turn();
    };
    function openWithWal() {
      const opened = open();
      const { wal, calls } = manualWal();
      return { ...opened, wal, calls, q: new CommitQueue(opened.db, { wal }) };
    }

    it('answers a durable write only after an fsync that started after its commit', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      let answered = false;
      const write = q.enqueue(() => insert.run('durable'), true).then(() => (answered = true));
      await committed();
      // Committed (another connection sees it) and its fsync started, but not answered yet.
      expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['durable']);
      expect(calls).toHaveLength(1);
      expect(answered).toBe(false);
      // SQLite itself never fsyncs inside COMMIT here.
      expect(db.pragma('synchronous', { simple: true })).toBe(1);
      calls[0](null);
      await write;
      expect(answered).toBe(true);
    });

    it('answers bookkeeping at once, without waiting for an fsync in flight', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      const durable = q.enqueue(() => insert.run('durable'), true);
      await committed();
      expect(calls).toHaveLength(1);
      await expect(q.enqueue(() => insert.run('bookkeeping'), false)).resolves.toBeDefined();
      expect(calls).toHaveLength(1); // bookkeeping needs no fsync
      calls[0](null);
      await durable;
    });

    it('keeps committing while an fsync runs, and covers those groups with the next fsync', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      const answered: string[] = [];
      const first = q.enqueue(() => insert.run('1'), true).then(() => answered.push('1'));
      await committed();
      const second = q.enqueue(() => insert.run('2'), true).then(() => answered.push('2'));
      const third = q.enqueue(() => insert.run('3'), true).then(() => answered.push('3'));
      await committed();
      // Both later writes are committed while the first fsync is still out; no second fsync yet.
      expect(other.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['1', '2', '3']);
      expect(calls).toHaveLength(1);
      calls[0](null);
      await first;
      // The first fsync may have started before 2 and 3 were committed: they wait for the next.
      expect(answered).toEqual(['1']);
      expect(calls).toHaveLength(2);
      calls[1](null);
      await Promise.all([second, third]);
      expect(answered).toEqual(['1', '2', '3']);
      expect(q.stats).toMatchObject({ groups: 2, syncs: 2 });
    });

    it('fails the writers of a failed fsync, and every write after it', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      const write = q.enqueue(() => insert.run('x'), true);
      await committed();
      calls[0](Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await expect(write).rejects.toThrow(/WAL fsync failed: EIO/);
      expect(q.failed).toMatchObject({ code: 'unavailable' });
      await expect(q.enqueue(() => insert.run('later'), false)).rejects.toThrow(/WAL fsync failed/);
    });

    it('fails a write queued before an fsync failed, even if a later fsync would succeed', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      const first = q.enqueue(() => insert.run('first'), true);
      await committed();
      expect(calls).toHaveLength(1);
      // Queued (not yet committed) while the first fsync is out; that fsync then fails.
      const queued = q.enqueue(() => insert.run('queued'), true);
      calls[0](Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await expect(first).rejects.toMatchObject({ code: 'unavailable' });
      await expect(queued).rejects.toMatchObject({ code: 'unavailable' });
      expect(calls).toHaveLength(1); // no second fsync was asked to vouch for it
      expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['first']);
    });

    it("makes a turn's deferred durable writes wait for their own fsync", async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      let durableAnswered = false;
      const durable = q.enqueue(() => insert.run('durable'), true).then(() => (durableAnswered = true));
      await q.enqueue(() => insert.run('bookkeeping'), false); // answered without any fsync
      await committed();
      expect(other.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['bookkeeping', 'durable']);
      expect(calls).toHaveLength(1);
      expect(durableAnswered).toBe(false);
      calls[0](null);
      await durable;
    });

    it('sync() resolves only once everything committed before it is durable', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      const write = q.enqueue(() => insert.run('created'), true);
      await committed();
      // A reader sees the row now; sync() tells it when it may vouch for it.
      expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['created']);
      let synced = false;
      const barrier = q.sync().then(() => (synced = true));
      await committed();
      calls[0](null);
      await write;
      await turn();
      expect(synced).toBe(false); // that fsync may have started before sync() was called
      expect(calls).toHaveLength(2);
      calls[1](null);
      await barrier;
      expect(synced).toBe(true);
    });

    it('close() commits writes that queued writes enqueue, instead of waiting forever', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      let inner: Promise<unknown> | undefined;
      const outer = q.enqueue(() => {
        inner = q.enqueue(() => insert.run('inner'), false);
        return insert.run('outer');
      }, false);
      const closing = q.close();
      await outer;
      await inner;
      await closing;
      expect(calls).toHaveLength(0);
      expect(other.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['outer', 'inner']);
    });

    it('waits at close for the fsync in flight and makes what is queued durable', async () => {
      const { db, other, insert, wal, calls, q } = openWithWal();
      const first = q.enqueue(() => insert.run('first'), true);
      await committed();
      const queued = q.enqueue(() => insert.run('queued'), true);
      let closed = false;
      const closing = q.close().then(() => (closed = true));
      await turn();
      expect(closed).toBe(false);
      calls[0](null);
      await first;
      await turn();
      expect(closed).toBe(false); // 'queued' was committed by close and waits for its own fsync
      expect(calls).toHaveLength(2);
      calls[1](null);
      await Promise.all([queued, closing]);
      expect(wal.closed).toBe(true);
      await expect(q.enqueue(() => insert.run('late'), true)).rejects.toThrow(/closed/);
      expect(other.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['first', 'queued']);
    });

    it('WalFile fdatasyncs the real WAL file', async () => {
      const { db, other, insert } = open();
      insert.run('x');
      const file = new WalFile(`${db.name}-wal`);
      await new Promise<void>((resolve, reject) => file.sync((e) => (e ? reject(e) : resolve())));
      file.close();
      // A closed descriptor fails the sync instead of pretending.
      const error = await new Promise<Error | null>((resolve) => file.sync(resolve));
      expect(error).toMatchObject({ code: 'EBADF' });
    });
  });
});
