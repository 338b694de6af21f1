import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_POLICY } from '../../src/config.js';
import { backoffDelayMs, nextAttemptDelayMs, parseRetryAfter } from '../../src/delivery/retry-schedule.js';

const seeds = DEFAULT_DELIVERY_POLICY.backoff; // 1 s doubling, capped at 300 s
const noJitter = () => 0;

describe('backoffDelayMs', () => {
  it('follows the seeds schedule: 1 s doubling, capped at maxSeconds', () => {
    expect(seeds).toEqual({ initialSeconds: 1, maxSeconds: 300, multiplier: 2 });
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((n) => backoffDelayMs(seeds, n, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000,
    ]);
  });

  it('stays at the cap for any later attempt', () => {
    for (let n = 10; n <= 200; n++) expect(backoffDelayMs(seeds, n, noJitter)).toBe(300_000);
  });

  it('never overflows to Infinity or NaN for huge attempt counts', () => {
    const steep = { initialSeconds: 1, maxSeconds: 60, multiplier: 10 };
    for (const n of [1024, 1025, 1100, 1e6, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Infinity]) {
      expect(backoffDelayMs(seeds, n, noJitter)).toBe(300_000);
      expect(backoffDelayMs(steep, n, noJitter)).toBe(60_000);
      expect(backoffDelayMs(seeds, n, () => 1)).toBe(240_000);
    }
  });

  it('gives 0 for a zero initial delay however many attempts (0 x Infinity is not NaN)', () => {
    const zero = { initialSeconds: 0, maxSeconds: 10, multiplier: 2 };
    for (const n of [1, 5, 2000]) expect(backoffDelayMs(zero, n, noJitter)).toBe(0);
  });

  it('with random = 1 shortens by the full jitter fraction', () => {
    expect([1, 2, 3, 10].map((n) => backoffDelayMs(seeds, n, () => 1, 0.2))).toEqual([800, 1600, 3200, 240_000]);
  });

  it('with random = 0.5 shortens by half the jitter fraction', () => {
    expect([1, 2, 3, 10].map((n) => backoffDelayMs(seeds, n, () => 0.5, 0.2))).toEqual([900, 1800, 3600, 270_000]);
  });

  it('defaults to 20% jitter', () => {
    expect(backoffDelayMs(seeds, 3, () => 1)).toBe(3200);
  });

  it('stays within [base x (1 - jitter), base] for real random draws', () => {
    for (let n = 1; n <= 12; n++) {
      const base = Math.min(300_000, 1000 * 2 ** (n - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelayMs(seeds, n);
        expect(d).toBeGreaterThanOrEqual(Math.round(base * 0.8));
        expect(d).toBeLessThanOrEqual(base);
      }
    }
  });

  it('full jitter (1) spreads over [0, base]', () => {
    expect(backoffDelayMs(seeds, 3, () => 0.999, 1)).toBe(4);
    expect(backoffDelayMs(seeds, 3, () => 0.25, 1)).toBe(3000);
  });

  it('clamps jitter to [0, 1]', () => {
    expect(backoffDelayMs(seeds, 1, () => 1, 5)).toBe(0);
    expect(backoffDelayMs(seeds, 1, () => 1, -1)).toBe(1000);
    expect(backoffDelayMs(seeds, 1, () => 1, NaN)).toBe(1000);
  });

  it('keeps its bounds even for a random source outside [0, 1)', () => {
    expect(backoffDelayMs(seeds, 20, () => -3)).toBe(300_000); // never above the cap
    expect(backoffDelayMs(seeds, 1, () => 7, 1)).toBe(0); // never negative
    expect(backoffDelayMs(seeds, 1, () => NaN)).toBe(1000);
  });

  it('supports fractional initial seconds', () => {
    const fast = { initialSeconds: 0.05, maxSeconds: 1, multiplier: 2 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(fast, n, noJitter))).toEqual([
      50, 100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelayMs(fast, 1, () => 1)).toBe(40);
  });

  it('with multiplier 1 is a constant schedule', () => {
    const constant = { initialSeconds: 5, maxSeconds: 60, multiplier: 1 };
    expect([1, 2, 10, 1e9].map((n) => backoffDelayMs(constant, n, noJitter))).toEqual([5000, 5000, 5000, 5000]);
  });

  it('caps the very first delay when initialSeconds exceeds maxSeconds', () => {
    expect(backoffDelayMs({ initialSeconds: 10, maxSeconds: 3, multiplier: 2 }, 1, noJitter)).toBe(3000);
  });

  it('treats attempt counts below 1 (or not a number) as the first retry, and floors fractions', () => {
    for (const n of [0, -3, NaN]) expect(backoffDelayMs(seeds, n, noJitter)).toBe(1000);
    expect(backoffDelayMs(seeds, 2.9, noJitter)).toBe(2000);
  });

  it('returns whole milliseconds', () => {
    for (let i = 0; i < 100; i++) expect(Number.isInteger(backoffDelayMs(seeds, 3))).toBe(true);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');

  it('reads delta-seconds, with surrounding whitespace', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 7 ', now)).toBe(7000);
    expect(parseRetryAfter('\t30\r\n', now)).toBe(30_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('007', now)).toBe(7000);
  });

  it('keeps absurd delta-seconds finite', () => {
    expect(parseRetryAfter('9'.repeat(400), now)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads an IMF-fixdate', () => {
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:00 GMT', now)).toBe(86_400_000);
    expect(parseRetryAfter('  Mon, 23 Nov 2026 10:00:30 GMT ', now)).toBe(30_000);
  });

  it('gives 0 for a date now or in the past', () => {
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(0);
  });

  it('reads the obsolete RFC 850 and asctime forms RFC 9110 still requires', () => {
    const at = Date.parse('1994-11-06T08:49:37Z');
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', at - 5000)).toBe(5000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', at - 5000)).toBe(5000);
  });

  it('reads asctime as UTC whatever the local time zone', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const at = Date.parse('1994-11-06T08:49:37Z');
      expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', at - 1000)).toBe(1000);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('returns null when absent', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('   ', now)).toBeNull();
  });

  it('returns null for negative, fractional or signed numbers', () => {
    for (const v of ['-5', '-0', '+5', '1.5', '1e3', '0x10', '5 s', '1 2']) expect(parseRetryAfter(v, now)).toBeNull();
  });

  it('returns null for garbage and for dates that are not HTTP-dates', () => {
    for (const v of [
      'soon',
      '12abc',
      'foo 12', // Date.parse alone would call this 2001
      'Tue 3',
      '2026-11-23T10:00:30Z',
      'Mon, 23 Nov 2026 10:00:30', // no zone
      'Mon, 23 Nov 2026 10:00:30 PST',
      'Mon, 23 Foo 2026 10:00:30 GMT',
      'Mon, 23 Nov 2026 25:00:30 GMT',
    ])
      expect(parseRetryAfter(v, now), v).toBeNull();
  });
});

describe('nextAttemptDelayMs', () => {
  const base = { policy: seeds, maxRetryAfterMs: 3_600_000, random: noJitter };

  it('uses the backoff when no Retry-After was given', () => {
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 2 })).toBe(2000);
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 2, retryAfterMs: null })).toBe(2000);
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 2, retryAfterMs: NaN })).toBe(2000);
  });

  it('waits as long as Retry-After asks when that is longer than the backoff', () => {
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 1, retryAfterMs: 30_000 })).toBe(30_000);
  });

  it('keeps the backoff when it is longer than Retry-After', () => {
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 6, retryAfterMs: 1000 })).toBe(32_000);
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 3, retryAfterMs: 0 })).toBe(4000);
  });

  it('caps Retry-After at maxRetryAfterMs', () => {
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 1, retryAfterMs: 86_400_000 })).toBe(3_600_000);
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 1, retryAfterMs: Infinity })).toBe(3_600_000);
  });

  it('never lets the cap on Retry-After shorten the backoff', () => {
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 20, retryAfterMs: 86_400_000, maxRetryAfterMs: 10_000 })).toBe(
      300_000,
    );
  });

  it('passes random and jitter through to the backoff', () => {
    expect(nextAttemptDelayMs({ policy: seeds, failedAttempts: 3, maxRetryAfterMs: 0, random: () => 1 })).toBe(3200);
    expect(
      nextAttemptDelayMs({ policy: seeds, failedAttempts: 3, maxRetryAfterMs: 0, random: () => 1, jitter: 0.5 }),
    ).toBe(2000);
  });

  it('composes with parseRetryAfter', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    const retryAfterMs = parseRetryAfter('Mon, 23 Nov 2026 10:01:00 GMT', now);
    expect(nextAttemptDelayMs({ ...base, failedAttempts: 1, retryAfterMs })).toBe(60_000);
  });
});
