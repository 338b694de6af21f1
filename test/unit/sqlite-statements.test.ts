import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { removeDir, tempDir } from '../support/herald.js';

/**
 * SQLite (3.53, as better-sqlite3 bundles it) compiles a LIMIT given as a bare parameter
 * (`LIMIT ?`, also in parentheses) with the value bound at the time, and marks the statement to be
 * compiled again whenever that parameter is bound again. better-sqlite3 binds every
 * parameter on every run, so such a statement is parsed and planned anew each time it runs:
 * a lease query took 70-130 µs instead of a few (docs/benchmarks.md). `LIMIT +?` is an
 * expression rather than a bare parameter: planned once, with the same meaning. (OFFSET ?
 * is compiled as a parameter and is not affected.)
 */
const BARE_LIMIT = /\bLIMIT[\s(]+(\?|[:@$]\w+)/i;
/** `LIMIT offset, count`: the count comes second, out of BARE_LIMIT's sight; not used at all. */
const COMMA_LIMIT = /\bLIMIT\s+[^,;()]*,/i;

describe('SQLite statements', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const dir of dirs.splice(0)) removeDir(dir);
  });

  it('bind no LIMIT as a bare parameter', async () => {
    const prepared: string[] = [];
    const prepare = Database.prototype.prepare;
    vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, sql: string) {
      prepared.push(sql);
      return prepare.call(this, sql);
    });
    const dir = tempDir('herald-statements-');
    dirs.push(dir);
    const store = new SqliteStore({ dataDir: dir });
    await store.open();
    await store.close();
    // The spy saw the store's statements, limited ones among them (the lease, a receive).
    const limited = prepared.filter((sql) => /\bLIMIT\b/i.test(sql));
    expect(prepared.length).toBeGreaterThan(50);
    expect(limited.some((sql) => /FROM deliveries d LEFT JOIN messages/.test(sql))).toBe(true);
    expect(limited.some((sql) => /FROM queue_messages/.test(sql))).toBe(true);
    expect(prepared.filter((sql) => BARE_LIMIT.test(sql) || COMMA_LIMIT.test(sql))).toEqual([]);
  });

  it('drop STAT4 samples when the store opens (an ANALYZE would have every indexed lookup re-prepared)', async () => {
    const dir = tempDir('herald-statements-');
    dirs.push(dir);
    const store = new SqliteStore({ dataDir: dir });
    await store.open();
    await store.createTopic('t', 0);
    await store.close();
    const analyse = new Database(join(dir, 'herald.db'));
    analyse.exec('ANALYZE');
    const tables = () =>
      analyse.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_stat%' ORDER BY name").pluck().all();
    expect(tables()).toContain('sqlite_stat4');
    analyse.close();
    const again = new SqliteStore({ dataDir: dir });
    await again.open();
    await again.close();
    const after = new Database(join(dir, 'herald.db'));
    const left = after.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_stat%'").pluck().all();
    after.close();
    expect(left).toContain('sqlite_stat1'); // plain row counts stay: they steer plans, not re-prepares
    expect(left).not.toContain('sqlite_stat4');
  });

  it('read LIMIT +? and OFFSET +? as LIMIT and OFFSET', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3), (4), (5)');
    const page = db.prepare('SELECT x FROM t ORDER BY x LIMIT +? OFFSET +?').pluck();
    expect(page.all(3, 0)).toEqual([1, 2, 3]);
    expect(page.all(2, 3)).toEqual([4, 5]);
    expect(page.all(0, 0)).toEqual([]);
    expect(page.all(-1, 1)).toEqual([2, 3, 4, 5]); // a negative limit: no limit, as with LIMIT ?
    db.close();
  });

  it('guards against the forms that would be re-prepared', () => {
    for (const sql of [
      'LIMIT ?',
      'limit  ?',
      'LIMIT (?)',
      'LIMIT ( ? )',
      'LIMIT :n',
      'LIMIT @n',
      'LIMIT $n',
      'LIMIT ? OFFSET ?',
    ])
      expect(BARE_LIMIT.test(`SELECT 1 ${sql}`), sql).toBe(true);
    for (const sql of ['LIMIT +?, ?', 'LIMIT ?, +?', 'limit 10, 5'])
      expect(COMMA_LIMIT.test(`SELECT 1 ${sql}`), sql).toBe(true);
    for (const sql of ['LIMIT +?', 'LIMIT +? OFFSET ?', '(SELECT x FROM t LIMIT +?), y'])
      expect(COMMA_LIMIT.test(`SELECT 1 ${sql}`), sql).toBe(false);
    for (const sql of ['LIMIT +?', 'LIMIT 1', 'LIMIT +? OFFSET ?', 'LIMIT (+?)'])
      expect(BARE_LIMIT.test(`SELECT 1 ${sql}`), sql).toBe(false);
  });
});
