// Herald on PostgreSQL (issue 4), side by side in one run:
// - publish throughput, same workload, on: one SQLite node, one PostgreSQL node, three
//   PostgreSQL nodes (publishes spread round robin over the nodes). Each message fans out
//   to a queue copy and a webhook delivery, as in production use;
// - publish-to-webhook latency across nodes, with and without Redis: publishes go to an
//   API-only node, a delivery-only node sends, so the delivery node learns of each message
//   from the other node (Redis signal) or from its own polling (no Redis).
// Every node is a `herald serve` child process; PostgreSQL is the machine's (127.0.0.1:5432),
// with a fresh database per cluster, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Agent, request } from 'undici';
import { now, sleep, startHerald, startReceiver, summarize } from '../lib/util.mjs';

const PG_URL = process.env.HERALD_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.HERALD_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function admin(sql) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `nodes` Herald processes on one fresh database; `roles` per node (default all). */
export async function startCluster({ nodes, redis, roles = [] }) {
  const db = `herald_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${db}`);
  const url = new URL(PG_URL);
  url.pathname = `/${db}`;
  const env = {
    HERALD_DATABASE_URL: url.toString(),
    ...(redis ? { HERALD_REDIS_URL: REDIS_URL, HERALD_REDIS_PREFIX: db } : {}),
  };
  const started = [];
  try {
    // The first node migrates; the others start once the schema is there.
    started.push(await startHerald({ env: { ...env, HERALD_ROLE: roles[0] ?? 'all' } }));
    for (let i = 1; i < nodes; i++)
      started.push(await startHerald({ env: { ...env, HERALD_ROLE: roles[i] ?? 'all' } }));
  } catch (error) {
    await Promise.all(started.map((h) => h.stop()));
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    throw error;
  }
  return {
    nodes: started,
    async stop() {
      await Promise.all(started.map((h) => h.stop()));
      await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    },
  };
}

/** 64 clients publishing single messages for `seconds`, round robin over `nodes`. */
export async function publishLoad(nodes, rx, { seconds, concurrency = 64 }) {
  const first = nodes[0];
  await first.api('PUT', '/v1/topics/cl');
  await first.api('PUT', '/v1/queues/cl-sink');
  await first.api('POST', '/v1/topics/cl/subscriptions', { protocol: 'queue', endpoint: 'cl-sink', raw: true });
  await first.api('POST', '/v1/topics/cl/subscriptions', { protocol: 'http', endpoint: `${rx.url}/hook`, raw: true });
  await sleep(300); // the other nodes' caches see the subscriptions
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const payload = JSON.stringify({ body: 'x'.repeat(256) });
  let count = 0;
  let errors = 0;
  const run = async (ms) => {
    const end = now() + ms;
    let turn = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (now() < end) {
          const node = nodes[turn++ % nodes.length];
          try {
            const res = await request(`${node.url}/v1/topics/cl/messages`, {
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
          } catch {
            errors++;
          }
        }
      }),
    );
  };
  try {
    await run(1000); // warm-up: connections, JIT, statement caches
    count = 0;
    errors = 0;
    const before = (await rx.stats()).count;
    const started = now();
    await run(seconds * 1000);
    const elapsed = (now() - started) / 1000;
    const published = count;
    // Deliveries keep up or catch up; wait (bounded) for the webhook to see them all.
    const target = before + published;
    const deadline = now() + 60_000;
    let s = await rx.stats();
    while (s.count < target && now() < deadline) {
      await sleep(50);
      s = await rx.stats();
    }
    const drained = (now() - started) / 1000;
    return {
      nodes: nodes.length,
      publishedPerSec: published / elapsed,
      deliveredPerSec: (s.count - before) / drained,
      delivered: s.count - before,
      published,
      errors,
    };
  } finally {
    await agent.close();
  }
}

export async function clusterThroughput({ seconds }) {
  const results = {};
  for (const [name, start] of [
    [
      'sqlite x1',
      async () => ({
        nodes: [await startHerald()],
        stop: async function () {
          await this.nodes[0].stop();
        },
      }),
    ],
    ['postgres x1', () => startCluster({ nodes: 1, redis: true })],
    ['postgres x3', () => startCluster({ nodes: 3, redis: true })],
  ]) {
    const rx = await startReceiver();
    const cluster = await start();
    try {
      results[name] = await publishLoad(cluster.nodes, rx, { seconds });
    } finally {
      await cluster.stop();
      await rx.stop();
    }
  }
  return results;
}

/** Paced publishes to an API-only node; a delivery-only node sends. Latency at the receiver. */
export async function crossNodeLatency({ redis, rate = 200, seconds = 5 }) {
  const rx = await startReceiver();
  const cluster = await startCluster({ nodes: 2, redis, roles: ['api', 'delivery'] });
  const [api] = cluster.nodes;
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  try {
    await api.api('PUT', '/v1/topics/lat');
    await api.api('POST', '/v1/topics/lat/subscriptions', { protocol: 'http', endpoint: `${rx.url}/hook`, raw: true });
    await sleep(6_000); // the delivery node picks the new subscription up (bus, or its 5 s resync)
    const pace = async (total, publish) => {
      const start = now() + 20;
      const inflight = [];
      for (let i = 0; i < total;) {
        const t = now();
        for (; i < total && start + (i * 1000) / rate <= t; i++) {
          const due = start + (i * 1000) / rate;
          inflight.push(
            request(`${api.url}/v1/topics/lat/messages`, {
              method: 'POST',
              dispatcher: agent,
              headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
              body: JSON.stringify({ body: `t=${due.toFixed(3)};${'x'.repeat(100)}` }),
            }).then(async (res) => {
              await res.body.dump();
              publish.push(now() - due);
            }),
          );
        }
        await sleep(1);
      }
      await Promise.all(inflight);
    };
    await pace(rate, []);
    await rx.waitFor(rate, 15_000, 'cross-node warm-up');
    await sleep(300);
    await rx.reset();
    const total = rate * seconds;
    const publish = [];
    await pace(total, publish);
    await rx.waitFor(total, 30_000, 'cross-node deliveries');
    const s = await rx.stats({ latencies: true });
    return { redis, rate, total, publish: summarize(publish), toWebhook: summarize(s.latencies) };
  } finally {
    await agent.close();
    await cluster.stop();
    await rx.stop();
  }
}
