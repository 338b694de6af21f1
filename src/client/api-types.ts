/**
 * Request and response shapes of the Herald HTTP API as the client sends and reads them.
 * The resources themselves (Topic, Subscription, Queue, ...) are in ../types.ts.
 */
import type {
  Attempt,
  BackoffPolicy,
  Delivery,
  DeliveryPolicy,
  Protocol,
  Queue,
  QueueStats,
  SubscriptionStatus,
  Topic,
} from '../types.js';

export interface ClientOptions {
  /**
   * Base URL of a Herald node, or several (an array, or one comma-separated string).
   * Default `HERALD_URL`, else http://127.0.0.1:8080.
   */
  url?: string | string[];
  /** Bearer key. Default `HERALD_API_KEY`. */
  apiKey?: string;
  /** Per-request timeout in milliseconds; a receive adds its `waitSeconds`. Default 30 000. */
  timeoutMs?: number;
}

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Any subset of a delivery policy; fields left out keep their defaults (or current values). */
export type PolicyInput = Partial<Omit<DeliveryPolicy, 'backoff'>> & { backoff?: Partial<BackoffPolicy> };

// Topics

export type TopicDetail = Topic & { subscriptions: number };

export interface ListTopicsOptions {
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export interface TopicPage {
  topics: Topic[];
  /** Present when there are more topics: pass it as `cursor`. */
  next?: string;
}

// Messages

export interface PublishResult {
  id: string;
  /** True when the idempotency key was seen within the window: the earlier message's id. */
  duplicate?: boolean;
  /** FIFO queues and topics: the message's place in the queue or topic (20-digit decimal). */
  sequenceNumber?: string;
}

/** One entry of a batch answer, in the order of the request. */
export type BatchResult = PublishResult | ErrorBody;

export interface BatchResponse {
  results: BatchResult[];
}

// Subscriptions

export interface SubscribeOptions {
  protocol: Protocol;
  /** URL for http/https, queue name for queue. */
  endpoint: string;
  raw?: boolean;
  deliveryPolicy?: PolicyInput;
  deadLetterQueue?: string;
}

export interface SubscriptionPatch {
  endpoint?: string;
  raw?: boolean;
  deliveryPolicy?: PolicyInput;
  /** null removes the dead-letter queue. */
  deadLetterQueue?: string | null;
  status?: SubscriptionStatus;
}

export interface ListAttemptsOptions {
  messageId?: string;
  limit?: number;
  cursor?: string;
}

export interface AttemptPage {
  attempts: Attempt[];
  next?: string;
}

export interface ListDeliveriesOptions {
  /** Default pending. */
  state?: 'pending' | 'failed';
  limit?: number;
  cursor?: string;
}

export interface DeliveryPage {
  deliveries: Delivery[];
  next?: string;
}

// Queues

export type QueueDetail = Queue & { stats: QueueStats };

export interface ReceiveOptions {
  /** Most messages to return (server default 1). */
  max?: number;
  /** Long poll: wait up to this long for a first message. */
  waitSeconds?: number;
  /** Hide the received messages this long instead of the queue's visibility timeout. */
  visibilityTimeoutSeconds?: number;
}

export interface AckFailure {
  receipt: string;
  error: { code: string; message: string };
}

export interface AckResult {
  acked: number;
  failed: AckFailure[];
}

export interface RedriveOptions {
  /** Most messages to move. */
  max?: number;
}
