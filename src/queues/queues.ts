/**
 * Queues: SQS-style pull queues for workers. Receives long-poll: a receive that finds
 * nothing waits until a commit signals the queue, the next hidden message becomes
 * visible, or its wait runs out, whichever comes first; on one node never a fixed poll tick.
 * With several nodes a send on another node arrives as a signal through the cluster bus;
 * `recheckMs` bounds each sleep for when that signal can be lost (no bus, or it is down).
 */
import type { HeraldConfig } from '../config.js';
import { HeraldError } from '../errors.js';
import { uuidv7 } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { Signals } from '../signals.js';
import { messageAttributesSize, messageTooLarge } from '../message-attributes.js';
import type { AcceptResult, AckResult, SendEntry, Store } from '../store/store.js';
import type { Queue, QueueConfig, QueueStats, ReceivedMessage, Tags } from '../types.js';
import * as validate from '../validation.js';

export const DEFAULT_QUEUE_CONFIG: QueueConfig = {
  visibilityTimeoutSeconds: 30,
  delaySeconds: 0,
  retentionSeconds: 4 * 24 * 3600,
  maxReceiveCount: 0,
  deadLetterQueue: null,
  maxMessageBytes: 256 * 1024,
  receiveWaitSeconds: 0,
  redriveAllowPolicy: null,
  fifo: false,
  contentBasedDeduplication: false,
};

/** SQS allows 50 tags per queue, keys up to 128 and values up to 256 characters. */
export const MAX_TAGS = 50;

const CONFIG_KEYS = Object.keys(DEFAULT_QUEUE_CONFIG) as Array<keyof QueueConfig>;

export const queueNotFound = (name: string) => new HeraldError('queue_not_found', `queue "${name}" does not exist`);

export interface QueuesOptions {
  /**
   * Longest a waiting receive sleeps before looking at the store again, in ms; null (the
   * default) for a single node, where every send is signalled in this process.
   */
  recheckMs?: () => number | null;
}

export class Queues {
  private waiters = new Map<string, Set<() => void>>();
  /**
   * Bumped on every signal for a queue. A receive notes it before looking; if it moved by
   * the time the receive would sleep, a send committed in between, so it looks again
   * instead of sleeping through that send (a lost wake-up).
   */
  private generations = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly signals: Signals,
    private readonly config: HeraldConfig,
    private readonly metrics: Metrics,
    private readonly opts: QueuesOptions = {},
  ) {
    signals.queueMessages.on((name) => this.wake(name));
    signals.resync.on(() => {
      for (const name of [...this.waiters.keys()]) this.wake(name);
    });
  }

  /** Create a queue; re-creating with the same settings is a no-op, with different ones a conflict. */
  async create(name: string, input: unknown, tags: Tags = {}): Promise<{ queue: Queue; created: boolean }> {
    validate.queueName(name);
    const cfg = validate.queueConfig(input, { ...DEFAULT_QUEUE_CONFIG, fifo: validate.isFifoName(name) });
    await this.requireDeadLetterQueue(name, cfg);
    const existing = await this.store.getQueue(name);
    if (existing) {
      // Its create may still be waiting for its fsync: answer "exists" only once it is durable.
      await this.store.sync();
      const given = (input ?? {}) as Partial<QueueConfig>;
      const differs = CONFIG_KEYS.filter((k) => given[k] !== undefined && existing[k] !== cfg[k]);
      if (differs.length > 0) {
        throw new HeraldError(
          'conflict',
          `queue "${name}" exists with different ${differs.join(', ')}; use PATCH to change it`,
        );
      }
      return { queue: existing, created: false };
    }
    const now = new Date().toISOString();
    return this.store.createQueue({ name, ...cfg, tags: checkTags(tags), createdAt: now, updatedAt: now });
  }

  async update(name: string, input: unknown): Promise<Queue> {
    const existing = await this.require(name);
    const cfg = validate.queueConfig(input, existing);
    await this.requireDeadLetterQueue(name, cfg);
    const next: Queue = { ...existing, ...cfg, updatedAt: new Date().toISOString() };
    await this.store.updateQueue(next);
    return next;
  }

  /** Add or replace tags. */
  async tag(name: string, tags: Tags): Promise<Queue> {
    const existing = await this.require(name);
    const next: Queue = { ...existing, tags: checkTags({ ...existing.tags, ...tags }) };
    await this.store.updateQueue(next);
    return next;
  }

  async untag(name: string, keys: string[]): Promise<Queue> {
    const existing = await this.require(name);
    const tags = { ...existing.tags };
    for (const k of keys) delete tags[k];
    const next: Queue = { ...existing, tags };
    await this.store.updateQueue(next);
    return next;
  }

  /** Queues that name `name` as their dead-letter queue. */
  async deadLetterSources(name: string): Promise<Queue[]> {
    await this.require(name);
    return (await this.store.listQueues()).filter((q) => q.deadLetterQueue === name);
  }

  async get(name: string): Promise<Queue & { stats: QueueStats }> {
    const queue = await this.require(name);
    return { ...queue, stats: await this.store.queueStats(name, Date.now()) };
  }

  list(): Promise<Queue[]> {
    return this.store.listQueues();
  }

  async delete(name: string): Promise<void> {
    if (!(await this.store.deleteQueue(name))) throw queueNotFound(name);
    this.wake(name);
  }

  /**
   * Send validated messages; results are per message, in order. A message breaking the FIFO
   * rules (validate.fifoRules) gets an error result and the others are still sent.
   */
  async send(name: string, messages: validate.ValidMessage[]): Promise<AcceptResult[]> {
    const queue = await this.require(name);
    const now = Date.now();
    const to = { kind: 'queue' as const, ...queue };
    // A message over the queue's own size limit, or breaking the FIFO rules, fails alone.
    const planned = messages.map((m): SendEntry | AcceptResult => {
      if (m.bodies) {
        const field = m.field ? `${m.field}.bodies` : 'bodies';
        const message = `${field}: texts by protocol apply to topic publishes, not to a queue's messages`;
        return { error: { code: 'invalid_request', message } };
      }
      const size = validate.messageSize(m.body, m.attributes) + messageAttributesSize(m.messageAttributes);
      if (size > queue.maxMessageBytes) {
        const error = messageTooLarge(size, queue.maxMessageBytes, `message for queue "${name}"`);
        return { error: { code: error.code, message: error.message } };
      }
      let dedup: ReturnType<typeof validate.fifoRules>;
      try {
        dedup = validate.fifoRules(m, to);
      } catch (error) {
        if (error instanceof HeraldError) return { error: { code: error.code, message: error.message } };
        throw error;
      }
      return {
        id: uuidv7(now),
        body: m.body,
        attributes: m.attributes,
        ...(m.messageAttributes ? { messageAttributes: m.messageAttributes } : {}),
        ...(m.traceHeader ? { traceHeader: m.traceHeader } : {}),
        sentAtMs: now,
        visibleAtMs: now + Math.round((m.delaySeconds ?? queue.delaySeconds) * 1000),
        idempotencyKey: dedup.idempotencyKey,
        groupId: m.groupId,
        deduplicationId: dedup.deduplicationId,
      };
    });
    const entries = planned.filter((p): p is SendEntry => 'body' in p);
    const stored =
      entries.length > 0
        ? await this.store.sendToQueue(name, entries, this.config.idempotencyWindowSeconds * 1000, now)
        : [];
    let next = 0;
    const results = planned.map((p) => ('body' in p ? stored[next++] : p));
    this.metrics.queueSent.inc({ queue: name }, entries.length);
    if (entries.length > 0) this.signals.queueMessages.emit(name);
    return results;
  }

  async receive(
    name: string,
    opts: { max: number; waitSeconds?: number; visibilityTimeoutSeconds?: number },
    abort?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const queue = await this.require(name);
    const visibilityMs = Math.round((opts.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds) * 1000);
    const deadline = Date.now() + (opts.waitSeconds ?? queue.receiveWaitSeconds) * 1000;
    try {
      return await this.poll(queue, opts.max, visibilityMs, deadline, abort);
    } catch (error) {
      // The queue existed when this receive began: deleted while it waited, it is empty.
      if (error instanceof HeraldError && error.code === 'queue_not_found') return [];
      throw error;
    }
  }

  private async poll(
    queue: Queue,
    max: number,
    visibilityMs: number,
    deadline: number,
    abort?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const name = queue.name;
    for (;;) {
      const now = Date.now();
      const generation = this.generations.get(name) ?? 0;
      const messages = await this.store.receive(queue, { max, visibilityMs, nowMs: now });
      if (messages.length > 0) {
        this.metrics.queueReceived.inc({ queue: name }, messages.length);
        return messages;
      }
      if (now >= deadline || this.closed || abort?.aborted) return [];
      const nextVisible = await this.store.nextVisibleAt(name);
      if ((this.generations.get(name) ?? 0) !== generation) continue;
      let until = nextVisible === null ? deadline : Math.min(deadline, Math.max(nextVisible, now + 1));
      const recheck = this.opts.recheckMs?.() ?? null;
      if (recheck !== null) until = Math.min(until, now + recheck);
      await this.waitForMessages(name, until - Date.now(), abort);
      if (!(await this.store.getQueue(name))) return []; // deleted while waiting
    }
  }

  async ack(name: string, receipts: string[]): Promise<AckResult> {
    const queue = await this.require(name);
    const result = await this.store.ack(name, receipts);
    this.metrics.queueAcked.inc({ queue: name }, result.acked);
    // On a FIFO queue an ack can unblock the message's group: wake waiting receives.
    if (queue.fifo && result.acked > 0) this.signals.queueMessages.emit(name);
    return result;
  }

  async changeVisibility(name: string, receipt: string, seconds: number): Promise<void> {
    const queue = await this.require(name);
    const ok = await this.store.changeVisibility(name, receipt, Date.now() + Math.round(seconds * 1000));
    if (!ok) {
      throw new HeraldError(
        'invalid_request',
        'receipt is unknown, was already acked, or was replaced by a later receive',
      );
    }
    // Released now, or (FIFO) its group may be servable at another time: waiting receives re-plan.
    if (seconds === 0 || queue.fifo) this.wake(name);
  }

  async purge(name: string): Promise<number> {
    await this.require(name);
    return this.store.purge(name);
  }

  /**
   * Move messages of a dead-letter queue back to the queues and subscriptions they came from,
   * or all of them to `destination`.
   */
  async redrive(name: string, max: number, destination?: string): Promise<number> {
    await this.require(name);
    if (destination !== undefined) await this.require(destination);
    const result = await this.store.redrive(name, max, Date.now(), destination);
    for (const q of result.queues) this.signals.queueMessages.emit(q);
    if (result.subscriptions.length > 0) this.signals.deliveriesDue.emit(result.subscriptions);
    return result.moved;
  }

  /** Answer every waiting receive (empty) so shutdown does not wait for long polls. */
  close(): void {
    this.closed = true;
    for (const name of [...this.waiters.keys()]) this.wake(name);
  }

  private async require(name: string): Promise<Queue> {
    const queue = await this.store.getQueue(name);
    if (!queue) throw queueNotFound(name);
    return queue;
  }

  private async requireDeadLetterQueue(name: string, cfg: QueueConfig): Promise<void> {
    if (!cfg.deadLetterQueue) return;
    if (cfg.deadLetterQueue === name) throw validate.invalidField('deadLetterQueue', 'must name another queue');
    const dlq = await this.store.getQueue(cfg.deadLetterQueue);
    if (!dlq) {
      throw new HeraldError(
        'queue_not_found',
        `deadLetterQueue: queue "${cfg.deadLetterQueue}" does not exist; create it first`,
      );
    }
    if (dlq.redriveAllowPolicy) {
      const allow = validate.parseRedriveAllowPolicy(dlq.redriveAllowPolicy);
      if (
        allow.redrivePermission === 'denyAll' ||
        (allow.redrivePermission === 'byQueue' && !allow.sourceQueues.includes(name))
      ) {
        throw validate.invalidField(
          'deadLetterQueue',
          `"${dlq.name}" does not allow queue "${name}" as a source (its redriveAllowPolicy)`,
        );
      }
    }
    // As in SQS: dead letters keep their kind (a FIFO dead letter keeps its group and order).
    if (dlq.fifo !== cfg.fifo) {
      throw validate.invalidField(
        'deadLetterQueue',
        `must be a ${cfg.fifo ? 'FIFO' : 'standard'} queue like "${name}"; "${dlq.name}" is ${dlq.fifo ? 'FIFO' : 'standard'}`,
      );
    }
  }

  /** Wake receives waiting on a queue (after a move task put messages into it). */
  notify(name: string): void {
    this.signals.queueMessages.emit(name);
  }

  private wake(name: string): void {
    this.generations.set(name, (this.generations.get(name) ?? 0) + 1);
    const set = this.waiters.get(name);
    if (!set) return;
    this.waiters.delete(name);
    for (const fn of set) fn();
  }

  private waitForMessages(name: string, ms: number, abort?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', done);
        this.waiters.get(name)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      abort?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}

function checkTags(tags: Tags): Tags {
  const keys = Object.keys(tags);
  if (keys.length > MAX_TAGS) throw validate.invalidField('tags', `may hold at most ${MAX_TAGS} entries`);
  for (const k of keys) {
    if (k.length < 1 || k.length > 128)
      throw validate.invalidField('tags', `key "${k.slice(0, 40)}" must be 1-128 characters`);
    if (typeof tags[k] !== 'string' || tags[k].length > 256) {
      throw validate.invalidField(`tags.${k}`, 'must be a string of at most 256 characters');
    }
  }
  return tags;
}
