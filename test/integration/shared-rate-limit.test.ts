/**
 * The cluster-wide rate limit over real Redis: three "nodes" pulling as fast as they can
 * share one subscription's maxPerSecond, and fall back to their share when Redis is away.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedTokenBucket } from '../../src/cluster/shared-rate-limit.js';
import { SHARED_REDIS_URL, uniquePrefix } from '../support/redis.js';

let redis: Redis;

beforeAll(async () => {
  redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await redis.quit();
});

/**
 * Drive `buckets` the way the engine does (take until told to wait, then wait that long or
 * until woken) for `ms`; returns the tokens each one got.
 */
async function drive(
  make: (wake: () => void) => SharedTokenBucket,
  nodes: number,
  ms: number,
): Promise<{ taken: number[]; buckets: SharedTokenBucket[] }> {
  const taken = new Array<number>(nodes).fill(0);
  const buckets: SharedTokenBucket[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: nodes }, (_, i) => {
      let wakeUp: (() => void) | null = null;
      const bucket = make(() => wakeUp?.());
      buckets.push(bucket);
      return (async () => {
        while (Date.now() < end) {
          const wait = bucket.tryTake(Date.now());
          if (wait === 0) {
            taken[i]++;
            continue;
          }
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, Math.min(wait, end - Date.now()));
            wakeUp = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wakeUp = null;
        }
      })();
    }),
  );
  return { taken, buckets };
}

describe('shared rate limit (Redis token bucket)', () => {
  it('holds maxPerSecond across three nodes sending as fast as they can', async () => {
    const prefix = uniquePrefix();
    const rate = 100;
    const { taken, buckets } = await drive(
      (wake) =>
        new SharedTokenBucket({ redis, prefix, healthy: () => true, nodes: () => 3 }, 'sub-1', rate, wake, Date.now()),
      3,
      1_500,
    );
    const total = taken.reduce((a, b) => a + b, 0);
    // 1.5 s at 100/s plus the initial burst (10): 160. Allow scheduling slack below, none above.
    expect(total).toBeLessThanOrEqual(1.5 * rate + 10 + 1);
    expect(total).toBeGreaterThanOrEqual(1.5 * rate * 0.8);
    // Every node got a share (no node starved by the others).
    for (const n of taken) expect(n).toBeGreaterThan(10);
    // Tokens travel in grants, not one round trip per request.
    const requests = buckets.reduce((a, b) => a + b.requests, 0);
    expect(requests).toBeLessThan(total);
  });

  it('keeps subscriptions apart', async () => {
    const prefix = uniquePrefix();
    const deps = { redis, prefix, healthy: () => true, nodes: () => 1 };
    // At the same time: were the buckets one, the two would share 20/s between them.
    const [a, b] = await Promise.all([
      drive((wake) => new SharedTokenBucket(deps, 'sub-a', 20, wake, Date.now()), 1, 1_000),
      drive((wake) => new SharedTokenBucket(deps, 'sub-b', 20, wake, Date.now()), 1, 1_000),
    ]);
    expect(a.taken[0]).toBeGreaterThanOrEqual(16);
    expect(b.taken[0]).toBeGreaterThanOrEqual(16);
    expect(a.taken[0]).toBeLessThanOrEqual(20 + 2 + 1);
  });

  it('falls back to a local bucket at its share of the rate while Redis is away', async () => {
    const prefix = uniquePrefix();
    const rate = 90;
    const { taken, buckets } = await drive(
      (wake) =>
        new SharedTokenBucket({ redis, prefix, healthy: () => false, nodes: () => 3 }, 'sub-1', rate, wake, Date.now()),
      3,
      1_000,
    );
    // Each node alone: 30/s plus a burst of 3.
    for (const n of taken) {
      expect(n).toBeLessThanOrEqual(30 + 3 + 1);
      expect(n).toBeGreaterThanOrEqual(24);
    }
    expect(buckets.every((b) => b.requests === 0)).toBe(true);
  });

  it('does not let a node bank unused grants and burst past the limit later', async () => {
    const prefix = uniquePrefix();
    const deps = { redis, prefix, healthy: () => true, nodes: () => 1 };
    const rate = 40;
    const bucket = new SharedTokenBucket(deps, 'sub-1', rate, () => {}, Date.now());
    // Take one grant (2 tokens: 50 ms worth), spend one, then go idle for 1.2 s.
    let now = Date.now();
    while (bucket.tryTake(now) !== 0) {
      await new Promise((r) => setTimeout(r, 5));
      now = Date.now();
    }
    await new Promise((r) => setTimeout(r, 1_200));
    // The leftover local token expired; a burst now is limited by Redis's bucket (burst 4).
    let got = 0;
    const end = Date.now() + 100;
    while (Date.now() < end) {
      if (bucket.tryTake(Date.now()) === 0) got++;
      else await new Promise((r) => setTimeout(r, 2));
    }
    expect(got).toBeLessThanOrEqual(4 + Math.ceil(rate * 0.1) + 1);
  });
});
