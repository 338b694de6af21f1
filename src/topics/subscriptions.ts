/** Subscriptions: attach endpoints to topics, change them, list their deliveries and attempts. */
import type { HeraldConfig } from '../config.js';
import { HeraldError, invalid } from '../errors.js';
import { generateSecret } from '../delivery/signing.js';
import type { Signals } from '../signals.js';
import type { Store } from '../store/store.js';
import type { Protocol, Queue, Subscription, Topic } from '../types.js';
import * as validate from '../validation.js';
import { topicNotFound } from './topics.js';
import { randomBytes, randomUUID } from 'node:crypto';

export const subscriptionNotFound = (id: string) =>
  new HeraldError('subscription_not_found', `subscription "${id}" does not exist`);

export interface SubscribeInput {
  protocol?: unknown;
  endpoint?: unknown;
  raw?: unknown;
  deliveryPolicy?: unknown;
  deadLetterQueue?: unknown;
  /** SNS-syntax filter policy: JSON text or an object. */
  filterPolicy?: unknown;
  filterPolicyScope?: unknown;
  /** `sns` frames and signs as SNS does (HTTP ones must confirm first); default `herald`. */
  style?: unknown;
}

export interface SubscriptionPatch {
  endpoint?: unknown;
  raw?: unknown;
  deliveryPolicy?: unknown;
  deadLetterQueue?: unknown;
  status?: unknown;
  filterPolicy?: unknown;
  filterPolicyScope?: unknown;
}

/** Sends an SNS `SubscriptionConfirmation` to a subscription awaiting confirmation. */
export type ConfirmationSender = (sub: Subscription) => Promise<void>;

/** Sends an SNS `UnsubscribeConfirmation` to a subscription just deleted, kept under `token`. */
export type UnsubscribeConfirmationSender = (sub: Subscription, token: string) => Promise<void>;

/** How long an unsubscribed SNS-style subscription can be restored by its token (SNS tokens last 3 days). */
export const RESTORABLE_MS = 3 * 24 * 3600 * 1000;

export class Subscriptions {
  /** Set by the composition root once SNS framing is available. */
  sendConfirmation: ConfirmationSender | null = null;
  sendUnsubscribeConfirmation: UnsubscribeConfirmationSender | null = null;

  constructor(
    private readonly store: Store,
    private readonly signals: Signals,
    private readonly config: HeraldConfig,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  async subscribe(topic: string, input: SubscribeInput): Promise<Subscription> {
    const found = await this.store.getTopic(topic);
    if (!found) throw topicNotFound(topic);
    const protocol = validate.protocol(input.protocol);
    const endpoint = validate.endpoint(protocol, input.endpoint);
    await this.requireEndpoint(found, protocol, endpoint);
    const style = validate.deliveryStyle(input.style);
    if (style === 'sns' && !this.sendConfirmation)
      throw invalid(
        'style "sns" needs the SNS endpoint, which signs and confirms: keep the AWS front door on (HERALD_AWS_PORT) or set HERALD_AWS_PUBLIC_URL',
      );
    const filterPolicyScope = validate.filterPolicyScope(input.filterPolicyScope);
    // SNS-style pushes wait for the endpoint to confirm; queues are Herald's own and need not.
    const confirm = style === 'sns' && protocol !== 'queue';
    const sub: Subscription = {
      id: randomUUID(),
      topic,
      protocol,
      endpoint,
      raw: this.bool('raw', input.raw, false),
      deliveryPolicy: validate.deliveryPolicy(input.deliveryPolicy, this.config.delivery.defaultPolicy),
      deadLetterQueue: await this.deadLetterQueue(input.deadLetterQueue, null),
      secret: protocol === 'queue' ? '' : generateSecret(),
      status: confirm ? 'pending_confirmation' : 'active',
      statusReason: null,
      createdAt: new Date().toISOString(),
      filterPolicy: validate.filterPolicy(input.filterPolicy, filterPolicyScope, null),
      filterPolicyScope,
      style,
      confirmationToken: confirm ? randomBytes(64).toString('hex') : null,
    };
    await this.store.createSubscription(sub);
    this.changed(sub);
    if (confirm) this.requestConfirmation(sub);
    return sub;
  }

  /** Send (again) the SubscriptionConfirmation of a pending subscription; failures are logged. */
  requestConfirmation(sub: Subscription): void {
    const send = this.sendConfirmation;
    if (!send) return;
    void send(sub).catch((error) =>
      this.log?.warn({ err: error, subscription: sub.id }, 'sending the SubscriptionConfirmation failed'),
    );
  }

  /**
   * Confirm the pending subscription of `topic` holding `token`, or restore the subscription an
   * UnsubscribeConfirmation with this token was sent for (the same subscription, id and
   * settings, active; pending deliveries were dropped when it was deleted). When the endpoint
   * was subscribed again meanwhile, that subscription is the answer, as SNS answers a repeated
   * Subscribe.
   */
  async confirm(topic: string, token: string): Promise<Subscription> {
    if (!(await this.store.getTopic(topic))) throw topicNotFound(topic);
    const subs = await this.store.listSubscriptions(topic);
    const sub = subs.find((s) => s.confirmationToken !== null && s.confirmationToken === token);
    if (sub) {
      const next: Subscription = { ...sub, status: 'active', confirmationToken: null };
      await this.store.updateSubscription(next);
      this.changed(next);
      return next;
    }
    // Taking the token and making the subscription again are one commit: a failed restore
    // leaves the token usable.
    const back = await this.store.restoreUnsubscribed(topic, token, Date.now());
    if (!back) throw invalid('Token: no subscription of this topic awaits confirmation with this token');
    if (back.restored) this.changed(back.subscription);
    return back.subscription;
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
    if (patch.filterPolicy !== undefined || patch.filterPolicyScope !== undefined) {
      next.filterPolicyScope =
        patch.filterPolicyScope === undefined
          ? sub.filterPolicyScope
          : validate.filterPolicyScope(patch.filterPolicyScope);
      next.filterPolicy = validate.filterPolicy(patch.filterPolicy, next.filterPolicyScope, sub.filterPolicy);
    }
    if (patch.status !== undefined) {
      if (sub.status === 'pending_confirmation')
        throw invalid('status: the subscription awaits confirmation by its endpoint');
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

  /**
   * Delete a subscription. An SNS-style HTTP/S one (confirmed) is sent an UnsubscribeConfirmation,
   * as SNS does, whose token restores it (see `confirm`) for RESTORABLE_MS: the store keeps it
   * that long, in the commit that deletes it.
   */
  async delete(id: string): Promise<void> {
    const sub = await this.get(id);
    const send =
      sub.style === 'sns' && sub.protocol !== 'queue' && sub.status !== 'pending_confirmation'
        ? this.sendUnsubscribeConfirmation
        : null;
    const token = send ? randomBytes(64).toString('hex') : undefined;
    await this.store.deleteSubscription(id, token ? { token, untilMs: Date.now() + RESTORABLE_MS } : undefined);
    this.changed(sub);
    if (send && token)
      void send(sub, token).catch((error) =>
        this.log?.warn({ err: error, subscription: sub.id }, 'sending the UnsubscribeConfirmation failed'),
      );
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
