/**
 * Whole Herald servers on PostgreSQL: two nodes (in this process) sharing one schema
 * deliver every message exactly once between them while nothing fails, and the HTTP API
 * answers a database outage with 503 and `Retry-After` (never 500), then recovers.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startReceiver } from '../support/receiver.js';
import { startTestHerald, tempDir, waitFor, type TestHerald } from '../support/herald.js';
import { admin, databaseUrl, freshPostgresUrl, randomName } from '../support/stores.js';

describe('Herald nodes on PostgreSQL', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function node(url: string): Promise<TestHerald> {
    const h = await startTestHerald({ databaseUrl: url }, tempDir());
    cleanups.push(() => h.close());
    return h;
  }

  it('two nodes share the deliveries of one subscription without sending any twice', async () => {
    const db = await freshPostgresUrl(`itr_${inject('heraldRunId')}_`);
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const a = await node(db.url);
    await a.client.createTopic('orders');
    await a.client.subscribe('orders', { protocol: 'http', endpoint: rx.url });
    await a.client.createQueue('jobs');
    // Started after the subscription exists, so its engine has the lane (signals between
    // nodes are not this store's job); it finds work by polling the shared database.
    const b = await node(db.url);

    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 50 }, (_, j) => ({ body: `m${i}-${j}` }));
      const target = i % 2 === 0 ? a : b;
      const { results } = await target.client.publishBatch('orders', batch);
      for (const r of results) if ('id' in r) ids.push(r.id);
    }
    await waitFor(() => rx.requests.length >= 500, 20_000, '500 deliveries');
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
    const seen = rx.requests.map((r) => String(r.headers['webhook-id']));
    expect(seen.length).toBe(500);
    expect(new Set(seen)).toEqual(new Set(ids));
    // Both nodes' engines took part.
    const attempts = (b.herald.engine?.stats.attempts ?? 0) + (a.herald.engine?.stats.attempts ?? 0);
    expect(attempts).toBe(500);
    expect(b.herald.engine!.stats.attempts).toBeGreaterThan(0);

    // Queue sends on one node are received on the other.
    await a.client.send('jobs', { body: 'from a' });
    const [got] = await b.client.receive('jobs');
    expect(got.body).toBe('from a');
  });

  it('answers 503 with Retry-After while the database is unreachable, and recovers by itself', async () => {
    const name = randomName('herald_fault_');
    await admin(`CREATE DATABASE ${name}`);
    cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    const h = await node(databaseUrl(name));
    await h.client.createTopic('t');
    await h.client.createQueue('jobs');
    await h.client.subscribe('t', { protocol: 'queue', endpoint: 'jobs' });
    const before = await h.client.publish('t', { body: 'before' });

    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    await waitFor(async () => (await h.api('GET', '/readyz')).status === 503, 5000, 'readyz 503');
    for (const [method, path, body] of [
      ['POST', '/v1/topics/t/messages', { body: 'during' }],
      ['POST', '/v1/queues/jobs/messages', { body: 'during' }],
      ['GET', '/v1/queues/jobs'],
      ['GET', '/v1/topics'],
    ] as const) {
      const res = await h.api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.body.error.code).toBe('unavailable');
      expect(res.headers.get('retry-after')).toBe('1');
    }

    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    await waitFor(async () => (await h.api('GET', '/readyz')).status === 200, 5000, 'readyz 200');
    const after = await h.client.publish('t', { body: 'after' });
    const got = await h.client.receive('jobs', { max: 10 });
    expect(got.map((m) => m.id).sort()).toEqual([before.id, after.id].sort());
  });
});
