/** Builders and per-test store setup shared by the store contract suites. */
import { afterEach, beforeEach } from 'vitest';
import { DEFAULT_DELIVERY_POLICY } from '../../src/config.js';
import type { AttemptRecord, PublishEntry, SendEntry, Store } from '../../src/store/store.js';
import type { Queue, Subscription } from '../../src/types.js';
import { openTestStore, type StoreKind, type TestStore } from '../support/stores.js';

/** A fresh store for every test of the enclosing describe; kept for inspection if the test failed. */
export function useStore(kind: StoreKind): () => Store {
  let current: TestStore | null = null;
  beforeEach(async () => {
    current = await openTestStore(kind);
  });
  // (onTestFailed would run only after this hook: read the result instead.)
  afterEach(async (ctx) => {
    await current?.close(ctx.task.result?.state === 'fail');
    current = null;
  });
  return () => current!.store;
}

export const T0 = 1_700_000_000_000;

let counter = 0;
/** Ids that sort by creation, like the uuidv7 ids Herald assigns. */
export const newId = (prefix = 'm') =>
  `${prefix}-${String(++counter).padStart(6, '0')}-${Math.random().toString(36).slice(2, 8)}`;

export function subscription(topic: string, over: Partial<Subscription> = {}): Subscription {
  return {
    id: newId('sub'),
    topic,
    protocol: 'http',
    endpoint: 'http://127.0.0.1:9/hook',
    raw: false,
    deliveryPolicy: DEFAULT_DELIVERY_POLICY,
    deadLetterQueue: null,
    secret: 'whsec_dGVzdA==',
    status: 'active',
    statusReason: null,
    createdAt: new Date(T0).toISOString(),
    filterPolicy: null,
    filterPolicyScope: 'MessageAttributes',
    style: 'herald',
    confirmationToken: null,
    ...over,
  };
}

export function queue(name: string, over: Partial<Queue> = {}): Queue {
  return {
    name,
    visibilityTimeoutSeconds: 30,
    delaySeconds: 0,
    retentionSeconds: 4 * 24 * 3600,
    maxReceiveCount: 0,
    deadLetterQueue: null,
    maxMessageBytes: 256 * 1024,
    receiveWaitSeconds: 0,
    redriveAllowPolicy: null,
    tags: {},
    fifo: name.endsWith('.fifo'),
    contentBasedDeduplication: false,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...over,
  };
}

/** A message for `topic` owed to the given push subscriptions and queue copies. */
export function entry(
  topic: string,
  pushTo: string[],
  over: Partial<PublishEntry> & { queues?: string[]; dueAtMs?: number } = {},
): PublishEntry {
  const { queues = [], dueAtMs = T0, ...rest } = over;
  const body = rest.body ?? `body of ${topic}`;
  return {
    id: newId(),
    topic,
    body,
    attributes: { a: '1' },
    createdAtMs: T0,
    deliveries: pushTo.map((subscriptionId) => ({ subscriptionId, dueAtMs })),
    queueCopies: queues.map((q) => ({ queue: q, body, attributes: {}, visibleAtMs: dueAtMs })),
    ...rest,
  };
}

export function send(over: Partial<SendEntry> = {}): SendEntry {
  return { id: newId('q'), body: 'work', attributes: {}, sentAtMs: T0, visibleAtMs: T0, ...over };
}

export function attempt(subscriptionId: string, messageId: string, n: number, over: Partial<AttemptRecord> = {}) {
  return {
    subscriptionId,
    messageId,
    attempt: n,
    atMs: T0 + n,
    status: 500,
    latencyMs: 12.5,
    ok: false,
    errorClass: 'http_5xx' as const,
    error: 'HTTP 500',
    ...over,
  };
}

/** A topic with `n` push subscriptions, created in the store. */
export async function topicWithSubs(store: Store, topic: string, n = 1, over: Partial<Subscription> = {}) {
  await store.createTopic(topic, T0);
  const subs: Subscription[] = [];
  for (let i = 0; i < n; i++) {
    const s = subscription(topic, over);
    await store.createSubscription(s);
    subs.push(s);
  }
  return subs;
}

export const HOUR = 3_600_000;
