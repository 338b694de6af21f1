// The raw limits on this machine: fsync'd SQLite commits (one row each, and 1,000 rows
// each) and Herald's durable single-message publish under concurrency (group commit).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { now, startHerald } from '../lib/util.mjs';

export function sqliteRaw({ singles = 3000, batches = 100 }) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-'));
  try {
    const db = new Database(join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = 'x'.repeat(256);
    let t = now();
    for (let i = 0; i < singles; i++) insert.run(body);
    const singleCommitsPerSec = singles / ((now() - t) / 1000);
    const tx = db.transaction((k) => {
      for (let i = 0; i < k; i++) insert.run(body);
    });
    t = now();
    for (let i = 0; i < batches; i++) tx(1000);
    const batchedRowsPerSec = (batches * 1000) / ((now() - t) / 1000);
    db.close();
    return { singleCommitsPerSec, batchedRowsPerSec };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function publishThroughput({ concurrency, seconds }) {
  const h = await startHerald();
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  try {
    await h.api('PUT', '/v1/topics/tp');
    await h.api('PUT', '/v1/queues/tp-sink');
    await h.api('POST', '/v1/topics/tp/subscriptions', { protocol: 'queue', endpoint: 'tp-sink', raw: true });
    const payload = JSON.stringify({ body: 'x'.repeat(256) });
    let count = 0;
    const end = now() + seconds * 1000;
    const worker = async () => {
      while (now() < end) {
        const res = await request(`${h.url}/v1/topics/tp/messages`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
          body: payload,
        });
        await res.body.dump();
        if (res.statusCode === 201) count++;
      }
    };
    const started = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { msgsPerSec: count / ((now() - started) / 1000) };
  } finally {
    await agent.close();
    await h.stop();
  }
}
