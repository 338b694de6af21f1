// Durable publishes per second straight into each store (no HTTP), same shape for both:
// `concurrency` publishers each awaiting one single-message publish (one webhook delivery
// plus one queue copy) at a time, for `seconds`. Measures group commit: concurrent
// publishes share commits, so the rate grows with concurrency until commits saturate.
//   npm run build && node bench/store-publish.mjs [--seconds 5] [--concurrency 64]
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
const seconds = Number(arg('seconds', 5));
const concurrency = Number(arg('concurrency', 64));
const baseUrl = arg('database-url', 'postgres://postgres@127.0.0.1:5432/postgres');

async function measure(name, store) {
  await store.open();
  await store.createTopic('bench', Date.now());
  const sub = {
    id: 'sub-bench',
    topic: 'bench',
    protocol: 'http',
    endpoint: 'http://127.0.0.1:9/',
    raw: false,
    deliveryPolicy: {
      maxAttempts: 1,
      backoff: { initialSeconds: 1, maxSeconds: 1, multiplier: 1 },
      timeoutSeconds: 1,
      maxPerSecond: 0,
      maxConcurrency: 1,
    },
    deadLetterQueue: null,
    secret: 'whsec_eA==',
    status: 'active',
    statusReason: null,
    createdAt: new Date().toISOString(),
  };
  await store.createSubscription(sub);
  const queue = {
    name: 'copies',
    visibilityTimeoutSeconds: 30,
    delaySeconds: 0,
    retentionSeconds: 3600,
    maxReceiveCount: 0,
    deadLetterQueue: null,
    createdAt: new Date().toISOString(),
  };
  await store.createQueue(queue);
  let n = 0;
  let seq = 0;
  const body = 'x'.repeat(256);
  const until = performance.now() + seconds * 1000;
  const publisher = async () => {
    while (performance.now() < until) {
      const now = Date.now();
      const id = `m-${seq++}`;
      await store.publish(
        [
          {
            id,
            topic: 'bench',
            body,
            attributes: {},
            createdAtMs: now,
            deliveries: [{ subscriptionId: sub.id, dueAtMs: now }],
            queueCopies: [{ queue: 'copies', body, attributes: {}, visibleAtMs: now }],
          },
        ],
        300_000,
        now,
      );
      n++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, publisher));
  const elapsed = (performance.now() - t0) / 1000;
  const { groups, writes } = store.commitStats();
  await store.close();
  console.log(
    `${name.padEnd(10)} ${Math.round(n / elapsed)
      .toString()
      .padStart(
        7,
      )} publishes/s  (${n} in ${elapsed.toFixed(1)} s, ${(writes / Math.max(groups, 1)).toFixed(1)} per commit)`,
  );
}

console.log(`durable single-message publishes, ${concurrency} concurrent publishers, ${seconds} s each`);
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
try {
  await measure('sqlite', new SqliteStore({ dataDir: dir }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const schema = `bench_${process.pid}`;
const url = new URL(baseUrl);
url.searchParams.set('schema', schema);
try {
  await measure('postgres', new PostgresStore({ url: url.toString() }));
} finally {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}
