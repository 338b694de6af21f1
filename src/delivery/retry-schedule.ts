/**
 * When to try a failed delivery again. Pure: randomness and time are parameters.
 *
 * Exponential backoff (the seeds' 1 s, 2 s, 4 s, ...) capped at `maxSeconds`, with jitter
 * that only ever shortens the delay, so many messages failing together spread out instead
 * of retrying in lockstep, and no delay ever exceeds the cap.
 */
import type { BackoffPolicy } from '../types.js';

export function backoffDelayMs(
  policy: BackoffPolicy,
  failedAttempts: number,
  random: () => number = Math.random,
  jitter = 0.2,
): number {
  const n = Math.max(1, Math.floor(failedAttempts));
  const j = Math.min(1, Math.max(0, jitter));
  const maxMs = Math.max(0, policy.maxSeconds * 1000);
  // Exponent growth overflows to Infinity for huge n; min() keeps the cap.
  const grown = policy.initialSeconds * 1000 * Math.pow(policy.multiplier, n - 1);
  const base = Number.isFinite(grown) ? Math.min(maxMs, grown) : maxMs;
  return Math.max(0, Math.round(base * (1 - j * random())));
}

/** A Retry-After header (delta-seconds or HTTP-date) as a delay in ms; null when absent or invalid. */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (/^-/.test(v) || /^\d/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

export function nextAttemptDelayMs(opts: {
  policy: BackoffPolicy;
  failedAttempts: number;
  retryAfterMs?: number | null;
  maxRetryAfterMs: number;
  random?: () => number;
  jitter?: number;
}): number {
  const backoff = backoffDelayMs(opts.policy, opts.failedAttempts, opts.random, opts.jitter);
  if (opts.retryAfterMs === undefined || opts.retryAfterMs === null) return backoff;
  return Math.max(backoff, Math.min(opts.retryAfterMs, opts.maxRetryAfterMs));
}
