/**
 * The cluster bus (seed 003's "notify the others"): carries this node's signals to every
 * other node sharing the database, over Redis pub/sub, so a message committed on one node
 * wakes long-polling receivers and delivery lanes on all of them at once instead of on
 * their next poll.
 *
 * Pub/sub is at-most-once: a node that is disconnected misses what was said meanwhile.
 * That is safe because signals only ever say "look now"; the store stays the truth, and
 * every part that listens also re-checks on its own, slower, schedule. When the
 * subscription comes back after a drop, the bus raises `resync` locally so caches are
 * dropped and every lane and waiting receive looks again.
 *
 * Signals raised in one event-loop turn go out as one Redis message, de-duplicated: a
 * node publishing 10,000 messages a second to one topic sends a handful of bus messages,
 * not 10,000.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BreakerNews, Signals } from '../signals.js';

export interface RedisBusOptions {
  url: string;
  /** Key and channel prefix: nodes with the same prefix form one cluster. */
  prefix: string;
  /** This node's id; a node ignores its own messages (it already acted on them). */
  nodeId: string;
  /** Count this node among the delivery nodes (shares of rate limits while Redis is away). */
  delivery: boolean;
  logger: Logger;
}

/** How often a delivery node says it is alive, and how long until a silent one is not counted. */
const HEARTBEAT_MS = 2_000;
const NODE_EXPIRY_MS = 10_000;

/** One bus message: the signals of one turn, by channel. */
interface Envelope {
  n: string;
  q?: string[];
  d?: string[];
  s?: string[];
  t?: string[];
  /** Breaker news: [origin, openMs]. */
  b?: Array<[string, number]>;
}

/** Reconnect quickly at first, then every 2 s; never give up (the fallback path covers the gap). */
export const redisRetryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

export class RedisBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channel: string;
  private pending = this.empty();
  private heartbeat: NodeJS.Timeout | null = null;
  private deliveryNodes = 1;
  private flushScheduled = false;
  private subscribed = false;
  /** The subscription dropped at some point: the next time it is back, raise resync. */
  private missedSome = false;
  private stopped = false;
  /** The subscription being (re)made after the last 'ready'. */
  private joining: Promise<void> = Promise.resolve();
  /** Bus messages sent and received (diagnostics, tests). */
  readonly stats = { sent: 0, received: 0, resyncs: 0 };

  constructor(
    private readonly signals: Signals,
    private readonly opts: RedisBusOptions,
  ) {
    this.channel = `${opts.prefix}:signals`;
    const common = {
      lazyConnect: true,
      retryStrategy: redisRetryStrategy,
      // A signal that cannot be sent now is worthless later: fail fast instead of queueing.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: `herald:${opts.nodeId}`,
    };
    this.pub = new Redis(opts.url, common);
    this.sub = new Redis(opts.url, { ...common, enableOfflineQueue: true });
    for (const client of [this.pub, this.sub]) {
      // Without a listener ioredis prints every failed reconnect; the state is logged below.
      client.on('error', () => {});
    }
    this.sub.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.receive(text);
    });
    this.sub.on('ready', () => {
      this.joining = this.onSubscriberReady();
    });
    this.sub.on('close', () => {
      if (this.stopped) return;
      if (this.subscribed) opts.logger.warn('cluster bus lost Redis; falling back to polling until it is back');
      this.subscribed = false;
      this.missedSome = true;
    });

    signals.queueMessages.relay = (q) => this.add('q', q);
    // A node with its own delivery engine sends what it creates itself; telling the other
    // engines too would only have them all race for the same rows (measured: three nodes
    // relaying every publish delivered at a third of one node's rate). They still find
    // work this node cannot keep up with on their sweep. API-only nodes must relay.
    if (!opts.delivery) {
      signals.deliveriesDue.relay = (ids) => {
        for (const id of ids) this.add('d', id);
      };
    }
    signals.subscriptionChanged.relay = (id) => this.add('s', id);
    signals.topicChanged.relay = (name) => this.add('t', name);
    signals.breaker.relay = (news) => {
      this.pending.b.set(news.origin, news.openMs);
      this.schedule();
    };
  }

  /** The connection for commands (shared rate limits); fails fast while Redis is away. */
  get client(): Redis {
    return this.pub;
  }

  /** Delivery nodes seen alive in the last few seconds (at least this one). */
  nodes(): number {
    return this.deliveryNodes;
  }

  /**
   * Connect. A Redis that is down at start is not fatal: the node runs on the polling path
   * and joins the bus when Redis comes back.
   */
  async start(): Promise<void> {
    await Promise.allSettled([this.pub.connect(), this.sub.connect()]);
    await this.joining;
    if (!this.subscribed) {
      this.opts.logger.warn({ redis: redactUrl(this.opts.url) }, 'Redis unreachable; polling until it is');
    }
    await this.beat();
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    if (this.pub.status !== 'ready') return;
    const key = `${this.opts.prefix}:nodes`;
    const now = Date.now();
    try {
      const multi = this.pub.multi();
      if (this.opts.delivery) multi.zadd(key, now, this.opts.nodeId);
      multi
        .zremrangebyscore(key, '-inf', now - NODE_EXPIRY_MS)
        .zcard(key)
        .pexpire(key, NODE_EXPIRY_MS * 3);
      const replies = await multi.exec();
      const count = replies?.[replies.length - 2]?.[1];
      if (typeof count === 'number') this.deliveryNodes = Math.max(1, count);
    } catch {
      /* Redis away: keep the last count */
    }
  }

  /** True while this node both hears the others and can speak to them. */
  healthy(): boolean {
    return this.subscribed && this.pub.status === 'ready';
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.opts.delivery && this.pub.status === 'ready') {
      await this.pub.zrem(`${this.opts.prefix}:nodes`, this.opts.nodeId).catch(() => {});
    }
    this.flush();
    this.stopped = true;
    for (const channel of [
      this.signals.queueMessages,
      this.signals.deliveriesDue,
      this.signals.subscriptionChanged,
      this.signals.topicChanged,
    ]) {
      channel.relay = null;
    }
    this.signals.breaker.relay = null;
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private async onSubscriberReady(): Promise<void> {
    try {
      // ioredis re-subscribes by itself after a reconnect; the first time, it is ours to do.
      if (!this.subscribed) await this.sub.subscribe(this.channel);
    } catch (error) {
      this.opts.logger.warn({ err: error }, 'subscribing to the cluster bus failed');
      return;
    }
    this.subscribed = true;
    if (this.missedSome) {
      this.missedSome = false;
      this.stats.resyncs++;
      this.opts.logger.info('cluster bus back; re-checking for work signalled meanwhile');
      this.signals.resync.deliver();
    }
  }

  private empty() {
    return {
      q: new Set<string>(),
      d: new Set<string>(),
      s: new Set<string>(),
      t: new Set<string>(),
      b: new Map<string, number>(),
    };
  }

  private add(kind: 'q' | 'd' | 's' | 't', value: string): void {
    this.pending[kind].add(value);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const p = this.pending;
    if (p.q.size + p.d.size + p.s.size + p.t.size + p.b.size === 0) return;
    this.pending = this.empty();
    const message: Envelope = { n: this.opts.nodeId };
    if (p.q.size) message.q = [...p.q];
    if (p.d.size) message.d = [...p.d];
    if (p.s.size) message.s = [...p.s];
    if (p.t.size) message.t = [...p.t];
    if (p.b.size) message.b = [...p.b];
    if (this.pub.status !== 'ready') return; // the others will find the work by polling
    this.stats.sent++;
    this.pub.publish(this.channel, JSON.stringify(message)).catch(() => {});
  }

  private receive(text: string): void {
    let m: Envelope;
    try {
      m = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (m.n === this.opts.nodeId) return;
    this.stats.received++;
    // Metadata first: a publish woken by `d` must not use the cached entry `t` invalidates.
    for (const name of m.t ?? []) this.signals.topicChanged.deliver(name);
    for (const id of m.s ?? []) this.signals.subscriptionChanged.deliver(id);
    if (m.d?.length) this.signals.deliveriesDue.deliver(m.d);
    for (const q of m.q ?? []) this.signals.queueMessages.deliver(q);
    for (const [origin, openMs] of m.b ?? []) {
      const news: BreakerNews = { origin, openMs };
      this.signals.breaker.deliver(news);
    }
  }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
