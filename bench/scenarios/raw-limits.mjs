// The raw storage limits on this machine, and Herald's durable publish rates beside them:
// - better-sqlite3, WAL, synchronous=FULL: one row per fsync'd commit, and 1,000 rows per
//   commit (256 B bodies), on the same disk (the temp directory Herald's data dirs use);
// - Herald: single-message publishes (one request each, acknowledged after fsync) from
//   `concurrency` clients, and batch publishes (1,000 per request), to a topic with one
//   queue subscription.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { now, startHerald, summarize } from '../lib/util.mjs';

export function sqliteRaw({ singles = 3000, batches = 100, batchSize = 1000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sqlite-'));
  try {
    const db = new Database(join(dir, 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const body = 'x'.repeat(256);
    for (let i = 0; i < 200; i++) insert.run(body); // warm-up
    // Autocommit: one fsync'd commit each; each commit's latency is kept (the disk's tail).
    const commitMs = new Float64Array(singles);
    let t = now();
    for (let i = 0; i < singles; i++) {
      const t0 = now();
      insert.run(body);
      commitMs[i] = now() - t0;
    }
    const singleCommitsPerSec = singles / ((now() - t) / 1000);
    const tx = db.transaction((k) => {
      for (let i = 0; i < k; i++) insert.run(body);
    });
    t = now();
    for (let i = 0; i < batches; i++) tx(batchSize);
    const batchedRowsPerSec = (batches * batchSize) / ((now() - t) / 1000);
    db.close();
    return { singles, batches, batchSize, singleCommitsPerSec, singleCommitMs: summarize(commitMs), batchedRowsPerSec };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function publishThroughput({ concurrency, seconds, batches = 100 }) {
  const h = await startHerald();
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  try {
    await h.api('PUT', '/v1/topics/tp');
    await h.api('PUT', '/v1/queues/tp-sink');
    await h.api('POST', '/v1/topics/tp/subscriptions', { protocol: 'queue', endpoint: 'tp-sink', raw: true });
    const payload = JSON.stringify({ body: 'x'.repeat(256) });
    let count = 0;
    let errors = 0;
    const end = now() + seconds * 1000;
    const worker = async () => {
      while (now() < end) {
        const res = await request(`${h.url}/v1/topics/tp/messages`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
          body: payload,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.dump();
        if (res.statusCode === 201) count++;
        else errors++;
      }
    };
    let started = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const singlePerSec = count / ((now() - started) / 1000);
    // Batches of 1,000, one request at a time: the batched-commit counterpart.
    const messages = Array.from({ length: 1000 }, () => ({ body: 'x'.repeat(256) }));
    started = now();
    for (let i = 0; i < batches; i++) await h.api('POST', '/v1/topics/tp/messages/batch', { messages });
    const batchedPerSec = (batches * 1000) / ((now() - started) / 1000);
    return { concurrency, singlePerSec, batchedPerSec, errors };
  } finally {
    await agent.close();
    await h.stop();
  }
}
