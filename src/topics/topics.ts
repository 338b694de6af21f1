/**
 * Topics and publishing. Publishing turns one message into its fanout plan (one delivery
 * per push subscription, one copy per queue subscription) and hands it to the store,
 * which commits message, deliveries and queue copies atomically before the publisher is
 * answered.
 */
import type { HeraldConfig } from '../config.js';
import { HeraldError } from '../errors.js';
import { uuidv7 } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { Signals } from '../signals.js';
import type { AcceptResult, PublishEntry, Store } from '../store/store.js';
import type { Topic } from '../types.js';
import * as validate from '../validation.js';
import type { Catalog, TopicEntry } from './catalog.js';
import { envelope } from './envelope.js';

export const topicNotFound = (name: string) => new HeraldError('topic_not_found', `topic "${name}" does not exist`);

export class Topics {
  constructor(
    private readonly store: Store,
    private readonly catalog: Catalog,
    private readonly signals: Signals,
    private readonly config: HeraldConfig,
    private readonly metrics: Metrics,
  ) {}

  async create(name: string): Promise<{ topic: Topic; created: boolean }> {
    validate.topicName(name);
    const result = await this.store.createTopic(name, Date.now());
    if (result.created) this.signals.topicChanged.emit(name);
    return result;
  }

  async get(name: string): Promise<Topic & { subscriptions: number }> {
    const topic = await this.store.getTopic(name);
    if (!topic) throw topicNotFound(name);
    return { ...topic, subscriptions: await this.store.countSubscriptions(name) };
  }

  list(limit: number, after?: string): Promise<Topic[]> {
    return this.store.listTopics(limit, after);
  }

  async delete(name: string): Promise<void> {
    const subs = await this.store.listSubscriptions(name);
    if (!(await this.store.deleteTopic(name))) throw topicNotFound(name);
    this.signals.topicChanged.emit(name);
    for (const s of subs) this.signals.subscriptionChanged.emit(s.id);
  }

  /** Publish validated messages; results are per message, in order. */
  async publish(name: string, messages: validate.ValidMessage[]): Promise<AcceptResult[]> {
    const entry = await this.catalog.topic(name);
    if (!entry) throw topicNotFound(name);
    const now = Date.now();
    const entries = messages.map((m) => this.plan(entry, m, now));
    const results = await this.store.publish(entries, this.config.idempotencyWindowSeconds * 1000, now);
    this.announce(entry, results);
    this.metrics.published.inc({ topic: name }, results.length);
    return results;
  }

  private plan(entry: TopicEntry, m: validate.ValidMessage, now: number): PublishEntry {
    const id = uuidv7(now);
    const due = now + Math.round((m.delaySeconds ?? 0) * 1000);
    let wrapped: string | undefined;
    return {
      id,
      topic: entry.topic.name,
      body: m.body,
      attributes: m.attributes,
      createdAtMs: now,
      idempotencyKey: m.idempotencyKey,
      deliveries: entry.push.map((s) => ({ subscriptionId: s.id, dueAtMs: due })),
      queueCopies: entry.queue.map((s) => ({
        queue: s.endpoint,
        body: s.raw
          ? m.body
          : (wrapped ??= envelope({
              id,
              topic: entry.topic.name,
              body: m.body,
              attributes: m.attributes,
              publishedAtMs: now,
            })),
        attributes: s.raw ? m.attributes : {},
        visibleAtMs: due,
      })),
    };
  }

  /** Wake the delivery engine and long-polling receivers for what was just committed. */
  private announce(entry: TopicEntry, results: AcceptResult[]): void {
    if (!results.some((r) => 'id' in r && !r.duplicate)) return;
    if (entry.push.length > 0) this.signals.deliveriesDue.emit(entry.push.map((s) => s.id));
    for (const s of entry.queue) this.signals.queueMessages.emit(s.endpoint);
  }
}
