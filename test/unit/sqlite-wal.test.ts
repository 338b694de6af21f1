import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalFile } from '../../src/store/sqlite/commit-queue.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SendEntry } from '../../src/store/store.js';
import { queue } from '../contract/fixtures.js';
import { openTestStore, type TestStore } from '../support/stores.js';

/** The WAL header's checkpoint sequence number (bytes 12-15): it grows each time the WAL restarts. */
function walSequence(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}

describe('SQLite store on disk: the WAL', () => {
  const open: TestStore[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });

  async function start() {
    const t = await openTestStore('sqlite');
    open.push(t);
    const store = t.store as SqliteStore;
    return { store, db: join(t.dataDir!, 'herald.db'), wal: join(t.dataDir!, 'herald.db-wal') };
  }

  it('commits with synchronous=NORMAL and fsyncs the WAL itself, off the event loop', async () => {
    const { store } = await start();
    // Wiring, seen from inside: the commit queue holds the WAL file, SQLite never syncs in COMMIT.
    const inside = store as unknown as {
      db: { pragma(s: string, o: { simple: true }): unknown };
      writes: { wal: unknown };
    };
    expect(inside.writes.wal).toBeInstanceOf(WalFile);
    await store.createQueue(queue('jobs'));
    expect(inside.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(store.healthy()).toBe(true);
  });

  it('checkpoints in the background, so the WAL starts over instead of growing', async () => {
    const { store, db, wal } = await start();
    await store.createQueue(queue('jobs'));
    const before = walSequence(wal);
    const body = 'x'.repeat(4000);
    const now = Date.now();
    // About 24 MiB of WAL, past the RESTART threshold (4,096 frames of 4 KiB).
    for (let batch = 0; batch < 6; batch++) {
      const entries: SendEntry[] = Array.from({ length: 1000 }, (_, i) => ({
        id: `m-${batch}-${i}`,
        body,
        attributes: {},
        sentAtMs: now,
        visibleAtMs: now,
      }));
      await store.sendToQueue('jobs', entries, 0, now);
    }
    // The checkpointer copies the pages into the database file; once all are copied (a PASSIVE
    // pass that caught up, or the RESTART after it), the next write begins the WAL again, with
    // a new sequence number. Without checkpoints (wal_autocheckpoint is 0) it would only grow.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && walSequence(wal) === before) {
      await new Promise((r) => setTimeout(r, 100));
      await store.sendToQueue(
        'jobs',
        [{ id: `tick-${Date.now()}`, body: 'x', attributes: {}, sentAtMs: now, visibleAtMs: now }],
        0,
        now,
      );
    }
    expect(walSequence(wal)).toBeGreaterThan(before);
    // The WAL started over in the same file: the descriptor the commit queue fsyncs is still it.
    const walFd = (store as unknown as { writes: { wal: { fd: number } } }).writes.wal.fd;
    expect(fstatSync(walFd).ino).toBe(statSync(wal).ino);
    expect(statSync(db).size).toBeGreaterThan(16 * 1024 * 1024);
    expect((await store.queueStats('jobs', now)).visible).toBeGreaterThanOrEqual(6000);
  });
});
