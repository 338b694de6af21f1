/** Row <-> domain mapping for the SQLite store. */
import type Database from 'better-sqlite3';
import type {
  Attempt,
  Attributes,
  Delivery,
  DeliveryPolicy,
  DeliveryStyle,
  FilterPolicyScope,
  ErrorClass,
  Protocol,
  Queue,
  Subscription,
  SubscriptionStatus,
  Tags,
  Topic,
} from '../../types.js';

export const iso = (ms: number) => new Date(ms).toISOString();

/** Attributes are stored as JSON, or NULL when there are none (see ../attributes-codec.ts). */
export { decodeAttributes, decodeExtras, encodeAttributes } from '../attributes-codec.js';

export interface TopicRow {
  name: string;
  created_at: number;
  fifo: number;
  content_based_dedup: number;
  attributes: string | null;
  tags: string | null;
}
export const toTopic = (r: TopicRow): Topic => ({
  name: r.name,
  fifo: r.fifo === 1,
  contentBasedDeduplication: r.content_based_dedup === 1,
  createdAt: iso(r.created_at),
  attributes: r.attributes ? (JSON.parse(r.attributes) as Record<string, string>) : {},
  tags: r.tags ? (JSON.parse(r.tags) as Record<string, string>) : {},
});

/** A JSON object column: NULL when empty. */
export const jsonObject = (o: Record<string, string>): string | null =>
  Object.keys(o).length > 0 ? JSON.stringify(o) : null;

export interface SubscriptionRow {
  id: string;
  topic: string;
  protocol: string;
  endpoint: string;
  raw: number;
  delivery_policy: string;
  dead_letter_queue: string | null;
  secret: string;
  status: string;
  status_reason: string | null;
  created_at: number;
  filter_policy: string | null;
  filter_policy_scope: string;
  style: string;
  confirmation_token: string | null;
}

export const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  topic: r.topic,
  protocol: r.protocol as Protocol,
  endpoint: r.endpoint,
  raw: r.raw === 1,
  deliveryPolicy: JSON.parse(r.delivery_policy) as DeliveryPolicy,
  deadLetterQueue: r.dead_letter_queue,
  secret: r.secret,
  status: r.status as SubscriptionStatus,
  statusReason: r.status_reason,
  createdAt: iso(r.created_at),
  filterPolicy: r.filter_policy,
  filterPolicyScope: r.filter_policy_scope as FilterPolicyScope,
  style: r.style as DeliveryStyle,
  confirmationToken: r.confirmation_token,
});

export const subscriptionParams = (s: Subscription) => ({
  id: s.id,
  topic: s.topic,
  protocol: s.protocol,
  endpoint: s.endpoint,
  raw: s.raw ? 1 : 0,
  delivery_policy: JSON.stringify(s.deliveryPolicy),
  dead_letter_queue: s.deadLetterQueue,
  secret: s.secret,
  status: s.status,
  status_reason: s.statusReason,
  created_at: Date.parse(s.createdAt),
  filter_policy: s.filterPolicy,
  filter_policy_scope: s.filterPolicyScope,
  style: s.style,
  confirmation_token: s.confirmationToken,
});

export interface QueueRow {
  qid: number;
  name: string;
  visibility_timeout_ms: number;
  delay_ms: number;
  retention_ms: number;
  max_receive_count: number;
  dead_letter_queue: string | null;
  max_message_bytes: number;
  receive_wait_ms: number;
  redrive_allow_policy: string | null;
  tags: string | null;
  created_at: number;
  updated_at: number | null;
  fifo: number;
  content_based_dedup: number;
}

export const toQueue = (r: QueueRow): Queue => ({
  name: r.name,
  visibilityTimeoutSeconds: r.visibility_timeout_ms / 1000,
  delaySeconds: r.delay_ms / 1000,
  retentionSeconds: r.retention_ms / 1000,
  maxReceiveCount: r.max_receive_count,
  deadLetterQueue: r.dead_letter_queue,
  maxMessageBytes: r.max_message_bytes,
  receiveWaitSeconds: r.receive_wait_ms / 1000,
  redriveAllowPolicy: r.redrive_allow_policy,
  tags: r.tags ? (JSON.parse(r.tags) as Tags) : {},
  fifo: r.fifo === 1,
  contentBasedDeduplication: r.content_based_dedup === 1,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at ?? r.created_at),
});

export { moveTaskValues, toMoveTask, type MoveTaskRow } from '../move-task-row.js';

export const queueParams = (q: Queue) => ({
  name: q.name,
  visibility_timeout_ms: Math.round(q.visibilityTimeoutSeconds * 1000),
  delay_ms: Math.round(q.delaySeconds * 1000),
  retention_ms: Math.round(q.retentionSeconds * 1000),
  max_receive_count: q.maxReceiveCount,
  dead_letter_queue: q.deadLetterQueue,
  max_message_bytes: q.maxMessageBytes,
  receive_wait_ms: Math.round(q.receiveWaitSeconds * 1000),
  redrive_allow_policy: q.redriveAllowPolicy,
  tags: Object.keys(q.tags).length > 0 ? JSON.stringify(q.tags) : null,
  fifo: q.fifo ? 1 : 0,
  content_based_dedup: q.contentBasedDeduplication ? 1 : 0,
  created_at: Date.parse(q.createdAt),
  updated_at: Date.parse(q.updatedAt),
});

/** SQS `SequenceNumber` style: the row's sequence as a 20-digit decimal, so text order is numeric order. */
export { sequenceNumber } from '../received-message.js';

export interface AttemptRow {
  id: number;
  subscription_id: string;
  message_id: string;
  attempt: number;
  at: number;
  status: number | null;
  latency_ms: number;
  ok: number;
  error_class: string | null;
  error: string | null;
}

export const toAttempt = (r: AttemptRow): Attempt => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  messageId: r.message_id,
  attempt: r.attempt,
  at: iso(r.at),
  status: r.status,
  latencyMs: r.latency_ms,
  ok: r.ok === 1,
  errorClass: r.error_class as ErrorClass | null,
  error: r.error,
});

export interface DeliveryRow {
  seq: number;
  subscription_id: string;
  message_id: string;
  state: number;
  attempts: number;
  due_at: number;
  last_error: string | null;
  created_at: number;
}

const STATES = ['pending', 'in_flight', 'failed'] as const;

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: String(r.seq),
  subscriptionId: r.subscription_id,
  messageId: r.message_id,
  state: STATES[r.state] ?? 'pending',
  attempts: r.attempts,
  nextAttemptAt: iso(r.due_at),
  lastError: r.last_error,
  createdAt: iso(r.created_at),
});

export { formatReceipt, parseReceipt } from '../receipts.js';

export const newNonce = () => 1 + Math.floor(Math.random() * 0x7fff_ffff_ffff);

/**
 * Rows one batched statement writes (attempts, inline deliveries, queue sends and receive
 * marks); fewer than that go one by one.
 */
export const ROWS_PER_STATEMENT = 16;

/**
 * Write `items` in order: ROWS_PER_STATEMENT rows to a run of `many`, the rest through `one`,
 * each row's `columns` parameters placed by `fill` into `out` from `at`.
 */
export function runInRows<T>(
  items: readonly T[],
  columns: number,
  fill: (item: T, out: unknown[], at: number) => void,
  many: Database.Statement,
  one: Database.Statement,
): void {
  let i = 0;
  if (items.length >= ROWS_PER_STATEMENT) {
    const params: unknown[] = new Array(ROWS_PER_STATEMENT * columns);
    for (; i + ROWS_PER_STATEMENT <= items.length; i += ROWS_PER_STATEMENT) {
      for (let j = 0; j < ROWS_PER_STATEMENT; j++) fill(items[i + j], params, j * columns);
      many.run(params);
    }
  }
  const single: unknown[] = new Array(columns);
  for (; i < items.length; i++) {
    fill(items[i], single, 0);
    one.run(single);
  }
}
