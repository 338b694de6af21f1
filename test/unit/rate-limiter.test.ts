import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/delivery/rate-limiter.js';

/** Take as fast as allowed over `ms` simulated milliseconds, stepping 1 ms. */
function drain(bucket: TokenBucket, start: number, ms: number): number[] {
  const taken: number[] = [];
  for (let t = start; t < start + ms; t++) while (bucket.tryTake(t) === 0) taken.push(t);
  return taken;
}

describe('TokenBucket', () => {
  it('holds 30/s to 30 per second plus a small burst', () => {
    const b = new TokenBucket(30, undefined, 0);
    const taken = drain(b, 0, 1000);
    expect(taken.length).toBeGreaterThanOrEqual(30);
    expect(taken.length).toBeLessThanOrEqual(33); // burst ceil(30/10) = 3
    expect(taken.filter((t) => t === 0)).toHaveLength(3); // never 30 at once
  });

  it('keeps the configured rate over 100 s within 1%', () => {
    const b = new TokenBucket(30, undefined, 0);
    const n = drain(b, 0, 100_000).length;
    expect(Math.abs(n - 3000) / 3000).toBeLessThan(0.01);
  });

  it('returns accurate waits: taking after the wait succeeds', () => {
    const b = new TokenBucket(10, 1, 0);
    expect(b.tryTake(0)).toBe(0);
    const wait = b.tryTake(0);
    expect(wait).toBe(100);
    expect(b.tryTake(wait - 1)).toBeGreaterThan(0);
    expect(b.tryTake(wait)).toBe(0);
  });

  it('a refused take takes nothing', () => {
    const b = new TokenBucket(1, 1, 0);
    expect(b.tryTake(0)).toBe(0);
    for (let i = 0; i < 5; i++) expect(b.tryTake(500)).toBe(500);
    expect(b.tryTake(1000)).toBe(0);
  });

  it('rate 0 is unlimited', () => {
    const b = new TokenBucket(0, undefined, 0);
    for (let i = 0; i < 10_000; i++) expect(b.tryTake(0)).toBe(0);
  });

  it('handles fractional rates', () => {
    const b = new TokenBucket(0.5, undefined, 0);
    expect(b.tryTake(0)).toBe(0);
    expect(b.tryTake(0)).toBe(2000);
    expect(b.tryTake(2000)).toBe(0);
    expect(drain(b, 2001, 20_000)).toHaveLength(9); // at 4 s, 6 s, ... 20 s
  });

  it('does not mint tokens when the clock goes backwards', () => {
    const b = new TokenBucket(10, 1, 10_000);
    expect(b.tryTake(10_000)).toBe(0);
    expect(b.tryTake(0)).toBeGreaterThan(0);
    expect(b.tryTake(5_000)).toBeGreaterThan(0);
  });

  it('changes rate in place', () => {
    const b = new TokenBucket(1, undefined, 0);
    drain(b, 0, 1);
    b.setRate(100, 1);
    const n = drain(b, 1, 1000).length;
    expect(n).toBeGreaterThanOrEqual(99);
    expect(n).toBeLessThanOrEqual(111);
  });
});
