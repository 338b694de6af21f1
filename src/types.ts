/**
 * Herald's vocabulary. Every module uses exactly these words.
 *
 * - **topic**: a named channel publishers write to. Every subscription of a topic
 *   receives a copy of every message published to it (fanout).
 * - **message**: what a publisher sends: a string `body`, up to 10 string
 *   `attributes`, an id assigned by Herald. Immutable once accepted. (SNS/SQS-style typed
 *   attributes, `MessageAttributes`, carry a data type per attribute; a plain string is a `String`.
 *   A message may also carry other texts for subscriptions of some protocols, `bodies`, as SNS's
 *   `MessageStructure=json` does; `body` is then the default text.)
 * - **filter policy**: a subscription's SNS-syntax conditions on a message's attributes or JSON
 *   body; a message that does not match is not delivered to that subscription.
 * - **subscription**: attaches an endpoint to a topic. `protocol` is `http`/`https`
 *   (Herald pushes, a webhook) or `queue` (Herald copies the message into a Herald queue).
 * - **delivery**: one message owed to one push subscription. It lives until it is
 *   delivered, dead-lettered or marked failed. Each delivery progresses on its own.
 * - **attempt**: one try of a delivery (one HTTP request), logged with its outcome.
 * - **queue**: an SQS-style pull queue. Workers *receive* queue messages, which become
 *   invisible for a visibility timeout, and *ack* them by receipt when done.
 * - **receipt**: the handle a receive returns for one queue message; it changes on every
 *   receive, and only the latest one acks or changes visibility.
 * - **dead-letter queue (DLQ)**: a Herald queue that takes messages a queue could not get
 *   processed (too many receives) or a subscription could not deliver (attempts exhausted).
 * - **FIFO topic / FIFO queue**: one whose name ends in `.fifo`. Every message carries a
 *   message group; within a group messages are delivered strictly in order, and a group
 *   blocks while its head message is in flight. Different groups proceed independently.
 * - **message group**: the `messageGroupId` of a message: the unit of ordering on FIFO
 *   queues. (On standard queues it is only carried along, as SQS fair queues do.)
 * - **deduplication id**: the key under which a message is accepted once per topic or queue
 *   within the idempotency window (5 minutes by default). `idempotencyKey` and
 *   `messageDeduplicationId` are two names for the same key; with content-based deduplication
 *   a FIFO topic or queue uses the SHA-256 of the body when no id is given.
 * - **sequence number**: the position of a message in its queue, increasing in the order
 *   messages were accepted (a 20-digit decimal string, as SQS returns `SequenceNumber`).
 */

export type Protocol = 'http' | 'https' | 'queue';

/**
 * Per-protocol texts of one message (SNS `MessageStructure=json`): a subscription whose protocol
 * has a text here gets it instead of the message's `body`, which is the default for the others.
 */
export type ProtocolBodies = Partial<Record<Protocol, string>>;

/** String key/value pairs carried with a message (at most 10). */
export type Attributes = Record<string, string>;

/**
 * SNS/SQS message attribute data types: `String`, `Number`, `Binary`, `String.Array`, or one
 * of the three base types with a custom suffix (`Number.float`, `String.uuid`, `Binary.gif`),
 * which behaves as its base type. A plain `Attributes` string is a `String`.
 */
export type MessageAttributeDataType =
  'String' | 'Number' | 'Binary' | 'String.Array' | `String.${string}` | `Number.${string}` | `Binary.${string}`;

/** One typed message attribute, as SNS and SQS carry it. */
export interface MessageAttributeValue {
  dataType: MessageAttributeDataType;
  /** For String, Number (its decimal text) and String.Array (a JSON array as text). */
  stringValue?: string;
  /** For Binary: the bytes, or their base64 text. */
  binaryValue?: Uint8Array | string;
}

/** Typed message attributes by name. */
export type MessageAttributes = Record<string, MessageAttributeValue>;

/** Settings of a topic; FIFO-ness comes from the name (`.fifo`) and never changes. */
export interface TopicConfig {
  fifo: boolean;
  /** FIFO only: deduplicate by the SHA-256 of the body when no deduplication id is given. */
  contentBasedDeduplication: boolean;
}

export interface Topic extends TopicConfig {
  name: string;
  createdAt: string; // ISO 8601
  /** Settings set through the SNS API (SignatureVersion, DisplayName, ...): name -> text. */
  attributes: Record<string, string>;
  /** Tags set through the SNS API. */
  tags: Record<string, string>;
}

export interface BackoffPolicy {
  /** First retry delay in seconds. */
  initialSeconds: number;
  /** Longest delay between attempts in seconds. */
  maxSeconds: number;
  /** Growth factor per attempt. */
  multiplier: number;
}

export interface DeliveryPolicy {
  /** Total attempts including the first (default 10). */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Per-attempt HTTP timeout (default 15). */
  timeoutSeconds: number;
  /** Rate limit for this subscription, deliveries per second; 0 = unlimited. */
  maxPerSecond: number;
  /** In-flight requests for this subscription at once. */
  maxConcurrency: number;
}

/**
 * `pending_confirmation`: an SNS-style HTTP subscription whose endpoint has not confirmed it
 * yet; it gets no deliveries (messages published meanwhile are not owed to it).
 */
export type SubscriptionStatus = 'active' | 'disabled' | 'pending_confirmation';

/**
 * How a subscription's messages are framed and signed: `herald` (Herald's envelope, Standard
 * Webhooks signatures) or `sns` (SNS's JSON messages with SNS signatures and `x-amz-sns-*`
 * headers, confirmation first). Subscriptions made through the SNS API are `sns`.
 */
export type DeliveryStyle = 'herald' | 'sns';

/** Where a filter policy looks: the message attributes (default) or the JSON body. */
export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

export interface Subscription {
  id: string;
  topic: string;
  protocol: Protocol;
  /** URL for http/https, queue name for queue. */
  endpoint: string;
  /** Deliver the bare body (attributes as headers for HTTP) instead of the JSON envelope. */
  raw: boolean;
  deliveryPolicy: DeliveryPolicy;
  /** Queue that takes messages whose attempts are exhausted; null keeps them as failed deliveries. */
  deadLetterQueue: string | null;
  /** Standard Webhooks signing secret, `whsec_<base64>`. Empty for queue subscriptions. */
  secret: string;
  status: SubscriptionStatus;
  /** Why the subscription was disabled (for example an endpoint answered 410 Gone). */
  statusReason: string | null;
  createdAt: string;
  /** SNS-syntax filter policy (JSON text); null takes every message. */
  filterPolicy: string | null;
  filterPolicyScope: FilterPolicyScope;
  style: DeliveryStyle;
  /** The token that confirms a `pending_confirmation` subscription (null once confirmed). */
  confirmationToken: string | null;
}

export interface QueueConfig {
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  retentionSeconds: number;
  /** Receives after which a message moves to `deadLetterQueue`; 0 = never. */
  maxReceiveCount: number;
  deadLetterQueue: string | null;
  /** Largest message (body plus attributes) the queue accepts, bytes (SQS MaximumMessageSize). */
  maxMessageBytes: number;
  /** How long a receive that sets no wait long-polls, seconds (SQS ReceiveMessageWaitTimeSeconds). */
  receiveWaitSeconds: number;
  /**
   * Which queues may name this one as their dead-letter queue: SQS RedriveAllowPolicy JSON
   * (`{"redrivePermission":"allowAll"|"denyAll"|"byQueue","sourceQueueArns":[...]}`); null allows all.
   */
  redriveAllowPolicy: string | null;
  /** From the name (`.fifo`); never changes. */
  fifo: boolean;
  /** FIFO only: deduplicate by the SHA-256 of the body when no deduplication id is given. */
  contentBasedDeduplication: boolean;
}

/** Cost-allocation style labels on a queue (SQS queue tags): at most 50. */
export type Tags = Record<string, string>;

export interface Queue extends QueueConfig {
  name: string;
  tags: Tags;
  createdAt: string;
  /** Last change of configuration or tags. */
  updatedAt: string;
}

export interface QueueStats {
  /** Messages visible now. */
  visible: number;
  /** Messages received and not yet acked or timed out. */
  inFlight: number;
  /** Messages whose delay has not passed. */
  delayed: number;
}

/** A message as a publisher or sender submits it. */
export interface MessageInput {
  body: string;
  /** Texts for subscriptions of some protocols instead of `body` (`http`, `https`, `queue`). */
  bodies?: ProtocolBodies;
  attributes?: Attributes;
  /** Typed attributes (SNS/SQS `MessageAttributes`); count towards the 10 with `attributes`. */
  messageAttributes?: MessageAttributes;
  /** X-Ray trace header (the SQS `AWSTraceHeader` system attribute). */
  traceHeader?: string;
  /** SNS Subject (from the SNS API). */
  subject?: string;
  delaySeconds?: number;
  idempotencyKey?: string;
  /** The message group: required on FIFO topics and queues; carried along on standard ones. */
  messageGroupId?: string;
  /** FIFO only: the deduplication id, the same key as `idempotencyKey` (see the glossary). */
  messageDeduplicationId?: string;
}

/** A received queue message. */
export interface ReceivedMessage {
  id: string;
  body: string;
  attributes: Attributes;
  receipt: string;
  receiveCount: number;
  sentAt: string;
  /** When the message was first received (this receive, for a first receive). */
  firstReceivedAt: string;
  /** Typed attributes, when the sender gave any (Binary values as base64 text). */
  messageAttributes?: MessageAttributes;
  traceHeader?: string;
  /** For messages in a dead-letter queue: the queue they came from. */
  sourceQueue?: string;
  /** For messages a subscription dead-lettered: that subscription (and its topic). */
  sourceSubscription?: string;
  topic?: string;
  /** For messages dead-lettered by a subscription: why the last attempt failed. */
  lastError?: string;
  /** The message's group, when it has one (always on FIFO queues). */
  messageGroupId?: string;
  /** FIFO queues: the deduplication id the message was accepted under. */
  messageDeduplicationId?: string;
  /** FIFO queues: 20-digit decimal, increasing in the order the queue accepted messages. */
  sequenceNumber?: string;
}

/** The JSON envelope pushed to non-raw subscriptions and copied into non-raw queues. */
export interface Envelope {
  type: 'Notification';
  id: string;
  topic: string;
  timestamp: string;
  attributes: Attributes;
  body: string;
}

export type DeliveryState = 'pending' | 'in_flight' | 'failed';

/** A delivery that is still owed (pending, being attempted) or failed without a DLQ. */
export interface Delivery {
  id: string;
  subscriptionId: string;
  messageId: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
}

/** How an attempt ended, coarse enough to aggregate. */
export type ErrorClass =
  | 'http_4xx'
  | 'http_5xx'
  | 'http_other'
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'network';

export interface Attempt {
  id: number;
  subscriptionId: string;
  messageId: string;
  /** 1-based attempt number of its delivery. */
  attempt: number;
  at: string;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  latencyMs: number;
  ok: boolean;
  errorClass: ErrorClass | null;
  error: string | null;
}

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/**
 * A **message move task**: moves the messages of a dead-letter queue back to where they came
 * from (or to one destination queue) in the background, at an optional rate, with progress.
 */
export interface MoveTask {
  handle: string;
  sourceQueue: string;
  /** null: each message back to the queue it was dead-lettered from. */
  destinationQueue: string | null;
  /** Messages per second; null lets Herald pick (as fast as batches allow). */
  maxPerSecond: number | null;
  status: MoveTaskStatus;
  moved: number;
  /** Messages in the source queue when the task started. */
  toMove: number;
  failureReason: string | null;
  startedAt: string;
}

/** A page of results with an opaque cursor for the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  next?: string;
}
