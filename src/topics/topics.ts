/**
 * Topics and publishing. Publishing turns one message into its fanout plan (one delivery
 * per push subscription, one copy per queue subscription) and hands it to the store,
 * which commits message, deliveries and queue copies atomically before the publisher is
 * answered.
 *
 * Filter policies apply here, while the plan is made: a subscription whose policy the
 * message does not match gets no delivery and no queue copy, so a filtered-out message
 * costs nothing downstream. The message is decoded once (`prepareMessage`) for all the
 * topic's policies.
 *
 * A message with texts by protocol (`bodies`, SNS `MessageStructure=json`) is planned per
 * protocol here too: queue copies are made from the `queue` text, and a push subscription whose
 * protocol has its own text gets that text stored with its delivery, durable like the rest.
 */
import type { HeraldConfig } from '../config.js';
import { HeraldError } from '../errors.js';
import { uuidv7 } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { Signals } from '../signals.js';
import type { AcceptResult, CopyBody, PublishEntry, Store } from '../store/store.js';
import type { SnsMessages } from '../aws/sns-messages.js';
import type { Attributes, MessageAttributes, Protocol, Subscription, Topic, TopicConfig } from '../types.js';
import * as validate from '../validation.js';
import type { Catalog, TopicEntry } from './catalog.js';
import { envelope } from './envelope.js';
import { matchesFilterPolicy, prepareMessage, type PreparedMessage } from './filter-policy/index.js';

export const topicNotFound = (name: string) => new HeraldError('topic_not_found', `topic "${name}" does not exist`);

type Dedup = { idempotencyKey: string | undefined; deduplicationId: string | undefined };

export class Topics {
  /** SNS framing for `sns`-style queue subscriptions (set by the composition root). */
  sns: SnsMessages | null = null;

  constructor(
    private readonly store: Store,
    private readonly catalog: Catalog,
    private readonly signals: Signals,
    private readonly config: HeraldConfig,
    private readonly metrics: Metrics,
  ) {}

  /** Create a topic; re-creating with the same settings is a no-op, with different ones a conflict. */
  async create(name: string, input?: unknown): Promise<{ topic: Topic; created: boolean }> {
    validate.topicName(name);
    const cfg = validate.topicConfig(input, { fifo: validate.isFifoName(name), contentBasedDeduplication: false });
    const existing = await this.store.getTopic(name);
    if (existing) {
      // Its create may still be waiting for its fsync: answer "exists" only once it is durable.
      await this.store.sync();
      const given = (input ?? {}) as Partial<TopicConfig>;
      if (
        given.contentBasedDeduplication !== undefined &&
        given.contentBasedDeduplication !== existing.contentBasedDeduplication
      ) {
        throw new HeraldError(
          'conflict',
          `topic "${name}" exists with different contentBasedDeduplication; use PATCH to change it`,
        );
      }
      return { topic: existing, created: false };
    }
    const result = await this.store.createTopic(name, Date.now(), cfg);
    if (result.created) this.signals.topicChanged.emit(name);
    return result;
  }

  /** Change a topic's settings (today: contentBasedDeduplication of a FIFO topic). */
  async update(name: string, input: unknown): Promise<Topic> {
    const topic = await this.store.getTopic(name);
    if (!topic) throw topicNotFound(name);
    const cfg = validate.topicConfig(input, topic);
    if (!(await this.store.updateTopic(name, cfg))) throw topicNotFound(name);
    this.signals.topicChanged.emit(name);
    return { ...topic, ...cfg };
  }

  async get(name: string): Promise<Topic & { subscriptions: number }> {
    const topic = await this.store.getTopic(name);
    if (!topic) throw topicNotFound(name);
    return { ...topic, subscriptions: await this.store.countSubscriptions(name) };
  }

  list(limit: number, after?: string): Promise<Topic[]> {
    return this.store.listTopics(limit, after);
  }

  /** Replace a topic's attributes and tags (set through the SNS API). */
  async updateSettings(topic: Topic): Promise<Topic> {
    if (!(await this.store.updateTopicSettings(topic))) throw topicNotFound(topic.name);
    this.signals.topicChanged.emit(topic.name);
    return topic;
  }

  async delete(name: string): Promise<void> {
    const subs = await this.store.listSubscriptions(name);
    if (!(await this.store.deleteTopic(name))) throw topicNotFound(name);
    this.signals.topicChanged.emit(name);
    for (const s of subs) this.signals.subscriptionChanged.emit(s.id);
  }

  /**
   * Publish validated messages; results are per message, in order. A message breaking the
   * FIFO rules (validate.fifoRules) gets an error result and the others are still published.
   * The batch is one store call, so every queue's copies keep the batch's order.
   */
  async publish(name: string, messages: validate.ValidMessage[]): Promise<AcceptResult[]> {
    const entry = await this.catalog.topic(name);
    if (!entry) throw topicNotFound(name);
    const now = Date.now();
    const to = { kind: 'topic' as const, ...entry.topic };
    type Checked = { m: validate.ValidMessage; dedup: Dedup } | { error: { code: string; message: string } };
    const checked = messages.map((m): Checked => {
      try {
        const dedup = validate.fifoRules(m, to);
        return { m, dedup };
      } catch (error) {
        if (error instanceof HeraldError) return { error: { code: error.code, message: error.message } };
        throw error;
      }
    });
    // SNS notification texts for queue subscriptions are made asynchronously (they are
    // signed); every other plan is synchronous, with no promise per message.
    const planned = entry.queue.some((s) => !s.raw && s.style === 'sns' && this.sns)
      ? await Promise.all(checked.map((c) => ('error' in c ? c : this.planWithSns(entry, c.m, c.dedup, now))))
      : checked.map((c) => ('error' in c ? c : this.plan(entry, c.m, c.dedup, now, uuidv7(now))));
    const entries = planned.filter((p): p is PublishEntry => 'queueCopies' in p);
    const stored =
      entries.length > 0 ? await this.store.publish(entries, this.config.idempotencyWindowSeconds * 1000, now) : [];
    let next = 0;
    const results = planned.map((p) => ('queueCopies' in p ? stored[next++] : p));
    this.announce(entry, stored);
    this.metrics.published.inc({ topic: name }, entries.length);
    return results;
  }

  /** `plan`, with the SNS notification texts of the queue subscriptions taking the message made first. */
  private async planWithSns(
    entry: TopicEntry,
    m: validate.ValidMessage,
    dedup: Dedup,
    now: number,
  ): Promise<PublishEntry> {
    const id = uuidv7(now);
    const takes = this.filterFor(entry, m);
    const notifications = new Map<string, CopyBody>();
    for (const s of entry.queue) {
      if (!s.raw && s.style === 'sns' && takes(s))
        notifications.set(s.id, await this.snsNotification(entry, s, m, id, now));
    }
    return this.plan(entry, m, dedup, now, id, takes, notifications);
  }

  /**
   * The message's fanout: its deliveries and queue copies. `notifications`: the SNS texts of
   * the SNS-style queue subscriptions that take it (see planWithSns); without them such a
   * subscription gets the envelope.
   */
  private plan(
    entry: TopicEntry,
    m: validate.ValidMessage,
    dedup: Dedup,
    now: number,
    id: string,
    takes = this.filterFor(entry, m),
    notifications?: Map<string, CopyBody>,
  ): PublishEntry {
    const due = now + Math.round((m.delaySeconds ?? 0) * 1000);
    let wrapped: string | undefined;
    const queueCopies: PublishEntry['queueCopies'] = [];
    const queueText = textFor(m, 'queue');
    for (const s of entry.queue) {
      if (!takes(s)) continue;
      let body: CopyBody | undefined = s.raw ? queueText : notifications?.get(s.id);
      body ??= wrapped ??= envelope({
        id,
        topic: entry.topic.name,
        body: queueText,
        attributes: m.attributes,
        publishedAtMs: now,
      });
      queueCopies.push({
        queue: s.endpoint,
        body,
        attributes: s.raw ? m.attributes : {},
        messageAttributes: s.raw ? m.messageAttributes : undefined,
        visibleAtMs: due,
        groupId: m.groupId,
        deduplicationId: dedup.deduplicationId,
        subscriptionId: s.id,
      });
    }
    return {
      id,
      topic: entry.topic.name,
      body: m.body,
      attributes: m.attributes,
      messageAttributes: m.messageAttributes,
      subject: m.subject,
      createdAtMs: now,
      idempotencyKey: dedup.idempotencyKey,
      sequenced: entry.topic.fifo,
      // A subscription whose protocol has its own text gets it with its delivery.
      deliveries: entry.push.filter(takes).map((s) => {
        const text = textFor(m, s.protocol);
        return text === m.body
          ? { subscriptionId: s.id, dueAtMs: due }
          : { subscriptionId: s.id, dueAtMs: due, body: text };
      }),
      queueCopies,
    };
  }

  /**
   * Which subscriptions take the message: those without a policy, and those it matches. A body
   * policy looks at the text the subscription would get (its protocol's, or the default).
   */
  private filterFor(entry: TopicEntry, m: validate.ValidMessage): (s: Subscription) => boolean {
    if (entry.filters.size === 0) return () => true;
    const prepared = new Map<string, PreparedMessage>(); // by text: decoded once however many policies look
    return (s) => {
      const policy = entry.filters.get(s.id);
      if (!policy) return true;
      const text = textFor(m, s.protocol);
      let message = prepared.get(text);
      if (!message) prepared.set(text, (message = prepareMessage({ attributes: filterable(m), body: text })));
      return matchesFilterPolicy(policy, message);
    };
  }

  /** SNS's notification for an `sns`-style queue subscription; FIFO topics' carry the message's SequenceNumber. */
  private async snsNotification(
    entry: TopicEntry,
    s: Subscription,
    m: validate.ValidMessage,
    id: string,
    now: number,
  ): Promise<CopyBody> {
    const input = {
      messageId: id,
      body: textFor(m, s.protocol),
      subject: m.subject,
      attributes: m.attributes,
      messageAttributes: m.messageAttributes,
      publishedAtMs: now,
    };
    return entry.topic.fifo
      ? this.sns!.fifoNotification(entry.topic, s, input)
      : this.sns!.notification(entry.topic, s, input);
  }

  /** Wake the delivery engine and long-polling receivers for what was just committed. */
  private announce(entry: TopicEntry, results: AcceptResult[]): void {
    if (!results.some((r) => 'id' in r && !r.duplicate)) return;
    if (entry.push.length > 0) this.signals.deliveriesDue.emit(entry.push.map((s) => s.id));
    for (const s of entry.queue) this.signals.queueMessages.emit(s.endpoint);
  }
}

/** The text a subscription of `protocol` gets: the message's text for it, or its default `body`. */
function textFor(m: validate.ValidMessage, protocol: Protocol): string {
  return m.bodies?.[protocol] ?? m.body;
}

/** What a filter policy sees: plain attributes (Strings) and typed ones. */
function filterable(m: validate.ValidMessage): Attributes | MessageAttributes {
  return m.messageAttributes ? { ...typed(m.attributes), ...m.messageAttributes } : m.attributes;
}

function typed(attributes: Attributes): MessageAttributes {
  const out: MessageAttributes = {};
  for (const k in attributes) out[k] = { dataType: 'String', stringValue: attributes[k] };
  return out;
}
