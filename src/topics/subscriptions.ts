/** Subscriptions: attach endpoints to topics, change them, list their deliveries and attempts. */
import type { HeraldConfig } from '../config.js';
import { HeraldError, invalid } from '../errors.js';
import { generateSecret } from '../delivery/signing.js';
import type { Signals } from '../signals.js';
import type { Store } from '../store/store.js';
import type { Protocol, Queue, Subscription, Topic } from '../types.js';
import * as validate from '../validation.js';
import { topicNotFound } from './topics.js';
import { randomUUID } from 'node:crypto';

export const subscriptionNotFound = (id: string) =>
  new HeraldError('subscription_not_found', `subscription "${id}" does not exist`);

export interface SubscribeInput {
  protocol?: unknown;
  endpoint?: unknown;
  raw?: unknown;
  deliveryPolicy?: unknown;
  deadLetterQueue?: unknown;
}

export interface SubscriptionPatch {
  endpoint?: unknown;
  raw?: unknown;
  deliveryPolicy?: unknown;
  deadLetterQueue?: unknown;
  status?: unknown;
}

export class Subscriptions {
  constructor(
    private readonly store: Store,
    private readonly signals: Signals,
    private readonly config: HeraldConfig,
  ) {}

  async subscribe(topic: string, input: SubscribeInput): Promise<Subscription> {
    const found = await this.store.getTopic(topic);
    if (!found) throw topicNotFound(topic);
    const protocol = validate.protocol(input.protocol);
    const endpoint = validate.endpoint(protocol, input.endpoint);
    await this.requireEndpoint(found, protocol, endpoint);
    const sub: Subscription = {
      id: randomUUID(),
      topic,
      protocol,
      endpoint,
      raw: this.bool('raw', input.raw, false),
      deliveryPolicy: validate.deliveryPolicy(input.deliveryPolicy, this.config.delivery.defaultPolicy),
      deadLetterQueue: await this.deadLetterQueue(input.deadLetterQueue, null),
      secret: protocol === 'queue' ? '' : generateSecret(),
      status: 'active',
      statusReason: null,
      createdAt: new Date().toISOString(),
    };
    await this.store.createSubscription(sub);
    this.changed(sub);
    return sub;
  }

  async get(id: string): Promise<Subscription> {
    const sub = await this.store.getSubscription(id);
    if (!sub) throw subscriptionNotFound(id);
    return sub;
  }

  async list(topic: string): Promise<Subscription[]> {
    if (!(await this.store.getTopic(topic))) throw topicNotFound(topic);
    return this.store.listSubscriptions(topic);
  }

  async update(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    const sub = await this.get(id);
    const next: Subscription = { ...sub };
    if (patch.endpoint !== undefined) {
      next.endpoint = validate.endpoint(sub.protocol, patch.endpoint);
      const topic = await this.store.getTopic(sub.topic);
      if (!topic) throw topicNotFound(sub.topic);
      await this.requireEndpoint(topic, sub.protocol, next.endpoint);
    }
    next.raw = this.bool('raw', patch.raw, sub.raw);
    next.deliveryPolicy = validate.deliveryPolicy(patch.deliveryPolicy, sub.deliveryPolicy);
    next.deadLetterQueue = await this.deadLetterQueue(patch.deadLetterQueue, sub.deadLetterQueue);
    if (patch.status !== undefined) {
      if (patch.status !== 'active' && patch.status !== 'disabled')
        throw invalid('status must be "active" or "disabled"');
      if (patch.status !== sub.status) {
        next.status = patch.status;
        next.statusReason = patch.status === 'disabled' ? 'disabled by request' : null;
      }
    }
    await this.store.updateSubscription(next);
    this.changed(next);
    return next;
  }

  /** Used by the delivery engine when an endpoint answers 410 Gone. */
  async disable(id: string, reason: string): Promise<void> {
    const sub = await this.store.getSubscription(id);
    if (!sub || sub.status === 'disabled') return;
    const next: Subscription = { ...sub, status: 'disabled', statusReason: reason };
    await this.store.updateSubscription(next);
    this.changed(next);
  }

  async delete(id: string): Promise<void> {
    const sub = await this.get(id);
    await this.store.deleteSubscription(id);
    this.changed(sub);
  }

  async retryFailed(id: string): Promise<number> {
    await this.get(id);
    const n = await this.store.retryFailed(id, Date.now());
    if (n > 0) this.signals.deliveriesDue.emit([id]);
    return n;
  }

  private changed(sub: Subscription): void {
    this.signals.topicChanged.emit(sub.topic);
    this.signals.subscriptionChanged.emit(sub.id);
  }

  private bool(field: string, v: unknown, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw invalid(`${field} must be true or false`);
    return v;
  }

  private async deadLetterQueue(v: unknown, fallback: string | null): Promise<string | null> {
    if (v === undefined) return fallback;
    if (v === null) return null;
    const name = validate.queueName(v);
    const queue = await this.requireQueue(name, 'deadLetterQueue');
    // Dead letters of deliveries carry no message group.
    if (queue.fifo) throw invalid(`deadLetterQueue: "${name}" is a FIFO queue; a subscription's must be standard`);
    return name;
  }

  /**
   * As SNS: a FIFO topic delivers only to FIFO queues (its order and groups would be lost on a
   * webhook or a standard queue), and a standard topic cannot feed a FIFO queue (its messages
   * have no message group).
   */
  private async requireEndpoint(topic: Topic, protocol: Protocol, endpoint: string): Promise<void> {
    if (protocol !== 'queue') {
      if (topic.fifo) {
        throw invalid(
          `protocol: FIFO topic "${topic.name}" delivers only to FIFO queues (protocol "queue" and a queue name ending in ".fifo"), not to ${protocol} endpoints`,
        );
      }
      return;
    }
    const queue = await this.requireQueue(endpoint, 'endpoint');
    if (topic.fifo && !queue.fifo) {
      throw invalid(`endpoint: FIFO topic "${topic.name}" can subscribe only FIFO queues; "${queue.name}" is standard`);
    }
    if (!topic.fifo && queue.fifo) {
      throw invalid(
        `endpoint: "${queue.name}" is a FIFO queue; only a FIFO topic (name ending in ".fifo") can feed it`,
      );
    }
  }

  private async requireQueue(name: string, field: string): Promise<Queue> {
    const queue = await this.store.getQueue(name);
    if (!queue) {
      throw new HeraldError('queue_not_found', `${field}: queue "${name}" does not exist; create it first`);
    }
    return queue;
  }
}
