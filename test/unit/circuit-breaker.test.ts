import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/delivery/circuit-breaker.js';

const opts = { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 4000 };

function opened(now = 0): CircuitBreaker {
  const b = new CircuitBreaker(opts);
  for (let i = 0; i < 3; i++) b.onFailure(now);
  return b;
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const b = new CircuitBreaker(opts);
    b.onFailure(0);
    b.onFailure(0);
    b.onSuccess(0);
    b.onFailure(0);
    b.onFailure(0);
    expect(b.state(0)).toBe('closed');
    expect(b.acquire(0)).toEqual({ allowed: true });
  });

  it('opens after failureThreshold consecutive failures and refuses until the cool-down ends', () => {
    const b = opened(100);
    expect(b.state(100)).toBe('open');
    expect(b.acquire(500)).toEqual({ allowed: false, retryAtMs: 1100 });
    expect(b.state(1099)).toBe('open');
    expect(b.state(1100)).toBe('half_open');
  });

  it('lets exactly one probe through when half-open', () => {
    const b = opened();
    expect(b.acquire(1000)).toEqual({ allowed: true });
    const second = b.acquire(1000);
    expect(second.allowed).toBe(false);
    if (!second.allowed) expect(second.retryAtMs).toBeGreaterThan(1000);
  });

  it('closes when the probe succeeds', () => {
    const b = opened();
    b.acquire(1000);
    b.onSuccess(1010);
    expect(b.state(1010)).toBe('closed');
    expect(b.acquire(1010)).toEqual({ allowed: true });
    // and the cool-down is back to its first value
    for (let i = 0; i < 3; i++) b.onFailure(2000);
    expect(b.acquire(2000)).toEqual({ allowed: false, retryAtMs: 3000 });
  });

  it('re-opens with a doubled cool-down when the probe fails, capped', () => {
    const b = opened();
    b.acquire(1000);
    b.onFailure(1000);
    expect(b.acquire(1000)).toEqual({ allowed: false, retryAtMs: 3000 }); // 2 s
    b.acquire(3000);
    b.onFailure(3000);
    expect(b.acquire(3000)).toEqual({ allowed: false, retryAtMs: 7000 }); // 4 s
    b.acquire(7000);
    b.onFailure(7000);
    expect(b.acquire(7000)).toEqual({ allowed: false, retryAtMs: 11000 }); // capped at 4 s
  });

  it('ignores failures reported while open (requests that started earlier)', () => {
    const b = opened();
    b.onFailure(500);
    b.onFailure(900);
    expect(b.acquire(999)).toEqual({ allowed: false, retryAtMs: 1000 });
    expect(b.state(1000)).toBe('half_open');
  });

  it('release() frees an unused probe slot', () => {
    const b = opened();
    expect(b.acquire(1000).allowed).toBe(true);
    expect(b.acquire(1000).allowed).toBe(false);
    b.release();
    expect(b.acquire(1000).allowed).toBe(true);
  });
});
