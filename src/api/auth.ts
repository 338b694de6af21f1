/** Bearer-key authentication and per-client throttling, applied before any route runs. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { TokenBucket } from '../delivery/rate-limiter.js';
import { HeraldError } from '../errors.js';

/** Paths any caller may read: liveness and readiness probes carry no credentials. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);

const digest = (s: string) => createHash('sha256').update(s).digest();

export function installAuth(app: FastifyInstance, apiKey: string): void {
  // Compare digests so neither the key's content nor its length leaks through timing.
  const expected = digest(apiKey);
  app.addHook('onRequest', async (req) => {
    if (PUBLIC_PATHS.has(req.url.split('?')[0])) return;
    const header = req.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!key || !timingSafeEqual(digest(key), expected)) {
      throw new HeraldError('unauthorized', 'missing or wrong API key: send "Authorization: Bearer <HERALD_API_KEY>"');
    }
  });
}

/** Token bucket per client address; answers 429 with Retry-After when a client exceeds its rate. */
export function installThrottle(app: FastifyInstance, perSecond: number): void {
  if (perSecond <= 0) return;
  const buckets = new Map<string, TokenBucket>();
  app.addHook('onRequest', async (req, reply) => {
    if (PUBLIC_PATHS.has(req.url.split('?')[0])) return;
    const now = Date.now();
    let bucket = buckets.get(req.ip);
    if (!bucket) {
      if (buckets.size > 10_000) buckets.clear(); // bound memory under address churn
      bucket = new TokenBucket(perSecond, Math.max(1, perSecond), now);
      buckets.set(req.ip, bucket);
    }
    const wait = bucket.tryTake(now);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new HeraldError(
        'throttled',
        `more than ${perSecond} requests per second from this client; retry after ${Math.ceil(wait)} ms`,
      );
    }
  });
}
