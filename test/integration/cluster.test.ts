/**
 * Several Herald nodes as one: real child processes on one PostgreSQL database and Redis.
 * A node killed with SIGKILL mid-stream or a database connection reset loses no
 * acknowledged message; signals cross nodes; roles split API and delivery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, terminateConnections, type Cluster, type ClusterNode } from '../support/cluster.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';

const clusters: Cluster[] = [];
const receivers: Receiver[] = [];
const redises: PrivateRedis[] = [];

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await Promise.all(redises.splice(0).map((r) => r.stop()));
});

async function cluster(opts: Parameters<typeof startCluster>[0]): Promise<Cluster> {
  const c = await startCluster(opts);
  clusters.push(c);
  return c;
}

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function call(
  node: ClusterNode,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<{ status: number; body: any }> {
  const res = await fetch(node.url + path, {
    method,
    headers: {
      authorization: 'Bearer cluster-key',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok(node: ClusterNode, method: string, path: string, body?: unknown): Promise<any> {
  const res = await call(node, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const alive = (n: ClusterNode) => n.proc.exitCode === null && n.proc.signalCode === null;

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Publish `count` distinct bodies from `workers` concurrent publishers, each moving to the
 * next live node on a refused or failed request and retrying with the same idempotency
 * key, as a client with several URLs would. Returns the bodies that were acknowledged.
 */
async function publishAll(
  c: Cluster,
  topic: string,
  count: number,
  workers: number,
  during?: (acked: number) => Promise<void> | void,
): Promise<{ acked: Set<string>; refused: number }> {
  const acked = new Set<string>();
  let next = 0;
  let refused = 0;
  const deadline = Date.now() + 60_000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let target = w % c.nodes.length;
      for (;;) {
        const seq = next++;
        if (seq >= count) return;
        const body = `m-${seq}`;
        for (;;) {
          if (Date.now() > deadline) throw new Error('publishing took too long');
          const node = c.nodes[target % c.nodes.length];
          target++;
          if (!alive(node)) continue;
          try {
            const res = await call(node, 'POST', `/v1/topics/${topic}/messages`, { body, idempotencyKey: body }, 5_000);
            if (res.status === 201) {
              acked.add(body);
              await during?.(acked.size);
              break;
            }
            refused++;
          } catch {
            refused++; // connection refused or reset by a dying node: not acknowledged
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  return { acked, refused };
}

/** Receive and ack from the live nodes until every expected body was seen (or time runs out). */
async function drainQueue(c: Cluster, queue: string, expected: Set<string>, timeoutMs: number) {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  let turn = 0;
  while ([...expected].some((b) => !seen.has(b)) && Date.now() < deadline) {
    const live = c.nodes.filter(alive);
    const node = live[turn++ % live.length];
    const { messages } = await ok(node, 'POST', `/v1/queues/${queue}/receive`, { max: 500, waitSeconds: 1 });
    for (const m of messages) seen.set(m.body, (seen.get(m.body) ?? 0) + 1);
    if (messages.length > 0) {
      await ok(node, 'POST', `/v1/queues/${queue}/ack`, { receipts: messages.map((m: any) => m.receipt) });
    }
  }
  return seen;
}

async function setUpFanout(c: Cluster, hook: Receiver) {
  const n0 = c.nodes[0];
  await ok(n0, 'PUT', '/v1/topics/orders');
  await ok(n0, 'PUT', '/v1/queues/work', { visibilityTimeoutSeconds: 2 });
  await ok(n0, 'POST', '/v1/topics/orders/subscriptions', { protocol: 'queue', endpoint: 'work', raw: true });
  await ok(n0, 'POST', '/v1/topics/orders/subscriptions', {
    protocol: 'http',
    endpoint: hook.url,
    raw: true,
    deliveryPolicy: { timeoutSeconds: 2, backoff: { initialSeconds: 0.1, maxSeconds: 1, multiplier: 2 } },
  });
}

describe('cluster: three nodes on PostgreSQL and Redis', () => {
  it('delivers every acknowledged message to every subscription after a node is killed mid-stream', async () => {
    const c = await cluster({ nodes: 3, env: { HERALD_LEASE_MARGIN_MS: '1000' } });
    const hook = await receiver(() => 200);
    await setUpFanout(c, hook);

    let killed = false;
    const { acked, refused } = await publishAll(c, 'orders', 1_500, 24, (n) => {
      if (n >= 400 && !killed) {
        killed = true;
        c.nodes[1].proc.kill('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    expect(acked.size).toBe(1_500);

    const hooked = () => new Set(hook.requests.map((r) => r.body));
    await until(() => [...acked].every((b) => hooked().has(b)), 45_000, 'webhook deliveries');
    const queued = await drainQueue(c, 'work', acked, 45_000);
    const missingFromQueue = [...acked].filter((b) => !queued.has(b));
    expect(missingFromQueue).toEqual([]);

    const hookDuplicates = hook.requests.length - hooked().size;
    const queueDuplicates = [...queued.values()].reduce((a, n) => a + n - 1, 0);
    console.log(
      `cluster crash test: ${acked.size} acknowledged (${refused} refused or failed while node 1 died), ` +
        `webhook ${hook.requests.length} requests (${hookDuplicates} duplicates, ` +
        `${((hookDuplicates / acked.size) * 100).toFixed(2)}%), queue ${queueDuplicates} duplicates`,
    );
    // Nothing extra was made up: every delivery is of a published body.
    for (const b of hooked()) expect(b).toMatch(/^m-\d+$/);
  });

  it('loses nothing acknowledged when the database connections are reset, and recovers by itself', async () => {
    const c = await cluster({ nodes: 2, env: { HERALD_LEASE_MARGIN_MS: '1000' } });
    const hook = await receiver(() => 200);
    await setUpFanout(c, hook);

    let resets = 0;
    const resetting = (async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 300));
        resets += await terminateConnections(c.db.name);
      }
    })();
    const { acked, refused } = await publishAll(c, 'orders', 800, 16);
    await resetting;
    expect(resets).toBeGreaterThan(0);
    expect(acked.size).toBe(800);

    // Both nodes come back to ready on their own.
    for (const node of c.nodes) {
      await until(
        async () => (await fetch(`${node.url}/readyz`).catch(() => null))?.status === 200,
        15_000,
        `node ${node.index} ready`,
      );
    }
    const hooked = () => new Set(hook.requests.map((r) => r.body));
    await until(() => [...acked].every((b) => hooked().has(b)), 45_000, 'webhook deliveries');
    const queued = await drainQueue(c, 'work', acked, 45_000);
    expect([...acked].filter((b) => !queued.has(b))).toEqual([]);
    console.log(
      `connection reset test: ${resets} backends terminated, ${acked.size} acknowledged, ${refused} refused (503) and retried`,
    );
  });

  it('wakes a long poll on one node the moment another node commits a message', async () => {
    const c = await cluster({ nodes: 2 });
    await ok(c.nodes[0], 'PUT', '/v1/queues/jobs');
    const started = Date.now();
    const receive = call(c.nodes[1], 'POST', '/v1/queues/jobs/receive', { waitSeconds: 10 }, 15_000);
    await new Promise((r) => setTimeout(r, 300)); // the receive is waiting
    const sentAt = Date.now();
    await ok(c.nodes[0], 'POST', '/v1/queues/jobs/messages', { body: 'hello' });
    const res = await receive;
    expect(res.body.messages.map((m: any) => m.body)).toEqual(['hello']);
    // Woken by the bus, not by the 5 s safety re-check.
    expect(Date.now() - sentAt).toBeLessThan(1_000);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('serves a subscription made on one node to publishes on another at once', async () => {
    const c = await cluster({ nodes: 2 });
    const hook = await receiver(() => 200);
    await ok(c.nodes[0], 'PUT', '/v1/topics/news');
    // Node 1 caches "news has no subscriptions" by publishing first.
    await ok(c.nodes[1], 'POST', '/v1/topics/news/messages', { body: 'before' });
    await ok(c.nodes[0], 'POST', '/v1/topics/news/subscriptions', { protocol: 'http', endpoint: hook.url, raw: true });
    await new Promise((r) => setTimeout(r, 200));
    await ok(c.nodes[1], 'POST', '/v1/topics/news/messages', { body: 'after' });
    await until(() => hook.requests.some((r) => r.body === 'after'), 10_000, 'delivery of "after"');
    expect(hook.requests.map((r) => r.body)).not.toContain('before');
  });

  it('works without Redis too, by polling', async () => {
    const c = await cluster({ nodes: 2, redis: false });
    const hook = await receiver(() => 200);
    await ok(c.nodes[0], 'PUT', '/v1/topics/news');
    await ok(c.nodes[0], 'PUT', '/v1/queues/jobs');
    await ok(c.nodes[0], 'POST', '/v1/topics/news/subscriptions', { protocol: 'http', endpoint: hook.url, raw: true });
    await ok(c.nodes[0], 'POST', '/v1/topics/news/subscriptions', { protocol: 'queue', endpoint: 'jobs', raw: true });
    // The other node's cache of the topic expires within a second.
    await new Promise((r) => setTimeout(r, 1_100));
    const receive = call(c.nodes[0], 'POST', '/v1/queues/jobs/receive', { waitSeconds: 10 }, 15_000);
    await new Promise((r) => setTimeout(r, 200));
    const sentAt = Date.now();
    await ok(c.nodes[1], 'POST', '/v1/topics/news/messages', { body: 'polled' });
    const res = await receive;
    expect(res.body.messages.map((m: any) => m.body)).toEqual(['polled']);
    expect(Date.now() - sentAt).toBeLessThan(2_000); // the re-check interval (100 ms here), not the 10 s wait
    await until(() => hook.requests.some((r) => r.body === 'polled'), 10_000, 'webhook delivery');
  });

  it('without Redis, a delivery node finds subscriptions and work created on an API node', async () => {
    const c = await cluster({ nodes: 0, redis: false });
    const api = await c.start(0, 'api');
    await c.start(1, 'delivery');
    const hook = await receiver(() => 200);
    await ok(api, 'PUT', '/v1/topics/news');
    await ok(api, 'POST', '/v1/topics/news/subscriptions', { protocol: 'http', endpoint: hook.url, raw: true });
    await ok(api, 'POST', '/v1/topics/news/messages', { body: 'polled' });
    // The delivery node re-reads subscriptions every 5 s, then its lane finds the work.
    await until(() => hook.requests.some((r) => r.body === 'polled'), 10_000, 'delivery by the delivery node');
  });

  it('keeps working when Redis goes away, and uses it again when it is back', async () => {
    const redis = await startPrivateRedis();
    redises.push(redis);
    const c = await cluster({ nodes: 2, env: { HERALD_REDIS_URL: redis.url } });
    await ok(c.nodes[0], 'PUT', '/v1/queues/jobs');
    const busUp = async (node: ClusterNode) => {
      const res = await fetch(`${node.url}/metrics`, { headers: { authorization: 'Bearer cluster-key' } });
      return /^herald_cluster_bus_up 1$/m.test(await res.text());
    };
    /** Time from a send on node 0 to a waiting receive on node 1 answering. */
    const crossNodeWake = async (body: string) => {
      const receive = call(c.nodes[1], 'POST', '/v1/queues/jobs/receive', { waitSeconds: 10 }, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      const sentAt = Date.now();
      await ok(c.nodes[0], 'POST', '/v1/queues/jobs/messages', { body });
      const res = await receive;
      expect(res.body.messages.map((m: any) => m.body)).toEqual([body]);
      await ok(c.nodes[1], 'POST', '/v1/queues/jobs/ack', { receipts: res.body.messages.map((m: any) => m.receipt) });
      return Date.now() - sentAt;
    };
    expect(await busUp(c.nodes[1])).toBe(true);
    expect(await crossNodeWake('with redis')).toBeLessThan(1_000);

    await redis.kill();
    await until(async () => !(await busUp(c.nodes[1])), 5_000, 'node 1 to notice Redis is gone');
    // Still answered, by the re-check every HERALD_POLL_INTERVAL_MS (100 ms here), not the 10 s wait.
    expect(await crossNodeWake('without redis')).toBeLessThan(2_000);
    expect((await fetch(`${c.nodes[0].url}/readyz`)).status).toBe(200);

    await redis.restart();
    await until(() => busUp(c.nodes[0]), 10_000, 'node 0 back on the bus');
    await until(() => busUp(c.nodes[1]), 10_000, 'node 1 back on the bus');
    expect(await crossNodeWake('redis again')).toBeLessThan(1_000);
  });

  it('splits roles: API nodes accept, a delivery node sends and serves only health and metrics', async () => {
    const c = await cluster({ nodes: 0 });
    const api = await c.start(0, 'api');
    const delivery = await c.start(1, 'delivery');
    const hook = await receiver(() => 200);
    await ok(api, 'PUT', '/v1/topics/news');
    await ok(api, 'POST', '/v1/topics/news/subscriptions', { protocol: 'http', endpoint: hook.url, raw: true });
    await ok(api, 'POST', '/v1/topics/news/messages', { body: 'split' });
    await until(() => hook.requests.some((r) => r.body === 'split'), 10_000, 'delivery by the delivery node');
    expect((await call(delivery, 'GET', '/v1/topics')).status).toBe(404);
    expect((await fetch(`${delivery.url}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${delivery.url}/metrics`, { headers: { authorization: 'Bearer cluster-key' } });
    expect(await metrics.text()).toMatch(/^herald_cluster_bus_up 1$/m);
  });

  it('stops every node sending to an endpoint whose breaker one node opened', async () => {
    const c = await cluster({ nodes: 2 });
    let failing = true;
    const hook = await receiver(() => (failing ? 500 : 200));
    await ok(c.nodes[0], 'PUT', '/v1/topics/news');
    await ok(c.nodes[0], 'POST', '/v1/topics/news/subscriptions', {
      protocol: 'http',
      endpoint: hook.url,
      raw: true,
      deliveryPolicy: { maxAttempts: 100, backoff: { initialSeconds: 0.05, maxSeconds: 0.1, multiplier: 1 } },
    });
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 40; i++) {
      await ok(c.nodes[i % 2], 'POST', '/v1/topics/news/messages', { body: `b-${i}` });
    }
    // Both nodes send until one of them opens its breaker (5 failures); then it tells the other.
    await until(() => hook.requests.length >= 5, 10_000, 'first failures');
    await new Promise((r) => setTimeout(r, 1_000));
    const settled = hook.requests.length;
    await new Promise((r) => setTimeout(r, 1_500)); // well inside the 5 s cool-down
    // Without sharing, the other node would keep sending retries every ~0.1 s.
    expect(hook.requests.length - settled).toBeLessThanOrEqual(2);
    failing = false;
    await until(
      () => new Set(hook.requests.filter((r) => r.body.startsWith('b-')).map((r) => r.body)).size === 40,
      20_000,
      'all messages once the endpoint recovers',
    );
  });

  it('holds a subscription to maxPerSecond across nodes', async () => {
    const c = await cluster({ nodes: 3 });
    const hook = await receiver(() => 200);
    await ok(c.nodes[0], 'PUT', '/v1/topics/mail');
    await ok(c.nodes[0], 'POST', '/v1/topics/mail/subscriptions', {
      protocol: 'http',
      endpoint: hook.url,
      raw: true,
      deliveryPolicy: { maxPerSecond: 20 },
    });
    await new Promise((r) => setTimeout(r, 200));
    const batch = Array.from({ length: 100 }, (_, i) => ({ body: `r-${i}` }));
    await ok(c.nodes[0], 'POST', '/v1/topics/mail/messages/batch', { messages: batch });
    await new Promise((r) => setTimeout(r, 2_000));
    // 2 s at 20/s plus a burst of 2; three nodes each at 20/s would have sent ~100 by now.
    expect(hook.requests.length).toBeLessThanOrEqual(2 * 20 + 2 + 4);
    expect(hook.requests.length).toBeGreaterThanOrEqual(25);
  });
});
