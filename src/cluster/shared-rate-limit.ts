/**
 * A subscription's `maxPerSecond` enforced across every delivery node (the seeds' "30 per
 * second to a mail provider" must hold for the cluster, not per node).
 *
 * The bucket itself lives in Redis and is refilled by a Lua script on Redis's own clock,
 * so nodes with skewed clocks still agree. Asking Redis before every request would put a
 * round trip on the hot path; instead a node takes tokens in small grants (50 ms worth of
 * the rate) and spends them locally. A grant unspent after GRANT_TTL_MS is dropped, so no
 * node can hoard tokens and burst past the limit later.
 *
 * While Redis is unreachable each node falls back to a local bucket at its share of the
 * rate (the rate divided by the delivery nodes last seen), which keeps the cluster near
 * the limit without any coordination.
 */
import type { Redis } from 'ioredis';
import { TokenBucket, type RateGate } from '../delivery/rate-limiter.js';

const GRANT_TTL_MS = 1_000;
/** How long a lane waits for a grant in flight before it looks again (the reply wakes it sooner). */
const GRANT_WAIT_MS = 50;
/** After Redis failed to answer, how long before asking again. */
const ERROR_BACKOFF_MS = 100;

/**
 * KEYS[1] = bucket; ARGV = rate per second, burst, tokens wanted.
 * Returns { granted, ms until a whole grant is there when none was granted }: waiting for
 * a whole grant, not one token, keeps contending nodes from asking in a tight loop.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local granted = math.min(want, math.floor(tokens + 1e-9))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
local wait = 0
if granted == 0 then wait = math.ceil((want - tokens) * 1000 / rate) end
return { granted, wait }
`;

export interface SharedLimiterDeps {
  redis: Redis;
  /** Key prefix of this cluster. */
  prefix: string;
  /** True while Redis answers (the bus's health). */
  healthy(): boolean;
  /** Delivery nodes in the cluster, last seen (for the fallback share); at least 1. */
  nodes(): number;
}

export class SharedTokenBucket implements RateGate {
  private rate: number;
  private local = 0;
  private localExpiresAt = 0;
  private asking = false;
  private notBefore = 0;
  private fallback: TokenBucket;
  private fallbackNodes: number;
  private readonly key: string;
  /** Grants asked of Redis (diagnostics, tests). */
  requests = 0;

  constructor(
    private readonly deps: SharedLimiterDeps,
    subscriptionId: string,
    ratePerSecond: number,
    /** Called when a grant arrives, so the lane sends at once instead of on its timer. */
    private readonly wake: () => void,
    nowMs: number,
  ) {
    this.key = `${deps.prefix}:rate:${subscriptionId}`;
    this.rate = ratePerSecond;
    this.fallbackNodes = Math.max(1, deps.nodes());
    this.fallback = new TokenBucket(ratePerSecond / this.fallbackNodes, undefined, nowMs);
  }

  tryTake(nowMs: number): number {
    if (!(this.rate > 0 && Number.isFinite(this.rate))) return 0;
    if (!this.deps.healthy()) return this.takeLocally(nowMs);
    if (this.local > 0 && nowMs < this.localExpiresAt) {
      this.local--;
      return 0;
    }
    this.local = 0;
    if (nowMs < this.notBefore) return this.notBefore - nowMs;
    if (!this.asking) this.ask();
    return GRANT_WAIT_MS;
  }

  setRate(ratePerSecond: number, nowMs: number): void {
    this.rate = ratePerSecond;
    this.local = 0;
    this.fallback.setRate(ratePerSecond / this.fallbackNodes, nowMs);
  }

  private takeLocally(nowMs: number): number {
    const nodes = Math.max(1, this.deps.nodes());
    if (nodes !== this.fallbackNodes) {
      this.fallbackNodes = nodes;
      this.fallback.setRate(this.rate / nodes, nowMs);
    }
    return this.fallback.tryTake(nowMs);
  }

  private ask(): void {
    this.asking = true;
    this.requests++;
    const burst = TokenBucket.defaultBurst(this.rate);
    const want = Math.max(1, Math.min(burst, Math.ceil(this.rate / 20)));
    this.deps.redis
      .eval(TAKE_SCRIPT, 1, this.key, this.rate, burst, want)
      .then(
        (reply) => {
          const [granted, waitMs] = reply as [number, number];
          const now = Date.now();
          if (granted > 0) {
            this.local = granted;
            this.localExpiresAt = now + GRANT_TTL_MS;
          } else {
            this.notBefore = now + Math.max(1, waitMs);
          }
        },
        () => {
          this.notBefore = Date.now() + ERROR_BACKOFF_MS;
        },
      )
      .finally(() => {
        this.asking = false;
        this.wake();
      });
  }
}
