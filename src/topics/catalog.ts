/**
 * The metadata cache (the seeds' "Metadata service"): topics and their subscriptions,
 * read through from the store and kept in memory, because every publish needs them and
 * they change rarely. Writes go through the services, which invalidate the entries here.
 */
import type { Store } from '../store/store.js';
import type { Subscription, Topic } from '../types.js';

export interface TopicEntry {
  topic: Topic;
  /**
   * http/https subscriptions, disabled ones included: a disabled (paused) webhook
   * subscription still gets its deliveries, held until it is enabled again.
   */
  push: Subscription[];
  /** Active queue subscriptions (a disabled one stops receiving copies). */
  queue: Subscription[];
}

export class Catalog {
  private topics = new Map<string, Promise<TopicEntry | null>>();

  constructor(private readonly store: Store) {}

  /** The topic with its active subscriptions, or null when it does not exist. */
  topic(name: string): Promise<TopicEntry | null> {
    let entry = this.topics.get(name);
    if (!entry) {
      entry = this.load(name);
      this.topics.set(name, entry);
      // A failed load must not stick.
      entry.catch(() => this.topics.delete(name));
    }
    return entry;
  }

  invalidate(topic: string): void {
    this.topics.delete(topic);
  }

  private async load(name: string): Promise<TopicEntry | null> {
    const topic = await this.store.getTopic(name);
    if (!topic) return null;
    const subs = await this.store.listSubscriptions(name);
    return {
      topic,
      push: subs.filter((s) => s.protocol !== 'queue'),
      queue: subs.filter((s) => s.protocol === 'queue' && s.status === 'active'),
    };
  }
}
