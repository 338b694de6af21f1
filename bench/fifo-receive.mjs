// Receive+ack throughput of a FIFO queue against a standard queue holding the same messages,
// straight into each store (no HTTP). `messages` are spread round-robin over `groups`; before
// measuring, `hold` groups get their head received and never acked (in flight for the whole
// run), the case that would make a scan of the message index walk past every blocked message.
// One consumer receives `max` at a time and acks them, for `seconds`.
//   npm run build && node bench/fifo-receive.mjs [--store sqlite|postgres|both] [--groups 10000]
//     [--messages 100000] [--hold 1000] [--max 10] [--seconds 5]
//     [--database-url postgres://postgres@127.0.0.1:5432/postgres]
// PostgreSQL runs in a throwaway schema, dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../dist/store/postgres/postgres-store.js';
import { SqliteStore } from '../dist/store/sqlite/sqlite-store.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const which = arg('store', 'both');
const groups = Number(arg('groups', 10_000));
const messages = Number(arg('messages', 100_000));
const hold = Number(arg('hold', 1000));
const max = Number(arg('max', 10));
const seconds = Number(arg('seconds', 5));
const baseUrl = arg('database-url', 'postgres://postgres@127.0.0.1:5432/postgres');

const queue = (name) => ({
  name,
  visibilityTimeoutSeconds: 30,
  delaySeconds: 0,
  retentionSeconds: 86_400,
  maxReceiveCount: 0,
  deadLetterQueue: null,
  fifo: name.endsWith('.fifo'),
  contentBasedDeduplication: false,
  createdAt: new Date().toISOString(),
});

async function fill(store, name) {
  const now = Date.now();
  let seq = 0;
  for (let i = 0; i < messages; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(i + 1000, messages); j++) {
      batch.push({
        id: `m-${name}-${++seq}`,
        body: 'x'.repeat(200),
        attributes: {},
        sentAtMs: now,
        visibleAtMs: now,
        groupId: `g${j % groups}`,
        idempotencyKey: name.endsWith('.fifo') ? `d${j}` : undefined,
        deduplicationId: name.endsWith('.fifo') ? `d${j}` : undefined,
      });
    }
    await store.sendToQueue(name, batch, 300_000, now);
  }
}

async function measure(store, name) {
  const q = (await store.createQueue(queue(name))).queue;
  const t0 = performance.now();
  await fill(store, name);
  const fillSeconds = (performance.now() - t0) / 1000;
  // Hold `hold` groups (FIFO) or messages (standard) in flight for the whole run.
  for (let held = 0; held < hold;) {
    // (max 1 on FIFO: each receive takes the head of one more group.)
    const take = q.fifo ? 1 : Math.min(100, hold - held);
    const got = await store.receive(q, { max: take, visibilityMs: 3_600_000, nowMs: Date.now() });
    if (got.length === 0) break;
    held += got.length;
  }
  let n = 0;
  let receives = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const got = await store.receive(q, { max, visibilityMs: 30_000, nowMs: Date.now() });
    receives++;
    if (got.length === 0) break;
    await store.ack(
      name,
      got.map((m) => m.receipt),
    );
    n += got.length;
  }
  const elapsed = Math.min(seconds, (performance.now() - (until - seconds * 1000)) / 1000);
  return { fillSeconds, perSecond: Math.round(n / elapsed), perReceive: (n / Math.max(1, receives)).toFixed(1) };
}

async function run(label, open) {
  for (const name of ['std', 'ordered.fifo']) {
    const { store, close } = await open();
    try {
      const r = await measure(store, name);
      console.log(
        `${label.padEnd(8)} ${name.padEnd(13)} ${messages} messages, ${groups} groups, ${hold} held: ` +
          `${r.perSecond} received+acked/s (${r.perReceive} per receive of max ${max}); filled in ${r.fillSeconds.toFixed(1)} s`,
      );
    } finally {
      await close();
    }
  }
}

if (which === 'sqlite' || which === 'both') {
  await run('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bench-fifo-'));
    const store = new SqliteStore({ dataDir: dir });
    await store.open();
    return { store, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  });
}
if (which === 'postgres' || which === 'both') {
  await run('postgres', async () => {
    const schema = `bench_fifo_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const url = new URL(baseUrl);
    url.searchParams.set('schema', schema);
    const store = new PostgresStore({ url: url.toString(), poolSize: 4 });
    await store.open();
    return {
      store,
      close: async () => {
        await store.close();
        const admin = new pg.Client({ connectionString: baseUrl });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      },
    };
  });
}
