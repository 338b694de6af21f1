/**
 * The typed Herald client, used by the CLI, the tests and the benchmarks.
 *
 * Several base URLs may be given: requests take them in turn (round-robin), and a request
 * that gets no answer from one node moves on to the next. Requests that are safe to repeat
 * (GET, PUT, DELETE, and the receive/ack/visibility POSTs) fail over on any connection
 * error. Everything else (publish, send, subscribe, PATCH, ...) fails over only when the
 * connection was refused, meaning the request never reached a server, so failover never
 * silently publishes twice. An HTTP error answer never fails over: it is the answer.
 */
import { Agent } from 'undici';
import type { MessageInput, Queue, QueueConfig, ReceivedMessage, Subscription, Topic } from '../types.js';
import type {
  AckResult,
  AttemptPage,
  BatchResponse,
  ClientOptions,
  DeliveryPage,
  ListAttemptsOptions,
  ListDeliveriesOptions,
  ListTopicsOptions,
  PublishResult,
  QueueDetail,
  ReceiveOptions,
  RedriveOptions,
  SubscribeOptions,
  SubscriptionPatch,
  TopicDetail,
  TopicPage,
} from './api-types.js';
import { HeraldError } from './errors.js';

type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** `any`: fail over on every connection error; `refused`: only when the connection was refused. */
type Failover = 'any' | 'refused';

interface RequestOptions {
  /** Default: `any` for GET, PUT and DELETE, `refused` for the rest. */
  failover?: Failover;
  /** Added to the client's timeout (a long-polling receive). */
  extraTimeoutMs?: number;
  /** Return the body as text instead of parsing JSON. */
  text?: boolean;
  /** Send the API key (default true; probes go without). */
  auth?: boolean;
}

const IDEMPOTENT = new Set<Method>(['GET', 'PUT', 'DELETE']);
const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 30_000;

export class HeraldClient {
  /** The base URLs, without trailing slashes. */
  readonly urls: readonly string[];
  private readonly bases: ReadonlyArray<{ origin: string; prefix: string }>;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  private nextUrl = 0;

  constructor(opts: ClientOptions = {}) {
    this.urls = parseUrls(opts.url ?? process.env.HERALD_URL ?? DEFAULT_URL);
    // Origin and path go to undici apart, so encoded segments such as `..` reach the server as they are.
    this.bases = this.urls.map((u) => {
      const parsed = new URL(u);
      return { origin: parsed.origin, prefix: parsed.pathname.replace(/\/+$/, '') };
    });
    this.apiKey = opts.apiKey ?? process.env.HERALD_API_KEY;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Close the client's connections. */
  close(): Promise<void> {
    return this.agent.close();
  }

  // Topics

  /** Create a topic (FIFO when the name ends in `.fifo`); an existing topic is returned as it is. */
  createTopic(name: string, config: { contentBasedDeduplication?: boolean } = {}): Promise<Topic> {
    return this.request('PUT', `/v1/topics/${enc(name)}`, Object.keys(config).length > 0 ? config : undefined);
  }

  getTopic(name: string): Promise<TopicDetail> {
    return this.request('GET', `/v1/topics/${enc(name)}`);
  }

  listTopics(opts: ListTopicsOptions = {}): Promise<TopicPage> {
    return this.request('GET', `/v1/topics${query({ limit: opts.limit, cursor: opts.cursor })}`);
  }

  /** Delete a topic with its subscriptions and their pending deliveries. */
  async deleteTopic(name: string): Promise<void> {
    await this.request('DELETE', `/v1/topics/${enc(name)}`);
  }

  // Publishing

  /** Publish one message; resolves once it is durable. */
  publish(topic: string, message: MessageInput): Promise<PublishResult> {
    return this.request('POST', `/v1/topics/${enc(topic)}/messages`, message);
  }

  /** Publish several messages; each entry of `results` reports its message, in order. */
  publishBatch(topic: string, messages: MessageInput[]): Promise<BatchResponse> {
    return this.request('POST', `/v1/topics/${enc(topic)}/messages/batch`, { messages });
  }

  // Subscriptions

  subscribe(topic: string, opts: SubscribeOptions): Promise<Subscription> {
    return this.request('POST', `/v1/topics/${enc(topic)}/subscriptions`, opts);
  }

  async listSubscriptions(topic: string): Promise<Subscription[]> {
    const page = await this.request<{ subscriptions: Subscription[] }>('GET', `/v1/topics/${enc(topic)}/subscriptions`);
    return page.subscriptions;
  }

  getSubscription(id: string): Promise<Subscription> {
    return this.request('GET', `/v1/subscriptions/${enc(id)}`);
  }

  updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    return this.request('PATCH', `/v1/subscriptions/${enc(id)}`, patch);
  }

  /** Delete a subscription and its pending deliveries. */
  async unsubscribe(id: string): Promise<void> {
    await this.request('DELETE', `/v1/subscriptions/${enc(id)}`);
  }

  /** The attempt log of a subscription, newest first. */
  listAttempts(subscriptionId: string, opts: ListAttemptsOptions = {}): Promise<AttemptPage> {
    const q = query({ messageId: opts.messageId, limit: opts.limit, cursor: opts.cursor });
    return this.request('GET', `/v1/subscriptions/${enc(subscriptionId)}/attempts${q}`);
  }

  /** Every attempt to deliver one message, across subscriptions. */
  listMessageAttempts(messageId: string): Promise<AttemptPage> {
    return this.request('GET', `/v1/messages/${enc(messageId)}/attempts`);
  }

  listDeliveries(subscriptionId: string, opts: ListDeliveriesOptions = {}): Promise<DeliveryPage> {
    const q = query({ state: opts.state, limit: opts.limit, cursor: opts.cursor });
    return this.request('GET', `/v1/subscriptions/${enc(subscriptionId)}/deliveries${q}`);
  }

  /** Give the subscription's failed deliveries a fresh set of attempts. */
  retryFailed(subscriptionId: string): Promise<{ retried: number }> {
    return this.request('POST', `/v1/subscriptions/${enc(subscriptionId)}/retry-failed`);
  }

  // Queues

  /** Create a queue; an existing queue with the same settings is returned as it is. */
  createQueue(name: string, config: Partial<QueueConfig> = {}): Promise<Queue> {
    return this.request('PUT', `/v1/queues/${enc(name)}`, config);
  }

  /** Change some settings of an existing queue. */
  updateQueue(name: string, config: Partial<QueueConfig>): Promise<Queue> {
    return this.request('PATCH', `/v1/queues/${enc(name)}`, config);
  }

  getQueue(name: string): Promise<QueueDetail> {
    return this.request('GET', `/v1/queues/${enc(name)}`);
  }

  async listQueues(): Promise<Queue[]> {
    return (await this.request<{ queues: Queue[] }>('GET', '/v1/queues')).queues;
  }

  /** Delete a queue and its messages. */
  async deleteQueue(name: string): Promise<void> {
    await this.request('DELETE', `/v1/queues/${enc(name)}`);
  }

  send(queue: string, message: MessageInput): Promise<PublishResult> {
    return this.request('POST', `/v1/queues/${enc(queue)}/messages`, message);
  }

  sendBatch(queue: string, messages: MessageInput[]): Promise<BatchResponse> {
    return this.request('POST', `/v1/queues/${enc(queue)}/messages/batch`, { messages });
  }

  /** Receive up to `max` messages; with `waitSeconds`, waits that long for a first one. */
  async receive(queue: string, opts: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const body: ReceiveOptions = {
      max: opts.max,
      waitSeconds: opts.waitSeconds,
      visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds,
    };
    const answer = await this.request<{ messages: ReceivedMessage[] }>(
      'POST',
      `/v1/queues/${enc(queue)}/receive`,
      body,
      { failover: 'any', extraTimeoutMs: (opts.waitSeconds ?? 0) * 1000 },
    );
    return answer.messages;
  }

  /** Delete received messages by receipt; receipts that no longer hold are reported in `failed`. */
  ack(queue: string, receipts: string[]): Promise<AckResult> {
    return this.request('POST', `/v1/queues/${enc(queue)}/ack`, { receipts }, { failover: 'any' });
  }

  /** Hide a received message for another `visibilityTimeoutSeconds` (0 makes it visible now). */
  async changeVisibility(queue: string, receipt: string, visibilityTimeoutSeconds: number): Promise<void> {
    await this.request(
      'POST',
      `/v1/queues/${enc(queue)}/visibility`,
      { receipt, visibilityTimeoutSeconds },
      { failover: 'any' },
    );
  }

  /** Delete every message of a queue. */
  purge(queue: string): Promise<{ purged: number }> {
    return this.request('DELETE', `/v1/queues/${enc(queue)}/messages`);
  }

  /** Move messages of a dead-letter queue back to the queues or subscriptions they came from. */
  redrive(queue: string, opts: RedriveOptions = {}): Promise<{ moved: number }> {
    return this.request('POST', `/v1/queues/${enc(queue)}/redrive`, { max: opts.max });
  }

  // Operations

  /** Liveness: true when the node answers /healthz with 2xx. Sends no credentials. */
  health(): Promise<boolean> {
    return this.probe('/healthz');
  }

  /** Readiness: true when the node answers /readyz with 2xx. Sends no credentials. */
  ready(): Promise<boolean> {
    return this.probe('/readyz');
  }

  /** Prometheus metrics, as text. */
  metrics(): Promise<string> {
    return this.request('GET', '/metrics', undefined, { text: true });
  }

  private async probe(path: string): Promise<boolean> {
    try {
      await this.request('GET', path, undefined, { auth: false, text: true });
      return true;
    } catch (error) {
      if (error instanceof HeraldError) return false;
      throw error;
    }
  }

  /**
   * The one place requests are made: auth, JSON, error answers, timeouts, failover.
   * Resolves with the parsed body (undefined for an empty one); rejects with HeraldError.
   */
  private async request<T>(method: Method, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    const failover = opts.failover ?? (IDEMPOTENT.has(method) ? 'any' : 'refused');
    const headers: Record<string, string> = { accept: opts.text ? '*/*' : 'application/json' };
    if (this.apiKey && opts.auth !== false) headers.authorization = `Bearer ${this.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const timeout = this.timeoutMs + (opts.extraTimeoutMs ?? 0);

    const start = this.nextUrl;
    this.nextUrl = (this.nextUrl + 1) % this.urls.length;
    const failures: Array<{ url: string; error: unknown }> = [];
    for (let i = 0; i < this.urls.length; i++) {
      const base = this.bases[(start + i) % this.bases.length];
      const url = base.origin + base.prefix + path;
      let status: number;
      let text: string;
      try {
        const res = await this.agent.request({
          origin: base.origin,
          path: base.prefix + path,
          method,
          headers,
          body: payload,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (error) {
        failures.push({ url, error });
        if (failover === 'any' || isRefused(error)) continue;
        break;
      }
      if (status < 200 || status >= 300) throw HeraldError.fromResponse(status, text);
      if (opts.text) return text as T;
      if (text === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new HeraldError(status, 'invalid_response', `${method} ${url}: the answer is not JSON`, {
          cause: error,
        });
      }
    }
    const last = failures[failures.length - 1];
    const detail = failures.map((f) => `${f.url}: ${describe(f.error, timeout)}`).join('; ');
    throw new HeraldError(0, 'connection_failed', `no answer from Herald: ${method} ${detail}`, {
      cause: last?.error,
    });
  }
}

/** Split, trim and check base URLs. */
function parseUrls(raw: string | string[]): string[] {
  const urls = (Array.isArray(raw) ? raw : [raw])
    .flatMap((u) => u.split(','))
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (urls.length === 0) throw new TypeError('HeraldClient needs at least one URL');
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new TypeError(`not a URL: "${u}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`Herald URLs are http:// or https://, got "${u}"`);
    }
  }
  return urls;
}

const enc = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
    .join('&');
  return q ? `?${q}` : '';
}

/** The first error code on the error, its causes, or (happy eyeballs) its aggregated errors. */
function codeOf(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  const fromCause = codeOf(e.cause, depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = codeOf(inner, depth + 1);
      if (code) return code;
    }
  }
  return undefined;
}

function isRefused(error: unknown): boolean {
  return codeOf(error) === 'ECONNREFUSED';
}

function describe(error: unknown, timeoutMs: number): string {
  const code = codeOf(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  const message = error instanceof Error ? error.message : String(error);
  if (!message) return code ?? 'unknown error';
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
