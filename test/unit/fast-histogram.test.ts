import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/fast-histogram.js';

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];

/** The same observations through prom-client's Histogram and ours, exposed by a registry each. */
async function both(values: number[]): Promise<{ ours: string; theirs: string }> {
  const a = new Registry();
  const b = new Registry();
  const fast = new FastHistogram({ name: 'h_seconds', help: 'help text', buckets, registers: [a] });
  const slow = new Histogram({ name: 'h_seconds', help: 'help text', buckets, registers: [b] });
  for (const v of values) {
    fast.observe(v);
    slow.observe(v);
  }
  return { ours: await a.metrics(), theirs: await b.metrics() };
}

describe('FastHistogram', () => {
  it('exposes exactly what prom-client exposes for the same observations', async () => {
    // Values on bucket bounds (le is inclusive), between them, below the first and above the last.
    const values = [0, 0.0005, 0.001, 0.0011, 0.0025, 0.003, 0.01, 0.5, 0.75, 1, 2.5, 14.9, 15, 15.01, 200];
    const { ours, theirs } = await both(values);
    expect(ours).toBe(theirs);
    expect(ours).toContain('h_seconds_bucket{le="0.001"} 3');
    expect(ours).toContain('h_seconds_bucket{le="15"} 13');
    expect(ours).toContain('h_seconds_bucket{le="+Inf"} 15');
    expect(ours).toContain('h_seconds_count 15');
  });

  it('matches prom-client with no observations and after many random ones', async () => {
    expect((await both([])).ours).toBe((await both([])).theirs);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 3;
    const values = Array.from({ length: 5000 }, random);
    const { ours, theirs } = await both(values);
    // Sums may differ in the last bits only if the additions happen in another order; they do not.
    expect(ours).toBe(theirs);
  });

  it('ignores values that are not finite numbers instead of throwing', async () => {
    const r = new Registry();
    const h = new FastHistogram({ name: 'x', help: 'x', buckets: [1], registers: [r] });
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(0.5);
    const text = await r.metrics();
    expect(text).toContain('x_count 1');
    expect(text).toContain('x_bucket{le="1"} 1');
  });

  it('resets with the registry', async () => {
    const r = new Registry();
    const h = new FastHistogram({ name: 'y', help: 'y', buckets: [1, 2], registers: [r] });
    h.observe(1.5);
    r.resetMetrics();
    expect(await r.metrics()).toContain('y_count 0');
  });

  it('refuses unusable buckets', () => {
    expect(() => new FastHistogram({ name: 'z', help: 'z', buckets: [] })).toThrow(/buckets/);
    expect(() => new FastHistogram({ name: 'z', help: 'z', buckets: [1, 1] })).toThrow(/buckets/);
    expect(() => new FastHistogram({ name: 'z', help: 'z', buckets: [1, Number.NaN] })).toThrow(/buckets/);
  });
});
