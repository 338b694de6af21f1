import { describe, expect, it } from 'vitest';
import { backoffDelayMs, nextAttemptDelayMs, parseRetryAfter } from '../../src/delivery/retry-schedule.js';

const seeds = { initialSeconds: 1, maxSeconds: 300, multiplier: 2 };
const noJitter = () => 0;

describe('backoffDelayMs', () => {
  it('follows the seeds schedule: 1 s doubling', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(seeds, n, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000,
    ]);
  });

  it('caps at maxSeconds', () => {
    expect(backoffDelayMs(seeds, 9, noJitter)).toBe(256_000);
    expect(backoffDelayMs(seeds, 10, noJitter)).toBe(300_000);
    expect(backoffDelayMs(seeds, 50, noJitter)).toBe(300_000);
  });

  it('never overflows for huge attempt counts', () => {
    for (const n of [1000, 1e6, Number.MAX_SAFE_INTEGER]) {
      const d = backoffDelayMs(seeds, n, noJitter);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBe(300_000);
    }
  });

  it('jitter only shortens, by at most the jitter fraction', () => {
    expect(backoffDelayMs(seeds, 3, () => 1, 0.2)).toBe(3200);
    expect(backoffDelayMs(seeds, 3, () => 0.5, 0.2)).toBe(3600);
    expect(backoffDelayMs(seeds, 3, () => 0.999, 1)).toBe(4); // full jitter
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelayMs(seeds, 4, Math.random, 0.2);
      expect(d).toBeGreaterThanOrEqual(6400);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it('clamps jitter to [0, 1]', () => {
    expect(backoffDelayMs(seeds, 1, () => 1, 5)).toBe(0);
    expect(backoffDelayMs(seeds, 1, () => 1, -1)).toBe(1000);
  });

  it('supports fractional seconds and a constant schedule', () => {
    const fast = { initialSeconds: 0.05, maxSeconds: 0.2, multiplier: 2 };
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(fast, n, noJitter))).toEqual([50, 100, 200, 200]);
    const constant = { initialSeconds: 5, maxSeconds: 60, multiplier: 1 };
    expect([1, 2, 10].map((n) => backoffDelayMs(constant, n, noJitter))).toEqual([5000, 5000, 5000]);
  });

  it('treats attempt counts below 1 as the first retry', () => {
    expect(backoffDelayMs(seeds, 0, noJitter)).toBe(1000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 7 ', now)).toBe(7000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP-date', () => {
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0); // in the past
  });

  it('rejects absent and malformed values', () => {
    for (const v of [undefined, null, '', '  ', '-5', '1.5', 'soon', '12abc'])
      expect(parseRetryAfter(v, now)).toBeNull();
  });
});

describe('nextAttemptDelayMs', () => {
  it('uses the backoff when no Retry-After was given', () => {
    expect(nextAttemptDelayMs({ policy: seeds, failedAttempts: 2, maxRetryAfterMs: 3_600_000, random: noJitter })).toBe(
      2000,
    );
  });

  it('waits at least as long as Retry-After asks', () => {
    expect(
      nextAttemptDelayMs({
        policy: seeds,
        failedAttempts: 1,
        retryAfterMs: 30_000,
        maxRetryAfterMs: 3_600_000,
        random: noJitter,
      }),
    ).toBe(30_000);
  });

  it('keeps the backoff when it is longer than Retry-After', () => {
    expect(
      nextAttemptDelayMs({
        policy: seeds,
        failedAttempts: 6,
        retryAfterMs: 1000,
        maxRetryAfterMs: 3_600_000,
        random: noJitter,
      }),
    ).toBe(32_000);
  });

  it('caps Retry-After at maxRetryAfterMs', () => {
    expect(
      nextAttemptDelayMs({
        policy: seeds,
        failedAttempts: 1,
        retryAfterMs: 86_400_000,
        maxRetryAfterMs: 3_600_000,
        random: noJitter,
      }),
    ).toBe(3_600_000);
  });
});
