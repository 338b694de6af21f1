/**
 * When to try a failed delivery again. Pure: randomness and time are parameters.
 *
 * Exponential backoff (the seeds' 1 s, 2 s, 4 s, ...) capped at `maxSeconds`, with jitter
 * that only ever shortens the delay, so many messages failing together spread out instead
 * of retrying in lockstep, and no delay ever exceeds the cap.
 */
import type { BackoffPolicy } from '../types.js';

const clamp01 = (x: number): number => (x > 0 ? Math.min(1, x) : 0); // NaN -> 0

export function backoffDelayMs(
  policy: BackoffPolicy,
  failedAttempts: number,
  random: () => number = Math.random,
  jitter = 0.2,
): number {
  const maxMs = Math.max(0, policy.maxSeconds * 1000);
  const initialMs = Math.max(0, policy.initialSeconds * 1000);
  const n = Math.max(1, Math.floor(failedAttempts) || 1);
  // initialMs * multiplier^(n-1) reaches Infinity (or NaN as 0 * Infinity) for huge n;
  // anything that is not a finite number has certainly passed the cap.
  const grown = initialMs === 0 ? 0 : initialMs * Math.pow(policy.multiplier, n - 1);
  const base = Number.isFinite(grown) ? Math.min(maxMs, Math.max(0, grown)) : maxMs;
  // Clamping the random draw too keeps "never above the cap" true for any injected source.
  const delay = Math.round(base * (1 - clamp01(jitter) * clamp01(random())));
  return Math.min(delay, Math.floor(maxMs));
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
// The three HTTP-date forms RFC 9110 §5.6.7 obliges recipients to accept. Matching the shape
// first matters because Date.parse alone takes almost anything ("foo 12" is a date in 2001).
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`, 'i');

function parseHttpDate(v: string): number {
  if (IMF_FIXDATE.test(v) || RFC850_DATE.test(v)) return Date.parse(v);
  // asctime carries no zone; Date.parse would read it as local time, but HTTP means UTC.
  if (ASCTIME_DATE.test(v)) return Date.parse(`${v} GMT`);
  return NaN;
}

/** A Retry-After header (delta-seconds or HTTP-date) as a delay in ms; null when absent or invalid. */
export function parseRetryAfter(value: string | undefined | null, nowMs: number): number | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number.MAX_SAFE_INTEGER, Number(v) * 1000); // "9" x 400 is Infinity
  const at = parseHttpDate(v);
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
  const asked = opts.retryAfterMs;
  // Math.max would turn a NaN from a careless caller into a NaN schedule; treat it as absent.
  if (asked === undefined || asked === null || Number.isNaN(asked)) return backoff;
  return Math.max(backoff, Math.min(asked, opts.maxRetryAfterMs));
}
