/**
 * A label-less Prometheus histogram for the per-delivery hot path.
 *
 * prom-client's Histogram hashes a label set, validates it and looks up its series on every
 * `observe`, which at tens of thousands of deliveries a second costs more than the delivery
 * engine's own bookkeeping. A histogram without labels needs none of that: a bucket search
 * and three additions. It registers in a prom-client Registry like any metric (the registry
 * only calls `get()` and `reset()`), and its exposition is the same text prom-client's
 * Histogram writes for the same observations (test/unit/fast-histogram.test.ts checks that).
 */
import type { Registry } from 'prom-client';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** What a prom-client Registry reads from a metric (`get()`). */
export interface HistogramSnapshot {
  name: string;
  help: string;
  type: 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: Float64Array;
  /** Per bucket (not cumulative); the last slot counts values above every bound (+Inf). */
  private counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(opts: { name: string; help: string; buckets: number[]; registers?: Registry[] }) {
    this.name = opts.name;
    this.help = opts.help;
    const sorted = [...opts.buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1])))
      throw new Error(`${opts.name}: buckets must be distinct finite numbers`);
    this.bounds = Float64Array.from(sorted);
    this.counts = new Float64Array(sorted.length + 1);
    for (const r of opts.registers ?? []) r.registerMetric(this as never);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // never let a bad clock reading throw in the engine
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts = new Float64Array(this.bounds.length + 1);
    this.sum = 0;
    this.count = 0;
  }

  get(): HistogramSnapshot {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i];
      values.push({ labels: { le: this.bounds[i] }, value: cumulative, metricName: bucket });
    }
    values.push({ labels: { le: '+Inf' }, value: this.count, metricName: bucket });
    values.push({ labels: {}, value: this.sum, metricName: `${this.name}_sum` });
    values.push({ labels: {}, value: this.count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
