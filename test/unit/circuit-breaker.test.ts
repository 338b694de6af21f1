import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/delivery/circuit-breaker.js';

const opts = { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 4000 };

/** A breaker that opened at `now` (open until now + 1000). */
function opened(now = 0, o = opts): CircuitBreaker {
  const b = new CircuitBreaker(o);
  for (let i = 0; i < o.failureThreshold; i++) b.onFailure(now);
  return b;
}

/** Take the probe at `now` and fail it. */
function failProbe(b: CircuitBreaker, now: number): void {
  expect(b.acquire(now)).toEqual({ allowed: true });
  b.onFailure(now);
}

describe('CircuitBreaker', () => {
  describe('closed', () => {
    it('starts closed and lets every attempt through', () => {
      const b = new CircuitBreaker(opts);
      expect(b.state(0)).toBe('closed');
      for (let i = 0; i < 100; i++) expect(b.acquire(0)).toEqual({ allowed: true });
    });

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

    it('only counts consecutive failures', () => {
      const b = new CircuitBreaker(opts);
      for (let i = 0; i < 50; i++) {
        b.onFailure(i);
        b.onFailure(i);
        b.onSuccess(i);
      }
      expect(b.state(50)).toBe('closed');
    });

    it('opens on the first failure with a threshold of 1', () => {
      const b = new CircuitBreaker({ ...opts, failureThreshold: 1 });
      b.onFailure(5);
      expect(b.state(5)).toBe('open');
    });

    it('release() is harmless', () => {
      const b = new CircuitBreaker(opts);
      b.release();
      expect(b.state(0)).toBe('closed');
      expect(b.acquire(0)).toEqual({ allowed: true });
    });
  });

  describe('open', () => {
    it('opens at the threshold and refuses until the cool-down ends', () => {
      const b = opened(100);
      expect(b.state(100)).toBe('open');
      expect(b.acquire(100)).toEqual({ allowed: false, retryAtMs: 1100 });
      expect(b.acquire(500)).toEqual({ allowed: false, retryAtMs: 1100 });
      expect(b.state(1099)).toBe('open');
      expect(b.state(1100)).toBe('half_open');
    });

    it('is not extended by failures from requests that started before it opened', () => {
      const b = opened();
      b.onFailure(500);
      b.onFailure(900);
      b.onFailure(999);
      expect(b.acquire(999)).toEqual({ allowed: false, retryAtMs: 1000 });
      expect(b.state(1000)).toBe('half_open');
    });

    it('is not closed early by successes from requests that started before it opened', () => {
      const b = opened();
      b.onSuccess(500);
      expect(b.state(500)).toBe('open');
      expect(b.acquire(999)).toEqual({ allowed: false, retryAtMs: 1000 });
      expect(b.state(1000)).toBe('half_open');
    });

    it('needs a full run of failures to open again after it closed', () => {
      const b = opened();
      b.acquire(1000);
      b.onSuccess(1000);
      b.onFailure(1001);
      b.onFailure(1002);
      expect(b.state(1002)).toBe('closed');
      b.onFailure(1003);
      expect(b.state(1003)).toBe('open');
    });
  });

  describe('half_open', () => {
    it('lets exactly one probe through', () => {
      const b = opened();
      expect(b.state(1000)).toBe('half_open');
      expect(b.acquire(1000)).toEqual({ allowed: true });
      for (let t = 1000; t < 1100; t += 10) expect(b.acquire(t).allowed).toBe(false);
      expect(b.state(1100)).toBe('half_open');
    });

    it('tells refused callers to come back after min(cooldown, 1 s)', () => {
      const b = opened();
      b.acquire(1000);
      expect(b.acquire(1200)).toEqual({ allowed: false, retryAtMs: 1200 + 1000 });
      const long = opened(0, { failureThreshold: 1, cooldownMs: 30_000, maxCooldownMs: 60_000 });
      long.acquire(30_000);
      expect(long.acquire(30_000)).toEqual({ allowed: false, retryAtMs: 31_000 });
      const short = opened(0, { failureThreshold: 1, cooldownMs: 200, maxCooldownMs: 60_000 });
      short.acquire(200);
      expect(short.acquire(250)).toEqual({ allowed: false, retryAtMs: 450 });
    });

    it('never asks a refused caller to retry at the current instant, even with no cool-down', () => {
      const b = opened(0, { failureThreshold: 1, cooldownMs: 0, maxCooldownMs: 0 });
      expect(b.state(0)).toBe('half_open');
      expect(b.acquire(0)).toEqual({ allowed: true });
      expect(b.acquire(0)).toEqual({ allowed: false, retryAtMs: 1 });
    });

    it('closes when the probe succeeds', () => {
      const b = opened();
      b.acquire(1000);
      b.onSuccess(1010);
      expect(b.state(1010)).toBe('closed');
      for (let i = 0; i < 10; i++) expect(b.acquire(1010)).toEqual({ allowed: true });
    });

    it('resets the cool-down to its initial value when the probe succeeds', () => {
      const b = opened();
      failProbe(b, 1000); // cool-down 2 s
      failProbe(b, 3000); // cool-down 4 s
      expect(b.acquire(7000)).toEqual({ allowed: true });
      b.onSuccess(7000);
      for (let i = 0; i < 3; i++) b.onFailure(8000);
      expect(b.acquire(8000)).toEqual({ allowed: false, retryAtMs: 9000 });
    });

    it('re-opens with a doubled cool-down when the probe fails, capped at maxCooldownMs', () => {
      const b = opened();
      failProbe(b, 1000);
      expect(b.state(1000)).toBe('open');
      expect(b.acquire(1000)).toEqual({ allowed: false, retryAtMs: 3000 }); // 2 s
      failProbe(b, 3000);
      expect(b.acquire(3000)).toEqual({ allowed: false, retryAtMs: 7000 }); // 4 s
      failProbe(b, 7000);
      expect(b.acquire(7000)).toEqual({ allowed: false, retryAtMs: 11000 }); // capped at 4 s
      failProbe(b, 11000);
      expect(b.acquire(11000)).toEqual({ allowed: false, retryAtMs: 15000 });
    });

    it('measures the new cool-down from when the probe failed', () => {
      const b = opened();
      expect(b.acquire(1000)).toEqual({ allowed: true });
      b.onFailure(1700); // a slow probe
      expect(b.acquire(1700)).toEqual({ allowed: false, retryAtMs: 3700 });
      expect(b.state(3699)).toBe('open');
      expect(b.state(3700)).toBe('half_open');
    });

    it('allows a new single probe after a failed one, once the longer cool-down passes', () => {
      const b = opened();
      failProbe(b, 1000);
      expect(b.acquire(2999).allowed).toBe(false);
      expect(b.acquire(3000)).toEqual({ allowed: true });
      expect(b.acquire(3000).allowed).toBe(false);
    });

    it('ignores a failure when no probe is out (a straggler), keeping the probe slot free', () => {
      const b = opened();
      b.onFailure(1500);
      expect(b.state(1500)).toBe('half_open');
      expect(b.acquire(1500)).toEqual({ allowed: true });
    });

    it("ignores a straggler's failure while the probe is out, when told it is not the probe", () => {
      const b = opened();
      expect(b.acquire(1000)).toEqual({ allowed: true });
      b.onFailure(1100, false); // started before the breaker opened
      expect(b.state(1100)).toBe('half_open');
      expect(b.acquire(1100).allowed).toBe(false); // the probe is still out
      b.onFailure(1200, true); // the probe itself
      expect(b.state(1200)).toBe('open');
      expect(b.openUntilMs).toBe(1200 + 2000);
    });

    it('closes on a success that arrives after the cool-down, probe or not', () => {
      const b = opened();
      b.onSuccess(1500);
      expect(b.state(1500)).toBe('closed');
    });

    it('release() frees an unused probe slot without changing state', () => {
      const b = opened();
      expect(b.acquire(1000).allowed).toBe(true);
      expect(b.acquire(1000).allowed).toBe(false);
      b.release();
      expect(b.state(1000)).toBe('half_open');
      expect(b.acquire(1000).allowed).toBe(true);
      expect(b.acquire(1000).allowed).toBe(false);
    });

    it('release() does not count as a failure: the cool-down does not grow', () => {
      const b = opened();
      b.acquire(1000);
      b.release();
      failProbe(b, 1000);
      expect(b.acquire(1000)).toEqual({ allowed: false, retryAtMs: 3000 });
    });
  });

  it('uses the cap even when it is reached in one step', () => {
    const b = opened(0, { failureThreshold: 1, cooldownMs: 3000, maxCooldownMs: 5000 });
    failProbe(b, 3000);
    expect(b.acquire(3000)).toEqual({ allowed: false, retryAtMs: 8000 });
  });

  describe('state shared by other nodes', () => {
    it('opens until the time a peer gives, refusing attempts meanwhile', () => {
      const b = new CircuitBreaker(opts);
      b.openFromPeer(500, 100);
      expect(b.state(100)).toBe('open');
      expect(b.openUntilMs).toBe(500);
      expect(b.acquire(499)).toEqual({ allowed: false, retryAtMs: 500 });
      expect(b.state(500)).toBe('half_open');
      expect(b.acquire(500)).toEqual({ allowed: true });
    });

    it('never shortens an open period of its own, and ignores periods already over', () => {
      const b = opened(0); // open until 1000
      b.openFromPeer(600, 100);
      expect(b.openUntilMs).toBe(1000);
      b.openFromPeer(1500, 100);
      expect(b.openUntilMs).toBe(1500);
      const c = new CircuitBreaker(opts);
      c.openFromPeer(100, 100);
      expect(c.state(100)).toBe('closed');
    });

    it("drops its own probe when a peer opens it: the probe's outcome no longer counts", () => {
      const b = opened(0);
      expect(b.acquire(1000)).toEqual({ allowed: true }); // our probe is out
      b.openFromPeer(3000, 1100);
      b.onSuccess(1200); // our probe's late answer, while open: ignored
      expect(b.state(1200)).toBe('open');
      expect(b.acquire(3000)).toEqual({ allowed: true }); // a new probe is allowed later
    });

    it('closes when a peer reports success, with the cool-down back to its initial value', () => {
      const b = opened(0);
      failProbe(b, 1000); // cool-down doubled: open until 3000
      b.closeFromPeer();
      expect(b.state(1001)).toBe('closed');
      for (let i = 0; i < opts.failureThreshold; i++) b.onFailure(2000);
      expect(b.openUntilMs).toBe(2000 + opts.cooldownMs);
    });
  });
});
