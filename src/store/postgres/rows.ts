/** Row <-> domain mapping for the PostgreSQL store (BIGINT columns arrive as numbers). */
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

/**
 * Times go into BIGINT columns, which refuse fractions; SQLite would keep them. Callers
 * compute some times with arithmetic (backoff, breaker cool-downs), so round at the edge.
 */
export const ms = (t: number) => Math.round(t);

/** Attributes are stored as JSON, or NULL when there are none (see ../attributes-codec.ts). */
export { decodeAttributes, decodeExtras, encodeAttributes } from '../attributes-codec.js';

/**
 * PostgreSQL text cannot hold U+0000 (SQLite can). A message carrying one is refused with
 * a per-entry error instead of failing the whole group commit it would have joined.
 */
export function hasNul(body: string, attributes: Attributes, idempotencyKey?: string): boolean {
  if (body.includes('\u0000') || idempotencyKey?.includes('\u0000')) return true;
  for (const [k, v] of Object.entries(attributes)) if (k.includes('\u0000') || v.includes('\u0000')) return true;
  return false;
}

export const NUL_ERROR = {
  code: 'invalid_request',
  message: 'body, attributes and idempotencyKey must not contain NUL (\\u0000) characters on the PostgreSQL store',
};

export interface TopicRow {
  name: string;
  created_at: number;
  fifo: boolean;
  content_based_dedup: boolean;
  attributes: string | null;
  tags: string | null;
}
export const toTopic = (r: TopicRow): Topic => ({
  name: r.name,
  fifo: r.fifo,
  contentBasedDeduplication: r.content_based_dedup,
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
  raw: boolean;
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
  raw: r.raw,
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

/** Positional parameters in the column order of the subscriptions table. */
export const subscriptionValues = (s: Subscription) => [
  s.id,
  s.topic,
  s.protocol,
  s.endpoint,
  s.raw,
  JSON.stringify(s.deliveryPolicy),
  s.deadLetterQueue,
  s.secret,
  s.status,
  s.statusReason,
  Date.parse(s.createdAt),
  s.filterPolicy,
  s.filterPolicyScope,
  s.style,
  s.confirmationToken,
];

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
  fifo: boolean;
  content_based_dedup: boolean;
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
  fifo: r.fifo,
  contentBasedDeduplication: r.content_based_dedup,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at ?? r.created_at),
});

export { moveTaskValues, toMoveTask, type MoveTaskRow } from '../move-task-row.js';

/** Positional parameters in the column order of the queues table (after qid). */
export const queueValues = (q: Queue) => [
  q.name,
  Math.round(q.visibilityTimeoutSeconds * 1000),
  Math.round(q.delaySeconds * 1000),
  Math.round(q.retentionSeconds * 1000),
  q.maxReceiveCount,
  q.deadLetterQueue,
  Date.parse(q.createdAt),
  q.maxMessageBytes,
  Math.round(q.receiveWaitSeconds * 1000),
  q.redriveAllowPolicy,
  Object.keys(q.tags).length > 0 ? JSON.stringify(q.tags) : null,
  Date.parse(q.updatedAt),
  q.fifo,
  q.contentBasedDeduplication,
];

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
  ok: boolean;
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
  ok: r.ok,
  errorClass: r.error_class as ErrorClass | null,
  error: r.error,
});

export interface DeliveryRow {
  seq: number;
  subscription_id: string;
  message_id: string;
  state: number;
  leased: boolean;
  attempts: number;
  due_at: number;
  last_error: string | null;
  created_at: number;
}

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: String(r.seq),
  subscriptionId: r.subscription_id,
  messageId: r.message_id,
  state: r.state === 2 ? 'failed' : r.leased ? 'in_flight' : 'pending',
  attempts: r.attempts,
  nextAttemptAt: iso(r.due_at),
  lastError: r.last_error,
  createdAt: iso(r.created_at),
});

export { formatReceipt, parseReceipt } from '../receipts.js';

/**
 * A leased delivery's id carries the lease token: `<seq>.<token>`. An outcome or release
 * applies only while the row still has that token, so a node whose lease expired and was
 * taken over cannot overwrite the new holder's work.
 */
export function formatDeliveryId(seq: number, token: number): string {
  return `${seq}.${token}`;
}

export function parseDeliveryId(id: string): { seq: number; token: number } | null {
  const dot = id.indexOf('.');
  if (dot <= 0) return null;
  const seq = Number(id.slice(0, dot));
  const token = Number(id.slice(dot + 1));
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(token)) return null;
  return { seq, token };
}

/** Random positive integer below 2^52 (lease tokens, receipt nonces). */
export const newNonce = () => 1 + Math.floor(Math.random() * 0xf_ffff_ffff_ffff);
