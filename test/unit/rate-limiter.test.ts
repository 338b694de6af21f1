import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/delivery/rate-limiter.js';

/** Take as fast as allowed over `ms` simulated milliseconds, stepping 1 ms. */
function drain(bucket: TokenBucket, start: number, ms: number): number[] {
  const taken: number[] = [];
  for (let t = start; t < start + ms; t++) while (bucket.tryTake(t) === 0) taken.push(t);
  return taken;
}

/** Take, and whenever refused sleep exactly the advertised wait: the way the engine uses it. */
function obey(bucket: TokenBucket, start: number, ms: number): { taken: number; refusedAfterWait: number } {
  let now = start;
  let taken = 0;
  let refusedAfterWait = 0;
  let waited = false;
  while (now < start + ms) {
    const wait = bucket.tryTake(now);
    if (wait === 0) {
      taken++;
      waited = false;
    } else {
      if (waited) refusedAfterWait++;
      now += wait;
      waited = true;
    }
  }
  return { taken, refusedAfterWait };
}

/** Deterministic PRNG (mulberry32) so a failing case can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TokenBucket', () => {
  it('defaults the burst to a tenth of a second, at least 1', () => {
    expect([0.5, 1, 9, 10, 11, 30, 100, 1000].map(TokenBucket.defaultBurst)).toEqual([1, 1, 1, 1, 2, 3, 10, 100]);
  });

  it('holds 30/s to 30 per second plus a small burst, never 30 at once', () => {
    const b = new TokenBucket(30, undefined, 0);
    const taken = drain(b, 0, 1000);
    expect(taken.length).toBeGreaterThanOrEqual(30);
    expect(taken.length).toBeLessThanOrEqual(33); // burst ceil(30/10) = 3
    expect(taken.filter((t) => t === 0)).toHaveLength(3);
    // No 100 ms window ever sees more than the burst plus what 100 ms earns.
    for (const t of taken) expect(taken.filter((u) => u >= t && u < t + 100).length).toBeLessThanOrEqual(3 + 3);
  });

  it('keeps the configured rate over 100 s within 1%', () => {
    for (const rate of [30, 7, 250]) {
      const n = drain(new TokenBucket(rate, undefined, 0), 0, 100_000).length;
      expect(Math.abs(n - rate * 100) / (rate * 100), `rate ${rate}`).toBeLessThan(0.01);
    }
  });

  it('keeps the rate within 1% when callers sleep exactly the returned waits', () => {
    const { taken, refusedAfterWait } = obey(new TokenBucket(30, undefined, 0), 0, 100_000);
    expect(Math.abs(taken - 3000) / 3000).toBeLessThan(0.01);
    expect(refusedAfterWait).toBe(0);
  });

  it('returns accurate waits: one ms early is refused, on time succeeds', () => {
    const b = new TokenBucket(10, 1, 0);
    expect(b.tryTake(0)).toBe(0);
    const wait = b.tryTake(0);
    expect(wait).toBe(100);
    expect(b.tryTake(wait - 1)).toBe(1);
    expect(b.tryTake(wait)).toBe(0);
  });

  it('returned waits are always enough, for many rates and arrival patterns', () => {
    const random = prng(42);
    for (let round = 0; round < 200; round++) {
      const rate = 0.1 + random() * 500;
      const b = new TokenBucket(rate, undefined, 1_000_000);
      let now = 1_000_000;
      for (let i = 0; i < 50; i++) {
        now += Math.floor(random() * 20);
        const wait = b.tryTake(now);
        if (wait > 0) expect(b.tryTake(now + wait), `rate ${rate} at ${now}`).toBe(0);
      }
    }
  });

  it('a refused take takes nothing', () => {
    const b = new TokenBucket(1, 1, 0);
    expect(b.tryTake(0)).toBe(0);
    for (let i = 0; i < 5; i++) expect(b.tryTake(500)).toBe(500);
    expect(b.tryTake(1000)).toBe(0);
  });

  it('refills no further than the burst after a long idle time', () => {
    const b = new TokenBucket(30, undefined, 0);
    expect(drain(b, 3_600_000, 1)).toHaveLength(3);
  });

  it('honours an explicit burst', () => {
    const b = new TokenBucket(10, 5, 0);
    expect(drain(b, 0, 1)).toHaveLength(5);
    expect(b.tryTake(0)).toBe(100);
  });

  it('raises a burst below 1 to 1, so a token can always be earned', () => {
    const b = new TokenBucket(10, 0, 0);
    expect(b.tryTake(0)).toBe(0);
    expect(b.tryTake(0)).toBe(100);
    expect(b.tryTake(100)).toBe(0);
  });

  it('rate 0 is unlimited', () => {
    const b = new TokenBucket(0, undefined, 0);
    for (let i = 0; i < 10_000; i++) expect(b.tryTake(0)).toBe(0);
  });

  it('treats negative, infinite and NaN rates as unlimited rather than producing NaN waits', () => {
    for (const rate of [-1, Infinity, NaN]) {
      const b = new TokenBucket(rate, undefined, 0);
      for (let i = 0; i < 100; i++) expect(b.tryTake(0)).toBe(0);
    }
  });

  it('handles fractional rates', () => {
    const b = new TokenBucket(0.5, undefined, 0);
    expect(b.tryTake(0)).toBe(0);
    expect(b.tryTake(0)).toBe(2000);
    expect(b.tryTake(1500)).toBe(500);
    expect(b.tryTake(2000)).toBe(0);
    // At 4 s, 6 s, ... 22 s: exactly on time, though 1 ms steps add the tokens up in 0.0005 slivers.
    expect(drain(b, 2001, 20_000)).toEqual([4, 6, 8, 10, 12, 14, 16, 18, 20, 22].map((s) => s * 1000));
  });

  it('keeps a fractional rate over a long run', () => {
    const n = drain(new TokenBucket(0.5, undefined, 0), 0, 1_000_000).length;
    expect(Math.abs(n - 500) / 500).toBeLessThan(0.01);
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const b = new TokenBucket(10, 1, 10_000);
    expect(b.tryTake(10_000)).toBe(0);
    expect(b.tryTake(0)).toBeGreaterThan(0);
    expect(b.tryTake(5_000)).toBeGreaterThan(0);
    expect(b.tryTake(10_050)).toBe(50); // the interval it stepped back over is not paid out again
    expect(b.tryTake(10_100)).toBe(0);
  });

  it('gives a wait that holds even when asked from a clock that stepped back', () => {
    const b = new TokenBucket(10, 1, 10_000);
    expect(b.tryTake(10_000)).toBe(0);
    const wait = b.tryTake(9_000);
    expect(wait).toBe(1100);
    expect(b.tryTake(9_000 + wait)).toBe(0);
  });

  describe('setRate', () => {
    it('raises the rate in place', () => {
      const b = new TokenBucket(1, undefined, 0);
      drain(b, 0, 1);
      b.setRate(100, 1);
      const n = drain(b, 1, 1000).length;
      expect(n).toBeGreaterThanOrEqual(99);
      expect(n).toBeLessThanOrEqual(111);
    });

    it('lowers the rate, keeping no more tokens than the new burst', () => {
      const b = new TokenBucket(100, undefined, 0); // burst 10
      b.setRate(10, 0); // burst 1
      expect(drain(b, 0, 1)).toHaveLength(1);
      expect(b.tryTake(0)).toBe(100);
    });

    it('keeps the tokens earned at the old rate', () => {
      const b = new TokenBucket(10, 1, 0);
      expect(b.tryTake(0)).toBe(0);
      b.setRate(1, 50); // half a token earned at 10/s
      expect(b.tryTake(50)).toBe(500); // the other half at 1/s
    });

    it('keeps an explicit burst', () => {
      const b = new TokenBucket(10, 5, 0);
      b.setRate(100, 0);
      expect(drain(b, 0, 1)).toHaveLength(5);
    });

    it('switches to unlimited and back', () => {
      const b = new TokenBucket(10, undefined, 0);
      drain(b, 0, 1);
      b.setRate(0, 0);
      for (let i = 0; i < 1000; i++) expect(b.tryTake(0)).toBe(0);
      b.setRate(30, 0);
      expect(drain(b, 0, 1)).toHaveLength(3); // starts with a full burst
      expect(Math.abs(drain(b, 1, 10_000).length - 300)).toBeLessThanOrEqual(3);
    });
  });
});
