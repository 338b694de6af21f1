/**
 * The typed Herald client, used by the CLI, the tests and the benchmarks.
 *
 * Several base URLs may be given: requests rotate over them, and a request that cannot
 * reach a node moves on to the next. Requests that are safe to repeat (reads, PUT, DELETE,
 * receive/ack/visibility) fail over on any connection error; publishes and sends only when
 * the connection was refused, meaning the request never reached a server, so failover
 * never silently publishes twice.
 */
import { Agent, request } from 'undici';
import type {
  Attempt,
  BackoffPolicy,
  Delivery,
  DeliveryPolicy,
  MessageInput,
  Protocol,
  Queue,
  QueueConfig,
  QueueStats,
  ReceivedMessage,
  Subscription,
  Topic,
} from '../types.js';
import { HeraldError } from './errors.js';

export interface ClientOptions {
  /** One base URL, several (array or comma-separated). Default `HERALD_URL` or http://127.0.0.1:8080. */
  url?: string | string[];
  /** Default `HERALD_API_KEY`. */
  apiKey?: string;
  /** Per-request timeout (a receive adds its waitSeconds). Default 30 s. */
  timeoutMs?: number;
}

export type PolicyInput = Partial<Omit<DeliveryPolicy, 'backoff'>> & { backoff?: Partial<BackoffPolicy> };

export interface SubscribeOptions {
  protocol: Protocol;
  endpoint: string;
  raw?: boolean;
  deliveryPolicy?: PolicyInput;
  deadLetterQueue?: string;
}

export interface SubscriptionPatch {
  endpoint?: string;
  raw?: boolean;
  deliveryPolicy?: PolicyInput;
  deadLetterQueue?: string | null;
  status?: 'active' | 'disabled';
}

export type BatchResult = { id: string; duplicate?: boolean } | { error: { code: string; message: string } };

export interface AckResult {
  acked: number;
  failed: Array<{ receipt: string; error: { code: string; message: string } }>;
}

type Retry = 'always' | 'refused-only';

export class HeraldClient {
  private readonly urls: string[];
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  private next = 0;

  constructor(opts: ClientOptions = {}) {
    const raw = opts.url ?? process.env.HERALD_URL ?? 'http://127.0.0.1:8080';
    this.urls = (Array.isArray(raw) ? raw : raw.split(',')).map((u) => u.trim().replace(/\/+$/, '')).filter(Boolean);
    if (this.urls.length === 0) throw new Error('HeraldClient needs at least one URL');
    this.apiKey = opts.apiKey ?? process.env.HERALD_API_KEY;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  // Topics

  createTopic(name: string): Promise<Topic> {
    return this.call('PUT', `/v1/topics/${enc(name)}`);
  }
  getTopic(name: string): Promise<Topic & { subscriptions: number }> {
    return this.call('GET', `/v1/topics/${enc(name)}`);
  }
  listTopics(opts: { limit?: number; cursor?: string } = {}): Promise<{ topics: Topic[]; next?: string }> {
    return this.call('GET', `/v1/topics${query(opts)}`);
  }
  async deleteTopic(name: string): Promise<void> {
    await this.call('DELETE', `/v1/topics/${enc(name)}`);
  }
  publish(topic: string, message: MessageInput): Promise<{ id: string; duplicate?: boolean }> {
    return this.call('POST', `/v1/topics/${enc(topic)}/messages`, message, { retry: 'refused-only' });
  }
  publishBatch(topic: string, messages: MessageInput[]): Promise<{ results: BatchResult[] }> {
    return this.call('POST', `/v1/topics/${enc(topic)}/messages/batch`, { messages }, { retry: 'refused-only' });
  }

  // Subscriptions

  subscribe(topic: string, opts: SubscribeOptions): Promise<Subscription> {
    return this.call('POST', `/v1/topics/${enc(topic)}/subscriptions`, opts, { retry: 'refused-only' });
  }
  async listSubscriptions(topic: string): Promise<Subscription[]> {
    return (await this.call<{ subscriptions: Subscription[] }>('GET', `/v1/topics/${enc(topic)}/subscriptions`))
      .subscriptions;
  }
  getSubscription(id: string): Promise<Subscription> {
    return this.call('GET', `/v1/subscriptions/${enc(id)}`);
  }
  updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    return this.call('PATCH', `/v1/subscriptions/${enc(id)}`, patch);
  }
  async unsubscribe(id: string): Promise<void> {
    await this.call('DELETE', `/v1/subscriptions/${enc(id)}`);
  }
  listAttempts(
    subscriptionId: string,
    opts: { messageId?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ attempts: Attempt[]; next?: string }> {
    return this.call('GET', `/v1/subscriptions/${enc(subscriptionId)}/attempts${query(opts)}`);
  }
  listMessageAttempts(messageId: string): Promise<{ attempts: Attempt[]; next?: string }> {
    return this.call('GET', `/v1/messages/${enc(messageId)}/attempts`);
  }
  listDeliveries(
    subscriptionId: string,
    opts: { state?: 'pending' | 'failed'; limit?: number; cursor?: string } = {},
  ): Promise<{ deliveries: Delivery[]; next?: string }> {
    return this.call('GET', `/v1/subscriptions/${enc(subscriptionId)}/deliveries${query(opts)}`);
  }
  retryFailed(subscriptionId: string): Promise<{ retried: number }> {
    return this.call('POST', `/v1/subscriptions/${enc(subscriptionId)}/retry-failed`);
  }

  // Queues

  createQueue(name: string, config: Partial<QueueConfig> = {}): Promise<Queue> {
    return this.call('PUT', `/v1/queues/${enc(name)}`, config);
  }
  updateQueue(name: string, config: Partial<QueueConfig>): Promise<Queue> {
    return this.call('PATCH', `/v1/queues/${enc(name)}`, config);
  }
  getQueue(name: string): Promise<Queue & { stats: QueueStats }> {
    return this.call('GET', `/v1/queues/${enc(name)}`);
  }
  async listQueues(): Promise<Queue[]> {
    return (await this.call<{ queues: Queue[] }>('GET', '/v1/queues')).queues;
  }
  async deleteQueue(name: string): Promise<void> {
    await this.call('DELETE', `/v1/queues/${enc(name)}`);
  }
  send(queue: string, message: MessageInput): Promise<{ id: string; duplicate?: boolean }> {
    return this.call('POST', `/v1/queues/${enc(queue)}/messages`, message, { retry: 'refused-only' });
  }
  sendBatch(queue: string, messages: MessageInput[]): Promise<{ results: BatchResult[] }> {
    return this.call('POST', `/v1/queues/${enc(queue)}/messages/batch`, { messages }, { retry: 'refused-only' });
  }
  async receive(
    queue: string,
    opts: { max?: number; waitSeconds?: number; visibilityTimeoutSeconds?: number } = {},
  ): Promise<ReceivedMessage[]> {
    const extra = (opts.waitSeconds ?? 0) * 1000;
    return (
      await this.call<{ messages: ReceivedMessage[] }>('POST', `/v1/queues/${enc(queue)}/receive`, opts, {
        extraTimeoutMs: extra,
      })
    ).messages;
  }
  ack(queue: string, receipts: string[]): Promise<AckResult> {
    return this.call('POST', `/v1/queues/${enc(queue)}/ack`, { receipts });
  }
  async changeVisibility(queue: string, receipt: string, visibilityTimeoutSeconds: number): Promise<void> {
    await this.call('POST', `/v1/queues/${enc(queue)}/visibility`, { receipt, visibilityTimeoutSeconds });
  }
  purge(queue: string): Promise<{ purged: number }> {
    return this.call('DELETE', `/v1/queues/${enc(queue)}/messages`);
  }
  redrive(queue: string, opts: { max?: number } = {}): Promise<{ moved: number }> {
    return this.call('POST', `/v1/queues/${enc(queue)}/redrive`, opts);
  }

  // Operations

  async health(): Promise<boolean> {
    try {
      await this.call('GET', '/healthz');
      return true;
    } catch {
      return false;
    }
  }
  async ready(): Promise<boolean> {
    try {
      await this.call('GET', '/readyz');
      return true;
    } catch {
      return false;
    }
  }
  metrics(): Promise<string> {
    return this.call('GET', '/metrics', undefined, { text: true });
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { retry?: Retry; extraTimeoutMs?: number; text?: boolean } = {},
  ): Promise<T> {
    const retry: Retry = opts.retry ?? 'always';
    const headers: Record<string, string> = {};
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const timeout = this.timeoutMs + (opts.extraTimeoutMs ?? 0);
    let lastError: unknown;
    for (let tried = 0; tried < this.urls.length; tried++) {
      const base = this.urls[this.next++ % this.urls.length];
      let res;
      try {
        res = await request(base + path, {
          method: method as 'GET',
          headers,
          body: payload,
          dispatcher: this.agent,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
      } catch (error) {
        lastError = error;
        if (retry === 'always' || codeOf(error) === 'ECONNREFUSED') continue;
        break;
      }
      const text = await res.body.text();
      if (res.statusCode >= 400) {
        let code = 'http_error';
        let message = `HTTP ${res.statusCode}`;
        try {
          const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
          if (parsed.error?.code) code = parsed.error.code;
          if (parsed.error?.message) message = parsed.error.message;
        } catch {
          /* not a JSON error body */
        }
        throw new HeraldError(res.statusCode, code, message);
      }
      if (opts.text) return text as T;
      return (text ? JSON.parse(text) : undefined) as T;
    }
    throw new HeraldError(
      0,
      'connection_failed',
      `cannot reach Herald at ${this.urls.join(', ')}: ${describe(lastError)}`,
      { cause: lastError },
    );
  }
}

const enc = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
    .join('&');
  return q ? `?${q}` : '';
}

function codeOf(error: unknown): string | undefined {
  let e = error as { code?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 4; i++) {
    if (e.code && e.code.startsWith('E')) return e.code;
    e = e.cause as typeof e;
  }
  return (error as { code?: string } | undefined)?.code;
}

function describe(error: unknown): string {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
