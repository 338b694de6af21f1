/**
 * The metadata cache (the seeds' "Metadata service"): topics and their subscriptions,
 * read through from the store and kept in memory, because every publish needs them and
 * they change rarely. Writes go through the services, which signal `topicChanged`; the
 * entry is dropped here on this node and, through the cluster bus, on every other node.
 *
 * With several nodes an entry also expires after `ttlMs`: a signal from another node can be
 * lost (Redis down or reconnecting, or no Redis at all), and a stale entry would keep
 * publishing past a new subscription. On one node nothing changes behind our back, so
 * entries live until invalidated.
 */
import type { Signals } from '../signals.js';
import type { Store } from '../store/store.js';
import type { Subscription, Topic } from '../types.js';
import { parseFilterPolicy, type FilterPolicy } from './filter-policy/index.js';

export interface TopicEntry {
  topic: Topic;
  /**
   * http/https subscriptions, disabled ones included: a disabled (paused) webhook
   * subscription still gets its deliveries, held until it is enabled again. Subscriptions
   * awaiting confirmation are left out: nothing is owed to them until they are confirmed.
   */
  push: Subscription[];
  /** Active queue subscriptions (a disabled one stops receiving copies). */
  queue: Subscription[];
  /** Compiled filter policies by subscription id (subscriptions without one are absent). */
  filters: Map<string, FilterPolicy>;
}

interface Cached {
  entry: Promise<TopicEntry | null>;
  loadedAtMs: number;
}

export class Catalog {
  private topics = new Map<string, Cached>();
  private readonly ttlMs: number;

  constructor(
    private readonly store: Store,
    signals: Signals,
    opts: { ttlMs?: number } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? Infinity;
    signals.topicChanged.on((name) => this.topics.delete(name));
    signals.resync.on(() => this.topics.clear());
  }

  /** The topic with its active subscriptions, or null when it does not exist. */
  topic(name: string): Promise<TopicEntry | null> {
    const now = Date.now();
    const cached = this.topics.get(name);
    if (cached && now - cached.loadedAtMs < this.ttlMs) return cached.entry;
    const fresh: Cached = { entry: this.load(name), loadedAtMs: now };
    this.topics.set(name, fresh);
    // A failed load must not stick.
    fresh.entry.catch(() => {
      if (this.topics.get(name) === fresh) this.topics.delete(name);
    });
    return fresh.entry;
  }

  private async load(name: string): Promise<TopicEntry | null> {
    const topic = await this.store.getTopic(name);
    if (!topic) return null;
    const subs = await this.store.listSubscriptions(name);
    const filters = new Map<string, FilterPolicy>();
    for (const s of subs) {
      // Validated when set; compiled once here, not per message.
      if (s.filterPolicy !== null) filters.set(s.id, parseFilterPolicy(s.filterPolicy, s.filterPolicyScope));
    }
    return {
      topic,
      push: subs.filter((s) => s.protocol !== 'queue' && s.status !== 'pending_confirmation'),
      queue: subs.filter((s) => s.protocol === 'queue' && s.status === 'active'),
      filters,
    };
  }
}
