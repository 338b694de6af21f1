/**
 * Prometheus metrics. Each Herald instance owns its registry (tests run several in one
 * process). Labels stay low-cardinality: topic and queue names, never message or
 * subscription ids.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';
import type { CommitStats } from './store/store.js';

/** A delivery outcome as counted by `herald_deliveries_total`. */
export type DeliveryOutcomeLabel = 'delivered' | 'retried' | 'dead_lettered' | 'failed';

export class Metrics {
  readonly registry = new Registry();

  readonly published = new Counter({
    name: 'herald_messages_published_total',
    help: 'Messages accepted for publishing to a topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  /**
   * Outcomes counted per delivery on the engine's hot path: plain numbers, added to
   * `herald_deliveries_total` when it is scraped (a labelled prom-client `inc` per delivery
   * costs more than the engine's own bookkeeping).
   */
  private readonly outcomeCounts: Record<DeliveryOutcomeLabel, number> = {
    delivered: 0,
    retried: 0,
    dead_lettered: 0,
    failed: 0,
  };

  readonly deliveries: Counter<'outcome'>;

  /** Label-less histograms observed once per attempt or delivery (see src/fast-histogram.ts). */
  readonly attemptDuration = new FastHistogram({
    name: 'herald_delivery_attempt_duration_seconds',
    help: 'Duration of one webhook HTTP attempt',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [this.registry],
  });

  readonly deliveryLatency = new FastHistogram({
    name: 'herald_delivery_latency_seconds',
    help: 'From publish to successful delivery (includes retries)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600],
    registers: [this.registry],
  });

  readonly queueSent = new Counter({
    name: 'herald_queue_messages_sent_total',
    help: 'Messages sent directly to a queue',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly queueReceived = new Counter({
    name: 'herald_queue_messages_received_total',
    help: 'Messages handed out by receives',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly queueAcked = new Counter({
    name: 'herald_queue_messages_acked_total',
    help: 'Messages acknowledged (deleted) by receipt',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly breakerOpen = new Gauge({
    name: 'herald_circuit_breakers_open',
    help: 'Endpoints whose circuit breaker is open or half-open',
    registers: [this.registry],
  });

  /** Webhook requests in flight, read when scraped (see `constructor`). */
  private inFlightSource: () => number = () => 0;

  constructor(
    collect: {
      queueDepths?: () => Promise<Array<{ queue: string; visible: number; inFlight: number; delayed: number }>>;
      /** Present when this node is one of several: is the cluster bus up? */
      clusterBusUp?: () => boolean;
      /** The store's running commit totals. */
      commitStats?: () => CommitStats;
    } = {},
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    const counts = this.outcomeCounts;
    this.deliveries = new Counter({
      name: 'herald_deliveries_total',
      help: 'Webhook delivery outcomes: delivered, retried (an attempt failed and another is scheduled), dead_lettered, failed (kept as failed, no DLQ)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        for (const outcome of Object.keys(counts) as DeliveryOutcomeLabel[]) {
          if (counts[outcome] === 0) continue;
          this.inc({ outcome }, counts[outcome]);
          counts[outcome] = 0;
        }
      },
    });
    const metrics = this;
    new Gauge({
      name: 'herald_deliveries_in_flight',
      help: 'Webhook requests in flight (with a sender thread, also those it holds to start next)',
      registers: [this.registry],
      collect() {
        this.set(metrics.inFlightSource());
      },
    });
    const depths = collect.queueDepths;
    new Gauge({
      name: 'herald_queue_depth',
      help: 'Messages in a queue by state: visible, in_flight, delayed',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        if (!depths) return;
        for (const d of await depths()) {
          this.set({ queue: d.queue, state: 'visible' }, d.visible);
          this.set({ queue: d.queue, state: 'in_flight' }, d.inFlight);
          this.set({ queue: d.queue, state: 'delayed' }, d.delayed);
        }
      },
    });
    const stats = collect.commitStats;
    if (stats) {
      // Counters only go up: each scrape adds what the store counted since the last one.
      const seen: CommitStats = { groups: 0, writes: 0, syncs: 0 };
      const counter = (name: string, help: string, key: keyof CommitStats) =>
        new Counter({
          name,
          help,
          registers: [this.registry],
          collect() {
            const now = stats()[key];
            if (now > seen[key]) this.inc(now - seen[key]);
            seen[key] = now;
          },
        });
      counter(
        'herald_store_commits_total',
        'Group commits: every write transaction on SQLite; the batched publishes and sends on PostgreSQL',
        'groups',
      );
      counter(
        'herald_store_commit_writes_total',
        'Writes committed; divided by herald_store_commits_total, the writes that share a commit',
        'writes',
      );
      counter(
        'herald_store_syncs_total',
        'WAL fsyncs Herald issued to make commits durable (SQLite; 0 on PostgreSQL, which syncs its own)',
        'syncs',
      );
    }
    const busUp = collect.clusterBusUp;
    if (busUp) {
      new Gauge({
        name: 'herald_cluster_bus_up',
        help: '1 while this node hears the other nodes through Redis; 0 while it falls back to polling',
        registers: [this.registry],
        collect() {
          this.set(busUp() ? 1 : 0);
        },
      });
    }
  }

  /** Count one delivery outcome (cheap: see `outcomeCounts`). */
  countDelivery(outcome: DeliveryOutcomeLabel): void {
    this.outcomeCounts[outcome]++;
  }

  /** Where `herald_deliveries_in_flight` reads its value when scraped (the delivery engine). */
  setInFlightSource(source: () => number): void {
    this.inFlightSource = source;
  }
}
