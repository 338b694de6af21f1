/**
 * Input validation for the domain. Pure: each function returns the normalised value or
 * throws a HeraldError whose message names the field, so every front door (REST today,
 * the AWS adapters later) rejects the same things the same way.
 */
import { createHash } from 'node:crypto';
import { HeraldError, invalid } from './errors.js';
import { parseFilterPolicy, parseFilterPolicyScope } from './topics/filter-policy/index.js';
import { messageAttributesSize, validMessageAttributes } from './message-attributes.js';
import type {
  Attributes,
  BackoffPolicy,
  DeliveryPolicy,
  DeliveryStyle,
  FilterPolicyScope,
  MessageAttributes,
  MessageInput,
  Protocol,
  ProtocolBodies,
  QueueConfig,
  TopicConfig,
} from './types.js';

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const ATTRIBUTE_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
export const MAX_ATTRIBUTES = 10;
export const MAX_BATCH = 1000;
export const MAX_DELAY_SECONDS = 900;
export const MAX_RECEIVE = 1000;
export const MAX_WAIT_SECONDS = 20;
export const MAX_VISIBILITY_SECONDS = 12 * 3600;
export const MAX_RETENTION_SECONDS = 14 * 24 * 3600;
/** Largest per-queue message size (SQS MaximumMessageSize allows up to 1 MiB). */
export const MAX_QUEUE_MESSAGE_BYTES = 1024 * 1024;

const FIFO_SUFFIX = '.fifo';
/** SQS and SNS: message group and deduplication ids are 1-128 alphanumerics and punctuation. */
const MESSAGE_ID_TOKEN = /^[\x21-\x7e]{1,128}$/;

/** FIFO topics and queues are the ones whose name ends in `.fifo`. */
export const isFifoName = (name: string) => name.endsWith(FIFO_SUFFIX);

function checkName(kind: 'topic' | 'queue', name: unknown, pattern: RegExp, max: number): string {
  const base = typeof name === 'string' && isFifoName(name) ? name.slice(0, -FIFO_SUFFIX.length) : name;
  if (typeof name !== 'string' || typeof base !== 'string' || !pattern.test(base) || name.length > max) {
    throw invalid(
      `${kind} name must be 1-${max} characters of letters, digits, "-" and "_", optionally ending in "${FIFO_SUFFIX}" (a FIFO ${kind})`,
    );
  }
  return name;
}

export const topicName = (name: unknown) => checkName('topic', name, TOPIC_NAME, 256);
export const queueName = (name: unknown) => checkName('queue', name, QUEUE_NAME, 80);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function number(field: string, v: unknown, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw invalid(`${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return v;
}

function optionalNumber(
  field: string,
  v: unknown,
  min: number,
  max: number,
  fallback: number,
  integer = false,
): number {
  return v === undefined ? fallback : number(field, v, min, max, integer);
}

export function attributes(v: unknown, field = 'attributes'): Attributes {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw invalid(`${field} must be an object of string values`);
  const keys = Object.keys(v);
  if (keys.length > MAX_ATTRIBUTES) throw invalid(`${field} may hold at most ${MAX_ATTRIBUTES} entries`);
  const out: Attributes = {};
  for (const k of keys) {
    if (!ATTRIBUTE_KEY.test(k)) {
      throw invalid(`${field} key "${k.slice(0, 40)}" must be 1-128 characters of letters, digits, ".", "-" and "_"`);
    }
    const value = v[k];
    if (typeof value !== 'string') throw invalid(`${field}.${k} must be a string`);
    out[k] = value;
  }
  return out;
}

/** Bytes a message costs against the size limit: body plus attribute keys and values. */
export function messageSize(body: string, attrs: Attributes): number {
  let n = Buffer.byteLength(body);
  for (const k in attrs) n += k.length + Buffer.byteLength(attrs[k]);
  return n;
}

export interface ValidMessage {
  body: string;
  /** Texts for subscriptions of some protocols instead of `body`. */
  bodies?: ProtocolBodies;
  attributes: Attributes;
  messageAttributes?: MessageAttributes;
  traceHeader?: string;
  /** SNS Subject (SNS API only). */
  subject?: string;
  delaySeconds: number | undefined;
  idempotencyKey: string | undefined;
  /** `messageGroupId` in the API. */
  groupId: string | undefined;
  /** `messageDeduplicationId` in the API. */
  deduplicationId: string | undefined;
  /** Where the message was in the request (`messages[3]`), for errors found later; absent for a single message. */
  field?: string;
}

function messageToken(field: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !MESSAGE_ID_TOKEN.test(v)) {
    throw invalid(`${field} must be 1-128 characters of letters, digits and punctuation`);
  }
  return v;
}

export function message(v: unknown, maxBytes: number, field = 'message'): ValidMessage {
  if (!isObject(v)) throw invalid(`${field} must be an object with a "body"`);
  const prefix = field === 'message' ? '' : `${field}.`;
  const { body, delaySeconds, idempotencyKey, messageGroupId, messageDeduplicationId } = v as Record<string, unknown>;
  if (typeof body !== 'string') throw invalid(`${prefix}body must be a string`);
  const bodies = protocolBodies(v.bodies, `${prefix}bodies`);
  const attrs = attributes(v.attributes, `${prefix}attributes`);
  let typed: MessageAttributes | undefined;
  if (v.messageAttributes !== undefined && v.messageAttributes !== null) {
    if (!isObject(v.messageAttributes)) throw invalid(`${prefix}messageAttributes must be an object`);
    typed = validMessageAttributes(v.messageAttributes as MessageAttributes, `${prefix}messageAttributes`);
    if (Object.keys(typed).length + Object.keys(attrs).length > MAX_ATTRIBUTES) {
      throw invalid(`${prefix}attributes and messageAttributes may hold at most ${MAX_ATTRIBUTES} entries together`);
    }
  }
  const size = messageSize(body, attrs) + messageAttributesSize(typed) + protocolBodiesSize(bodies);
  if (size > maxBytes) {
    throw new HeraldError(
      'message_too_large',
      `${prefix}body and attributes are ${size} bytes; the limit is ${maxBytes}`,
    );
  }
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== 'string' || idempotencyKey.length < 1 || idempotencyKey.length > 128)
  ) {
    throw invalid(`${prefix}idempotencyKey must be a string of 1-128 characters`);
  }
  return {
    body,
    ...(bodies ? { bodies } : {}),
    attributes: attrs,
    ...(typed ? { messageAttributes: typed } : {}),
    delaySeconds:
      delaySeconds === undefined ? undefined : number(`${prefix}delaySeconds`, delaySeconds, 0, MAX_DELAY_SECONDS),
    idempotencyKey: idempotencyKey as string | undefined,
    groupId: messageToken(`${prefix}messageGroupId`, messageGroupId),
    deduplicationId: messageToken(`${prefix}messageDeduplicationId`, messageDeduplicationId),
    ...(field === 'message' ? {} : { field }),
  };
}

const PROTOCOLS: readonly Protocol[] = ['http', 'https', 'queue'];

/** `bodies`: texts by subscription protocol (`http`, `https`, `queue`); absent or empty: none. */
export function protocolBodies(v: unknown, field = 'bodies'): ProtocolBodies | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(`${field} must be an object of texts by protocol (http, https, queue)`);
  const out: ProtocolBodies = {};
  for (const [k, text] of Object.entries(v)) {
    if (!PROTOCOLS.includes(k as Protocol))
      throw invalid(`${field}.${k.slice(0, 40)}: not a protocol (http, https, queue)`);
    if (typeof text !== 'string') throw invalid(`${field}.${k} must be a string`);
    out[k as Protocol] = text;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Bytes the per-protocol texts add to a message's size. */
export function protocolBodiesSize(bodies: ProtocolBodies | undefined): number {
  let n = 0;
  for (const k in bodies) n += Buffer.byteLength(bodies[k as Protocol]!);
  return n;
}

/** Where a message goes, as far as the FIFO rules care. */
export interface Destination {
  kind: 'topic' | 'queue';
  name: string;
  fifo: boolean;
  contentBasedDeduplication: boolean;
}

/**
 * Apply the FIFO rules to a validated message for `to`, and return its deduplication key.
 *
 * FIFO: `messageGroupId` is required; per-message `delaySeconds` is refused (only a queue's
 * own delay applies, as in SQS); the deduplication key is `messageDeduplicationId` (or its
 * older name `idempotencyKey`; giving both with different values is refused), else the
 * body's SHA-256 when content-based deduplication is on, else the message is refused.
 * Standard: `messageDeduplicationId` is refused (use `idempotencyKey`); `messageGroupId` is
 * accepted and carried along, as SQS has done for standard queues since fair queues (2025).
 */
export function fifoRules(
  m: ValidMessage,
  to: Destination,
  field = m.field ?? 'message',
): { idempotencyKey: string | undefined; deduplicationId: string | undefined } {
  const prefix = field === 'message' ? '' : `${field}.`;
  const what = `${to.fifo ? 'FIFO' : 'standard'} ${to.kind} "${to.name}"`;
  if (!to.fifo) {
    if (m.deduplicationId !== undefined) {
      throw invalid(`${prefix}messageDeduplicationId applies to FIFO ${to.kind}s only; on ${what} use idempotencyKey`);
    }
    return { idempotencyKey: m.idempotencyKey, deduplicationId: undefined };
  }
  if (m.groupId === undefined) throw invalid(`${prefix}messageGroupId is required on ${what}`);
  if (m.delaySeconds !== undefined && m.delaySeconds !== 0) {
    throw invalid(
      `${prefix}delaySeconds is not allowed on ${what}: FIFO messages cannot be delayed one by one${to.kind === 'queue' ? "; set the queue's delaySeconds" : ''}`,
    );
  }
  if (m.deduplicationId !== undefined && m.idempotencyKey !== undefined && m.deduplicationId !== m.idempotencyKey) {
    throw invalid(`${prefix}messageDeduplicationId and idempotencyKey name the same key; give one, or the same value`);
  }
  const explicit = m.deduplicationId ?? m.idempotencyKey;
  if (explicit !== undefined) return { idempotencyKey: explicit, deduplicationId: explicit };
  if (!to.contentBasedDeduplication) {
    throw invalid(
      `${prefix}messageDeduplicationId is required on ${what}, which does not have contentBasedDeduplication`,
    );
  }
  // The content is every text the message carries (SNS hashes the whole structured message).
  const content = createHash('sha256').update(m.body);
  for (const p of PROTOCOLS) if (m.bodies?.[p] !== undefined) content.update(`\n${p}\n${m.bodies[p]}`);
  const hash = content.digest('hex');
  return { idempotencyKey: hash, deduplicationId: hash };
}

/** A batch: returns per-entry results so one bad entry does not fail the others. */
export function batch(v: unknown, maxBytes: number): Array<ValidMessage | HeraldError> {
  if (!isObject(v) || !Array.isArray(v.messages)) throw invalid('messages must be an array of messages');
  const list = v.messages as unknown[];
  if (list.length === 0 || list.length > MAX_BATCH) throw invalid(`messages must hold 1-${MAX_BATCH} entries`);
  return list.map((m, i) => {
    try {
      return message(m, maxBytes, `messages[${i}]`);
    } catch (error) {
      if (error instanceof HeraldError) return error;
      throw error;
    }
  });
}

export function endpoint(protocol: Protocol, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw invalid('endpoint must be a non-empty string');
  if (protocol === 'queue') return queueName(v);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw invalid(`endpoint "${v.slice(0, 200)}" is not a valid URL`);
  }
  if (url.protocol !== `${protocol}:`)
    throw invalid(`endpoint must be an ${protocol}:// URL for protocol "${protocol}"`);
  if (url.username || url.password)
    throw invalid('endpoint must not carry credentials in the URL; use the signing secret');
  if (!url.hostname) throw invalid('endpoint must name a host');
  return url.toString();
}

export function protocol(v: unknown): Protocol {
  if (v === 'http' || v === 'https' || v === 'queue') return v;
  throw invalid('protocol must be one of "http", "https", "queue"');
}

export function deliveryStyle(v: unknown): DeliveryStyle {
  if (v === undefined || v === null || v === 'herald') return 'herald';
  if (v === 'sns') return 'sns';
  throw invalid('style must be "herald" or "sns"');
}

export function filterPolicyScope(v: unknown, field = 'filterPolicyScope'): FilterPolicyScope {
  return parseFilterPolicyScope(v, field);
}

/**
 * A filter policy (JSON text or an object), checked with SNS's rules and kept as JSON text;
 * null or "" removes it, undefined keeps `fallback`. Errors name `field`.
 */
export function filterPolicy(
  v: unknown,
  scope: FilterPolicyScope,
  fallback: string | null,
  field = 'filterPolicy',
): string | null {
  if (v === undefined) return fallback;
  if (v === null || v === '') return null;
  if (typeof v !== 'string' && (typeof v !== 'object' || Array.isArray(v)))
    throw invalid(`${field} must be a JSON object (or its text)`);
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  parseFilterPolicy(text, scope, { field });
  return text;
}

export function deliveryPolicy(v: unknown, base: DeliveryPolicy): DeliveryPolicy {
  if (v === undefined || v === null) return base;
  if (!isObject(v)) throw invalid('deliveryPolicy must be an object');
  const b = v.backoff;
  if (b !== undefined && !isObject(b)) throw invalid('deliveryPolicy.backoff must be an object');
  const bo = (b ?? {}) as Record<string, unknown>;
  const backoff: BackoffPolicy = {
    initialSeconds: optionalNumber(
      'deliveryPolicy.backoff.initialSeconds',
      bo.initialSeconds,
      0,
      3600,
      base.backoff.initialSeconds,
    ),
    maxSeconds: optionalNumber('deliveryPolicy.backoff.maxSeconds', bo.maxSeconds, 0, 86_400, base.backoff.maxSeconds),
    multiplier: optionalNumber('deliveryPolicy.backoff.multiplier', bo.multiplier, 1, 10, base.backoff.multiplier),
  };
  if (backoff.maxSeconds < backoff.initialSeconds) {
    throw invalid('deliveryPolicy.backoff.maxSeconds must not be below initialSeconds');
  }
  return {
    maxAttempts: optionalNumber('deliveryPolicy.maxAttempts', v.maxAttempts, 1, 100, base.maxAttempts, true),
    backoff,
    timeoutSeconds: optionalNumber('deliveryPolicy.timeoutSeconds', v.timeoutSeconds, 0.01, 300, base.timeoutSeconds),
    maxPerSecond: optionalNumber('deliveryPolicy.maxPerSecond', v.maxPerSecond, 0, 100_000, base.maxPerSecond),
    maxConcurrency: optionalNumber(
      'deliveryPolicy.maxConcurrency',
      v.maxConcurrency,
      1,
      1000,
      base.maxConcurrency,
      true,
    ),
  };
}

/** `fifo` may be given but must agree with the name; content-based deduplication is FIFO-only. */
function fifoConfig(kind: 'topic' | 'queue', v: Record<string, unknown>, base: TopicConfig): TopicConfig {
  if (v.fifo !== undefined && v.fifo !== base.fifo) {
    throw invalid(`fifo must be ${base.fifo}: a ${kind} is FIFO exactly when its name ends in "${FIFO_SUFFIX}"`);
  }
  const cbd = v.contentBasedDeduplication;
  if (cbd !== undefined && typeof cbd !== 'boolean') throw invalid('contentBasedDeduplication must be true or false');
  if (cbd === true && !base.fifo) {
    throw invalid(`contentBasedDeduplication applies to FIFO ${kind}s only (names ending in "${FIFO_SUFFIX}")`);
  }
  return { fifo: base.fifo, contentBasedDeduplication: cbd ?? base.contentBasedDeduplication };
}

export function topicConfig(v: unknown, base: TopicConfig): TopicConfig {
  if (v === undefined || v === null) return base;
  if (!isObject(v)) throw invalid('topic configuration must be an object');
  return fifoConfig('topic', v, base);
}

export function queueConfig(v: unknown, base: QueueConfig): QueueConfig {
  if (v === undefined || v === null) return base;
  if (!isObject(v)) throw invalid('queue configuration must be an object');
  const cfg: QueueConfig = {
    visibilityTimeoutSeconds: optionalNumber(
      'visibilityTimeoutSeconds',
      v.visibilityTimeoutSeconds,
      0,
      MAX_VISIBILITY_SECONDS,
      base.visibilityTimeoutSeconds,
    ),
    delaySeconds: optionalNumber('delaySeconds', v.delaySeconds, 0, MAX_DELAY_SECONDS, base.delaySeconds),
    retentionSeconds: optionalNumber(
      'retentionSeconds',
      v.retentionSeconds,
      1,
      MAX_RETENTION_SECONDS,
      base.retentionSeconds,
    ),
    maxReceiveCount: optionalNumber('maxReceiveCount', v.maxReceiveCount, 0, 1000, base.maxReceiveCount, true),
    deadLetterQueue:
      v.deadLetterQueue === undefined
        ? base.deadLetterQueue
        : v.deadLetterQueue === null
          ? null
          : queueName(v.deadLetterQueue),
    maxMessageBytes: optionalNumber(
      'maxMessageBytes',
      v.maxMessageBytes,
      1024,
      MAX_QUEUE_MESSAGE_BYTES,
      base.maxMessageBytes,
      true,
    ),
    receiveWaitSeconds: optionalNumber(
      'receiveWaitSeconds',
      v.receiveWaitSeconds,
      0,
      MAX_WAIT_SECONDS,
      base.receiveWaitSeconds,
      true,
    ),
    redriveAllowPolicy:
      v.redriveAllowPolicy === undefined
        ? base.redriveAllowPolicy
        : v.redriveAllowPolicy === null
          ? null
          : redriveAllowPolicy(v.redriveAllowPolicy),
    ...fifoConfig('queue', v, base),
  };
  if (cfg.maxReceiveCount > 0 && !cfg.deadLetterQueue) {
    throw invalid('maxReceiveCount needs a deadLetterQueue to move messages to');
  }
  return cfg;
}

export interface RedriveAllowPolicy {
  redrivePermission: 'allowAll' | 'denyAll' | 'byQueue';
  /** Queue names (from the ARNs) allowed with `byQueue`. */
  sourceQueues: string[];
}

/** SQS RedriveAllowPolicy JSON; returns it unchanged when valid. */
export function redriveAllowPolicy(v: unknown): string {
  parseRedriveAllowPolicy(v);
  return v as string;
}

export function parseRedriveAllowPolicy(v: unknown): RedriveAllowPolicy {
  let parsed: unknown;
  try {
    parsed = typeof v === 'string' ? JSON.parse(v) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) throw invalid('redriveAllowPolicy must be a JSON object text');
  const permission = parsed.redrivePermission;
  if (permission !== 'allowAll' && permission !== 'denyAll' && permission !== 'byQueue') {
    throw invalid('redriveAllowPolicy.redrivePermission must be allowAll, denyAll or byQueue');
  }
  const arns = parsed.sourceQueueArns ?? [];
  if (!Array.isArray(arns) || arns.some((a) => typeof a !== 'string') || arns.length > 10) {
    throw invalid('redriveAllowPolicy.sourceQueueArns must be an array of at most 10 queue ARNs');
  }
  if (permission === 'byQueue' && arns.length === 0) {
    throw invalid('redriveAllowPolicy.sourceQueueArns must name at least one queue with byQueue');
  }
  if (permission !== 'byQueue' && arns.length > 0) {
    throw invalid('redriveAllowPolicy.sourceQueueArns is only allowed with redrivePermission byQueue');
  }
  return { redrivePermission: permission, sourceQueues: (arns as string[]).map((a) => a.split(':').pop() ?? a) };
}

export function receiveOptions(v: unknown): { max: number; waitSeconds?: number; visibilityTimeoutSeconds?: number } {
  const o = (v ?? {}) as Record<string, unknown>;
  if (!isObject(o)) throw invalid('receive options must be an object');
  return {
    max: optionalNumber('max', o.max, 1, MAX_RECEIVE, 1, true),
    // Unset: the queue's receiveWaitSeconds applies.
    waitSeconds: o.waitSeconds === undefined ? undefined : number('waitSeconds', o.waitSeconds, 0, MAX_WAIT_SECONDS),
    visibilityTimeoutSeconds:
      o.visibilityTimeoutSeconds === undefined
        ? undefined
        : number('visibilityTimeoutSeconds', o.visibilityTimeoutSeconds, 0, MAX_VISIBILITY_SECONDS),
  };
}

export function visibilityTimeout(v: unknown): number {
  return number('visibilityTimeoutSeconds', v, 0, MAX_VISIBILITY_SECONDS);
}

export function receipts(v: unknown): string[] {
  if (!isObject(v) || !Array.isArray(v.receipts) || v.receipts.length === 0 || v.receipts.length > MAX_RECEIVE) {
    throw invalid(`receipts must be an array of 1-${MAX_RECEIVE} receipt strings`);
  }
  for (const r of v.receipts) if (typeof r !== 'string') throw invalid('receipts must be strings');
  return v.receipts as string[];
}

export function limit(v: unknown, fallback = 100, max = 1000): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  return number('limit', n, 1, max, true);
}

export type { MessageInput };

export const invalidField = (field: string, problem: string) => invalid(`${field} ${problem}`);
