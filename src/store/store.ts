/**
 * The store contract. Everything above `store/` talks to storage only through this
 * interface; `sqlite/` implements it today and `postgres/` will implement the same.
 * No driver type crosses this boundary.
 *
 * Durability rule: a method that accepts messages (`publish`, `sendToQueue`) resolves
 * only after its rows are committed and fsync'd. Methods that only move work along
 * (leases, receives, acks, outcomes) may be committed lazily: losing them in a power
 * cut re-delivers work, which at-least-once delivery allows, but never loses it.
 *
 * Times are epoch milliseconds; the caller passes `now` so behaviour is testable.
 */
import type {
  Attempt,
  Attributes,
  Delivery,
  ErrorClass,
  MessageAttributes,
  MoveTask,
  Queue,
  QueueStats,
  ReceivedMessage,
  Subscription,
  Topic,
  TopicConfig,
} from '../types.js';
import type { MessageExtras } from './attributes-codec.js';

/**
 * A queue copy's body: the text, or, for a message numbered in its topic (`PublishEntry.sequenced`),
 * how to make the text from its sequence number (SNS notifications of FIFO topics carry it). The
 * store calls it inside the transaction that gives the number.
 */
export type CopyBody = string | ((sequenceNumber: string) => string);

/** A copy of a published message for a queue subscription. */
export interface QueueCopy {
  queue: string;
  body: CopyBody;
  attributes: Attributes;
  /** Typed attributes (raw copies of messages published through the SNS API). */
  messageAttributes?: MessageAttributes;
  visibleAtMs: number;
  /** The message's group (required when `queue` is FIFO) and deduplication id, carried along. */
  groupId?: string;
  deduplicationId?: string;
  /**
   * The queue subscription the copy is for. A publish is planned from cached subscriptions:
   * no copy is made for one deleted before the publish commits (as with `deliveries`).
   */
  subscriptionId?: string;
}

export interface PublishEntry extends MessageExtras {
  id: string;
  topic: string;
  body: string;
  attributes: Attributes;
  createdAtMs: number;
  /**
   * Deduplication key, claimed per topic for the window (FIFO topics: the deduplication id or
   * the body's SHA-256). The store does not dedupe the queue copies again.
   */
  idempotencyKey?: string;
  /**
   * FIFO topics: number the message in its topic's sequence (strictly increasing per topic, in
   * the order the store accepts messages; duplicates get none), answered as
   * `AcceptResult.sequenceNumber`.
   */
  sequenced?: boolean;
  /**
   * Push subscriptions owed this message, first attempt due at `dueAtMs`; `body` when the
   * subscription gets another text than the message's (its protocol's text, SNS
   * `MessageStructure=json`): stored with that delivery alone.
   */
  deliveries: Array<{ subscriptionId: string; dueAtMs: number; body?: string }>;
  /** Queue subscriptions: the copy to append to each queue, in the same transaction. */
  queueCopies: QueueCopy[];
}

export interface SendEntry {
  id: string;
  body: string;
  attributes: Attributes;
  messageAttributes?: MessageAttributes;
  traceHeader?: string;
  sentAtMs: number;
  visibleAtMs: number;
  /** Deduplication key, claimed per queue for the window (see PublishEntry.idempotencyKey). */
  idempotencyKey?: string;
  /** Required on a FIFO queue: messages of one group are received in order, one run at a time. */
  groupId?: string;
  /** Stored and returned to receivers as `messageDeduplicationId` (FIFO queues). */
  deduplicationId?: string;
}

/**
 * Outcome of accepting one message; `duplicate` when an idempotency key matched.
 * `sequenceNumber` is set for a message newly accepted into a FIFO queue (sendToQueue) or a
 * FIFO topic (publish of a `sequenced` entry): a 20-digit decimal string, so text order is
 * numeric order.
 */
export type AcceptResult =
  { id: string; duplicate: boolean; sequenceNumber?: string } | { error: { code: string; message: string } };

/** A delivery handed to the delivery engine, with what it needs to send it. */
export interface LeasedDelivery extends MessageExtras {
  /** Store-assigned id of the delivery (opaque to callers). */
  deliveryId: string;
  subscriptionId: string;
  /** Attempts already made before this lease. */
  attempts: number;
  messageId: string;
  topic: string;
  body: string;
  attributes: Attributes;
  publishedAtMs: number;
}

export interface AttemptRecord {
  subscriptionId: string;
  messageId: string;
  attempt: number;
  atMs: number;
  status: number | null;
  latencyMs: number;
  ok: boolean;
  errorClass: ErrorClass | null;
  error: string | null;
}

/** What became of a leased delivery after one attempt. */
export type DeliveryOutcome =
  | { kind: 'delivered'; deliveryId: string; attempt: AttemptRecord }
  | { kind: 'retry'; deliveryId: string; dueAtMs: number; attempt: AttemptRecord }
  | {
      kind: 'dead_letter';
      deliveryId: string;
      attempt: AttemptRecord | null;
      /** Move to this queue, or keep as a failed delivery when null (or the queue is gone). */
      queue: string | null;
      reason: string;
    };

export interface ReceiveOptions {
  max: number;
  visibilityMs: number;
  nowMs: number;
}

export interface AckResult {
  acked: number;
  failed: Array<{ receipt: string; error: { code: string; message: string } }>;
}

/** What a redrive moved, and where to, so the right receivers and deliveries wake up. */
export interface RedriveResult {
  moved: number;
  queues: string[];
  subscriptions: string[];
}

export interface AttemptQuery {
  subscriptionId?: string;
  messageId?: string;
  limit: number;
  /** Return attempts older than this cursor (from a previous page). */
  cursor?: string;
}

/**
 * How well writes share commits. `groups` group commits carried `writes` writes between them
 * (SQLite: every write transaction; PostgreSQL: the batched publishes and sends); `syncs`
 * counts the fsyncs Herald itself issued to make them durable (SQLite's WAL; 0 where the
 * database server syncs its own commits, as PostgreSQL does).
 */
export interface CommitStats {
  groups: number;
  writes: number;
  syncs: number;
}

export interface Store {
  /** Apply migrations and recover work left leased by a previous process. */
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * Resolves once every write committed before the call is durable. A store that answers
   * reads before their writes are fsync'd (SQLite: readers may see a durable write while its
   * fsync runs) must not let a caller answer "this already exists" from such a read until
   * then; others resolve at once.
   */
  sync(): Promise<void>;
  /** True while the store can commit writes. */
  healthy(): boolean;
  /** Running totals of the group commits behind every write, for metrics (see CommitStats). */
  commitStats(): CommitStats;

  // Topics
  /** `config` defaults to a standard topic (the domain derives `fifo` from the name). */
  createTopic(name: string, nowMs: number, config?: TopicConfig): Promise<{ topic: Topic; created: boolean }>;
  /** Change a topic's settings (`fifo` is ignored: it never changes). False when it does not exist. */
  updateTopic(name: string, config: TopicConfig): Promise<boolean>;
  getTopic(name: string): Promise<Topic | null>;
  listTopics(limit: number, after?: string): Promise<Topic[]>;
  /** Replace a topic's SNS attributes and tags; false when it does not exist. */
  updateTopicSettings(topic: Topic): Promise<boolean>;
  /** Deletes the topic, its subscriptions and their pending deliveries. */
  deleteTopic(name: string): Promise<boolean>;

  // Subscriptions
  createSubscription(sub: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | null>;
  listSubscriptions(topic: string): Promise<Subscription[]>;
  listAllSubscriptions(): Promise<Subscription[]>;
  updateSubscription(sub: Subscription): Promise<void>;
  /**
   * Delete a subscription and its pending deliveries. With `keep`, the subscription as it was is
   * kept under `keep.token` until `keep.untilMs` (an SNS UnsubscribeConfirmation's token, which
   * can restore it), in the same commit.
   */
  deleteSubscription(id: string, keep?: { token: string; untilMs: number }): Promise<boolean>;
  /**
   * Restore the subscription of `topic` kept by deleteSubscription under `token`, in one commit
   * that also takes the token (once): the same id and settings, active, its dead-letter queue
   * dropped if that queue is gone. When the topic has a subscription to the same protocol and
   * endpoint again, that one is the answer (`restored: false`) and nothing is created. Null
   * when no such token, or it expired.
   */
  restoreUnsubscribed(
    topic: string,
    token: string,
    nowMs: number,
  ): Promise<{ subscription: Subscription; restored: boolean } | null>;
  countSubscriptions(topic: string): Promise<number>;

  // Queues
  createQueue(queue: Queue): Promise<{ queue: Queue; created: boolean }>;
  getQueue(name: string): Promise<Queue | null>;
  listQueues(): Promise<Queue[]>;
  updateQueue(queue: Queue): Promise<void>;
  deleteQueue(name: string): Promise<boolean>;
  queueStats(name: string, nowMs: number): Promise<QueueStats>;
  /** Depth of every queue, for metrics. */
  queueDepths(nowMs: number): Promise<Array<{ queue: string } & QueueStats>>;

  // Accepting messages (durable before resolving)
  publish(entries: PublishEntry[], idempotencyWindowMs: number, nowMs: number): Promise<AcceptResult[]>;
  sendToQueue(queue: string, entries: SendEntry[], idempotencyWindowMs: number, nowMs: number): Promise<AcceptResult[]>;

  // Consuming queues
  /**
   * Receive up to `max` visible messages, hiding them for `visibilityMs`. Messages already
   * received `queue.maxReceiveCount` times move to `queue.deadLetterQueue` instead.
   *
   * FIFO queues (`queue.fifo`): a group's messages come out in sequence order, and only while
   * no message of the group is in flight or delayed: a receive takes a run of visible messages
   * from the head of each available group (several from one group, in order, before the next
   * group). No two receivers, on any node, hold messages of one group at once.
   */
  receive(queue: Queue, opts: ReceiveOptions): Promise<ReceivedMessage[]>;
  ack(queue: string, receipts: string[]): Promise<AckResult>;
  /** Returns false when the receipt is not the message's latest one (or it is gone). */
  changeVisibility(queue: string, receipt: string, visibleAtMs: number): Promise<boolean>;
  purge(queue: string): Promise<number>;
  /** When the next message of the queue becomes visible (null when empty). */
  nextVisibleAt(queue: string): Promise<number | null>;
  /**
   * Move up to `max` messages out of a dead-letter queue back where they came from: a queue,
   * or the subscription whose delivery was dead-lettered (as a fresh delivery); with
   * `destination`, every message goes to that queue instead.
   */
  redrive(deadLetterQueue: string, max: number, nowMs: number, destination?: string): Promise<RedriveResult>;

  // Message move tasks (redrive in the background, with progress)
  /** Insert or update a task by its handle; a RUNNING update leaves a CANCELLING task cancelling. */
  saveMoveTask(task: MoveTask): Promise<void>;
  /** Tasks of one source queue, newest first; every task when `sourceQueue` is omitted. */
  listMoveTasks(sourceQueue?: string): Promise<MoveTask[]>;

  // Deliveries
  /** Lease due deliveries of one subscription until `leaseUntilMs`; nobody else gets them meanwhile. */
  leaseDeliveries(
    subscriptionId: string,
    nowMs: number,
    limit: number,
    leaseUntilMs: number,
  ): Promise<LeasedDelivery[]>;
  /** Record outcomes of attempts (and their attempt log entries) in one commit. */
  completeDeliveries(outcomes: DeliveryOutcome[], nowMs: number): Promise<void>;
  /** Hand leased deliveries back without spending an attempt (breaker open, shutdown). */
  releaseDeliveries(deliveryIds: string[], dueAtMs: number): Promise<void>;
  /** Earliest due time of a pending delivery of the subscription (null when none). */
  nextDueAt(subscriptionId: string): Promise<number | null>;
  listDeliveries(
    subscriptionId: string,
    state: 'pending' | 'failed',
    limit: number,
    cursor?: string,
  ): Promise<{ deliveries: Delivery[]; next?: string }>;
  /** Turn failed deliveries of a subscription back into pending ones with a fresh attempt budget. */
  retryFailed(subscriptionId: string, nowMs: number): Promise<number>;
  listAttempts(query: AttemptQuery): Promise<{ attempts: Attempt[]; next?: string }>;

  /**
   * Stores shared by several nodes keep the one SNS signing key every node signs with: the
   * first caller's `candidate` is stored, and every caller gets the stored pair back.
   * Single-node stores leave this out (the key lives in the data directory).
   */
  sharedSigningIdentity?(candidate: { keyPem: string; certPem: string }): Promise<{ keyPem: string; certPem: string }>;

  /**
   * Periodic housekeeping: queue retention, idempotency keys, old attempts, expired unsubscribed
   * subscriptions.
   */
  sweep(nowMs: number, opts: { attemptRetentionMs: number; idempotencyWindowMs: number }): Promise<void>;
}
