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
import type { AcceptResult, AckResult, SendEntry, Store } from '../store/store.js';
import type { Queue, QueueConfig, QueueStats, ReceivedMessage } from '../types.js';
import * as validate from '../validation.js';

export const DEFAULT_QUEUE_CONFIG: QueueConfig = {
  visibilityTimeoutSeconds: 30,
  delaySeconds: 0,
  retentionSeconds: 4 * 24 * 3600,
  maxReceiveCount: 0,
  deadLetterQueue: null,
  fifo: false,
  contentBasedDeduplication: false,
};

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
  async create(name: string, input: unknown): Promise<{ queue: Queue; created: boolean }> {
    validate.queueName(name);
    const cfg = validate.queueConfig(input, { ...DEFAULT_QUEUE_CONFIG, fifo: validate.isFifoName(name) });
    await this.requireDeadLetterQueue(name, cfg);
    const existing = await this.store.getQueue(name);
    if (existing) {
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
    return this.store.createQueue({ name, ...cfg, createdAt: new Date().toISOString() });
  }

  async update(name: string, input: unknown): Promise<Queue> {
    const existing = await this.require(name);
    const cfg = validate.queueConfig(input, existing);
    await this.requireDeadLetterQueue(name, cfg);
    const next: Queue = { ...existing, ...cfg };
    await this.store.updateQueue(next);
    return next;
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
    const planned = messages.map((m): SendEntry | AcceptResult => {
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
    opts: { max: number; waitSeconds: number; visibilityTimeoutSeconds?: number },
    abort?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const queue = await this.require(name);
    const visibilityMs = Math.round((opts.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds) * 1000);
    const deadline = Date.now() + opts.waitSeconds * 1000;
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

  /** Move messages of a dead-letter queue back to the queues and subscriptions they came from. */
  async redrive(name: string, max: number): Promise<number> {
    await this.require(name);
    const result = await this.store.redrive(name, max, Date.now());
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
    // As in SQS: dead letters keep their kind (a FIFO dead letter keeps its group and order).
    if (dlq.fifo !== cfg.fifo) {
      throw validate.invalidField(
        'deadLetterQueue',
        `must be a ${cfg.fifo ? 'FIFO' : 'standard'} queue like "${name}"; "${dlq.name}" is ${dlq.fifo ? 'FIFO' : 'standard'}`,
      );
    }
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
