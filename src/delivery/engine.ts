/**
 * The delivery engine (the seeds' "Sender"): moves pending deliveries to webhook endpoints.
 *
 * Each push subscription has a *lane*: its own buffer of leased deliveries, its own
 * concurrency and rate limit. Lanes never wait on each other, so one slow or dead endpoint
 * only ever holds up its own deliveries. Work arrives three ways:
 *  - a commit signals `deliveriesDue` for the subscriptions it created deliveries for;
 *  - a lane that ran dry asks the store when its next delivery is due and sets a timer;
 *  - a slow sweep re-checks every lane, as a safety net (and for other nodes' work).
 * With several nodes on one database (`shared`), the sweep also looks at lanes waiting on a
 * timer (another node may have created earlier work), and the set of lanes is re-read from
 * the store every `resyncIntervalMs`, so subscriptions made on other nodes are served even
 * when their signals were lost.
 *
 * Every endpoint origin has a circuit breaker. While it is open, lanes hand their buffered
 * deliveries back to the store, due when the breaker next allows a probe, without spending
 * an attempt: waiting on a known-dead endpoint is not the message's fault.
 *
 * Outcomes of attempts are collected and committed in batches (one commit per event-loop
 * turn), together with their attempt-log rows.
 */
import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Signals } from '../signals.js';
import type { AttemptRecord, DeliveryOutcome, LeasedDelivery, Store } from '../store/store.js';
import { attributeHeaders, envelope } from '../topics/envelope.js';
import type { SnsMessages } from '../aws/sns-messages.js';
import type { Subscription, Topic } from '../types.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { HttpSender, targetOf, type AttemptResult, type Target } from './http-sender.js';
import { ThreadedSender, type WebhookSender } from './threaded-sender.js';
import { TokenBucket, type RateGate } from './rate-limiter.js';
import { nextAttemptDelayMs } from './retry-schedule.js';
import { webhookHeaders } from './signing.js';

interface Lane {
  sub: Subscription;
  /** The endpoint, parsed once: URL getters are not free at one call per delivery. */
  target: Target;
  /** The circuit breaker of the endpoint's origin (shared by every lane to that origin). */
  breaker: CircuitBreaker;
  buffer: LeasedDelivery[];
  inFlight: number;
  bucket: RateGate | null;
  /** The store may hold due deliveries for this lane. */
  hot: boolean;
  fetching: boolean;
  timer: NodeJS.Timeout | null;
  timerAt: number;
  /** After a failed lease: no new attempt to lease before this time, whoever asks. */
  notBefore: number;
  removed: boolean;
}

export interface EngineHooks {
  /** Called when an endpoint answers 410 Gone. */
  disableSubscription(id: string, reason: string): Promise<void>;
}

export interface EngineOptions {
  /** Other nodes share the store (see the header). */
  shared?: boolean;
  /** With `shared`: how often the lanes are re-read from the store's subscriptions. */
  resyncIntervalMs?: number;
  /**
   * Makes the rate limiter of a subscription with `maxPerSecond` (default: a TokenBucket on
   * this node). `wake` sends the lane's waiting deliveries when tokens arrive.
   */
  rateGate?: (subscriptionId: string, ratePerSecond: number, wake: () => void) => RateGate;
  /** Frames and signs deliveries of `sns`-style subscriptions (see src/aws/sns-messages.ts). */
  sns?: { messages: SnsMessages; topic: (name: string) => Promise<Topic | null> };
}

/**
 * Outcomes wait this long (or until OUTCOME_BATCH of them) before being committed. Each
 * commit rewrites whole pages of the same tables, so committing a few milliseconds of
 * outcomes at once costs far less per delivery than committing each turn's handful. The
 * receiver already has its message; only the bookkeeping waits.
 */
const OUTCOME_FLUSH_MS = 20;
const OUTCOME_BATCH = 2048;
/** A delivery its sender could not send (`notSent`) is due again after this long. */
const NOT_SENT_RETRY_MS = 1_000;

export class DeliveryEngine {
  private lanes = new Map<string, Lane>();
  private breakers = new Map<string, CircuitBreaker>();
  private inFlight = 0;
  private outcomes: DeliveryOutcome[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  /** Lanes to look at on the next pump; signals name lanes so a publish does not scan them all. */
  private dirty = new Set<Lane>();
  /** Lanes holding deliveries but stopped by the global concurrency limit. */
  private starved = new Set<Lane>();
  private running = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  private idle: Array<() => void> = [];
  private pendingCommits = new Set<Promise<unknown>>();
  private readonly sender: WebhookSender;
  /** Set by stop() once it stops waiting for requests in flight: their answers are dropped. */
  private abandoned = false;
  /** Counters for tests and diagnostics. */
  readonly stats = { leaseQueries: 0, attempts: 0 };

  constructor(
    private readonly store: Store,
    private readonly signals: Signals,
    private readonly config: DeliveryConfig,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly hooks: EngineHooks,
    private readonly opts: EngineOptions = {},
  ) {
    this.sender =
      config.senderThreads > 0
        ? new ThreadedSender({
            threads: config.senderThreads,
            connectionsPerOrigin: config.connectionsPerOrigin,
            onThreadError: (error) => log.error({ err: error }, 'webhook sender thread failed'),
          })
        : new HttpSender({ connectionsPerOrigin: config.connectionsPerOrigin });
    metrics.setInFlightSource(() => this.inFlight);
  }

  async start(): Promise<void> {
    // Sender threads load their HTTP client first; deliveries wait for it, not in a thread's
    // inbox. A thread that cannot start stops Herald starting.
    try {
      await this.sender.ready();
    } catch (error) {
      await this.sender.destroy();
      throw error;
    }
    this.running = true;
    await this.syncLanes();
    this.unsubscribe.push(
      this.signals.deliveriesDue.on((ids) => {
        for (const id of ids) {
          const lane = this.lanes.get(id);
          if (lane) {
            lane.hot = true;
            this.dirty.add(lane);
          }
        }
        this.schedulePump(false);
      }),
      this.signals.subscriptionChanged.on((id) => void this.reloadLane(id)),
      this.signals.resync.on(() => void this.resync()),
      this.signals.breaker.on((news) => this.followBreaker(news.origin, news.openMs)),
    );
    this.sweepTimer = setInterval(() => void this.sweep(), this.config.pollIntervalMs);
    this.sweepTimer.unref();
    if (this.opts.shared) {
      const timer = setInterval(
        () => void this.syncLanes().catch((error) => this.log.warn({ err: error }, 're-reading subscriptions failed')),
        this.opts.resyncIntervalMs ?? 5_000,
      );
      timer.unref();
      this.unsubscribe.push(() => clearInterval(timer));
    }
    this.schedulePump();
  }

  /**
   * Stop taking work, hand buffered deliveries back, and wait up to `graceMs` for requests
   * in flight. Whatever is still in flight after that stays leased and is retried after a
   * restart: at least once, never lost.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) {
      await this.sender.destroy(); // never started, or already stopped: only threads to end
      return;
    }
    this.running = false;
    for (const off of this.unsubscribe) off();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // Requests waiting in the sender come back unsent and are handed back with the buffers.
    this.sender.cancelQueued({});
    const released: string[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.timer) clearTimeout(lane.timer);
      for (const d of lane.buffer) released.push(d.deliveryId);
      lane.buffer = [];
    }
    await this.store.releaseDeliveries(released, Date.now());
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    // What is still in flight is abandoned: its answers (the aborts below among them) are not
    // recorded, so those deliveries stay leased and go out again after a restart.
    this.abandoned = true;
    this.flushOutcomes();
    await Promise.allSettled([...this.pendingCommits]);
    await this.sender.destroy();
  }

  /** Let a stop() waiting for the requests in flight go on once none is left. */
  private wakeStop(): void {
    if (this.inFlight === 0 && this.idle.length > 0) for (const fn of this.idle.splice(0)) fn();
  }

  /** Deliveries being sent right now (for readiness and tests). */
  get inFlightCount(): number {
    return this.inFlight;
  }

  // --- Lanes ----------------------------------------------------------------------------

  private upsertLane(sub: Subscription): void {
    const existing = this.lanes.get(sub.id);
    if (sub.protocol === 'queue' || sub.status !== 'active') {
      if (existing) this.removeLane(existing);
      return;
    }
    const rate = sub.deliveryPolicy.maxPerSecond;
    if (existing) {
      const endpointChanged = existing.sub.endpoint !== sub.endpoint;
      // What waits in the sender was handed over under the old endpoint, without a rate limit
      // or for a higher concurrency: withdraw it (it goes back to the store, no attempt spent).
      const lowered = sub.deliveryPolicy.maxConcurrency < existing.sub.deliveryPolicy.maxConcurrency;
      if (endpointChanged || lowered || (rate > 0 && !existing.bucket)) this.sender.cancelQueued({ key: sub.id });
      existing.sub = sub;
      if (endpointChanged) {
        existing.target = targetOf(sub.endpoint);
        existing.breaker = this.breakerFor(existing.target.origin);
      }
      if (rate > 0 && existing.bucket) existing.bucket.setRate(rate, Date.now());
      else existing.bucket = rate > 0 ? this.rateGate(existing, rate) : null;
      existing.hot = true;
      return;
    }
    const target = targetOf(sub.endpoint);
    const lane: Lane = {
      sub,
      target,
      breaker: this.breakerFor(target.origin),
      buffer: [],
      inFlight: 0,
      bucket: null,
      hot: true,
      fetching: false,
      timer: null,
      timerAt: Infinity,
      notBefore: 0,
      removed: false,
    };
    if (rate > 0) lane.bucket = this.rateGate(lane, rate);
    this.lanes.set(sub.id, lane);
  }

  private rateGate(lane: Lane, rate: number): RateGate {
    const make = this.opts.rateGate;
    if (!make) return new TokenBucket(rate, undefined, Date.now());
    return make(lane.sub.id, rate, () => {
      if (this.running && !lane.removed) this.drain(lane);
    });
  }

  private removeLane(lane: Lane): void {
    lane.removed = true;
    this.sender.cancelQueued({ key: lane.sub.id });
    if (lane.timer) clearTimeout(lane.timer);
    this.lanes.delete(lane.sub.id);
    const ids = lane.buffer.map((d) => d.deliveryId);
    lane.buffer = [];
    // If the subscription was deleted these rows are gone and this is a no-op; if it was
    // disabled they wait, pending, until it is enabled again.
    this.commit(this.store.releaseDeliveries(ids, Date.now()));
  }

  /** Make the lanes match the store's subscriptions (new, changed and deleted ones). */
  private async syncLanes(): Promise<void> {
    const subs = await this.store.listAllSubscriptions();
    if (!this.running) return;
    const seen = new Set<string>();
    for (const sub of subs) {
      seen.add(sub.id);
      const lane = this.lanes.get(sub.id);
      // Unchanged lanes keep their state (and their `hot` flag); upsert would mark them hot.
      if (lane && JSON.stringify(lane.sub) === JSON.stringify(sub)) continue;
      this.upsertLane(sub);
      // A new or changed lane is hot; the sweep leaves hot lanes to the pump, so pump it.
      const updated = this.lanes.get(sub.id);
      if (updated) this.dirty.add(updated);
    }
    for (const lane of [...this.lanes.values()]) if (!seen.has(lane.sub.id)) this.removeLane(lane);
    this.schedulePump(false);
  }

  /** Signals may have been missed: re-read the subscriptions and look for work everywhere. */
  private async resync(): Promise<void> {
    try {
      await this.syncLanes();
    } catch (error) {
      this.log.warn({ err: error }, 're-reading subscriptions failed');
      return;
    }
    for (const lane of this.lanes.values()) lane.hot = true;
    this.schedulePump();
  }

  private async reloadLane(id: string): Promise<void> {
    const sub = await this.store.getSubscription(id);
    if (!this.running) return;
    if (sub) this.upsertLane(sub);
    else {
      const lane = this.lanes.get(id);
      if (lane) this.removeLane(lane);
    }
    this.schedulePump();
  }

  /** Wake a lane at `atMs` (keeps the earliest requested time). */
  private wakeAt(lane: Lane, atMs: number): void {
    if (!this.running || lane.removed) return;
    atMs = Math.max(atMs, lane.notBefore);
    if (lane.timer && lane.timerAt <= atMs) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timerAt = atMs;
    lane.timer = setTimeout(
      () => {
        lane.timer = null;
        lane.timerAt = Infinity;
        lane.hot = true;
        this.pumpLane(lane);
      },
      Math.max(0, atMs - Date.now()),
    );
  }

  // --- Dispatch -------------------------------------------------------------------------

  /** Pump the dirty lanes at the next turn (every lane when `all`). */
  private schedulePump(all = true): void {
    if (all) for (const lane of this.lanes.values()) this.dirty.add(lane);
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const lanes = this.dirty;
      this.dirty = new Set();
      for (const lane of lanes) this.pumpLane(lane);
    });
  }

  private pumpLane(lane: Lane): void {
    if (!this.running || lane.removed) return;
    this.drain(lane);
    if (!lane.hot || lane.fetching) return;
    const now = Date.now();
    if (now < lane.notBefore) {
      this.wakeAt(lane, lane.notBefore);
      return;
    }
    // Do not lease work for an endpoint whose breaker is open; come back when it may probe.
    const breaker = lane.breaker;
    if (breaker.state(now) === 'open') {
      const gate = breaker.acquire(now);
      if (!gate.allowed) {
        this.wakeAt(lane, gate.retryAtMs);
        return;
      }
      breaker.release();
    }
    void this.fetch(lane);
  }

  /**
   * Whether the sender keeps this lane's concurrency limit itself (see WebhookSender.queues),
   * so the lane may hand it up to twice the limit: the next request is already there when one
   * ends. Not for rate-limited lanes, whose token is taken at the hand-off.
   */
  private queuesAhead(lane: Lane): boolean {
    return this.sender.queues && !lane.bucket;
  }

  /** How many of a lane's deliveries may be with the sender at once (sent, or queued there). */
  private window(lane: Lane): number {
    const limit = lane.sub.deliveryPolicy.maxConcurrency;
    return this.queuesAhead(lane) ? limit * 2 : limit;
  }

  /** How many leased deliveries a lane keeps at hand: enough to stay busy, few enough to drain quickly. */
  private target(lane: Lane): number {
    const p = lane.sub.deliveryPolicy;
    const byConcurrency = Math.max(8, this.window(lane) * 2);
    return p.maxPerSecond > 0
      ? Math.max(1, Math.min(byConcurrency, Math.ceil(p.maxPerSecond * 2)))
      : Math.min(byConcurrency, 1000);
  }

  private async fetch(lane: Lane): Promise<void> {
    const target = this.target(lane);
    const want = target - lane.buffer.length - lane.inFlight;
    // Lease in batches: one lease per completed delivery would cost a query per delivery.
    if (want <= 0 || (want < target / 4 && lane.buffer.length > 0)) return;
    lane.fetching = true;
    try {
      const now = Date.now();
      // The attempt timeout plus a margin for time spent in the lane's buffer (and, queued in
      // the sender, behind requests of the lane bounded by the same timeout). On a shared
      // store this is also how long a dead node's deliveries wait before another node takes
      // them over.
      const timeoutMs = lane.sub.deliveryPolicy.timeoutSeconds * 1000;
      const leaseUntil = now + (this.queuesAhead(lane) ? 2 : 1) * timeoutMs + this.config.leaseMarginMs;
      this.stats.leaseQueries++;
      const leased = await this.store.leaseDeliveries(lane.sub.id, now, want, leaseUntil);
      if (lane.removed || !this.running) {
        this.commit(
          this.store.releaseDeliveries(
            leased.map((d) => d.deliveryId),
            Date.now(),
          ),
        );
        return;
      }
      lane.buffer.push(...leased);
      if (leased.length < want) {
        lane.hot = false;
        const next = await this.store.nextDueAt(lane.sub.id);
        if (next !== null) this.wakeAt(lane, next);
      }
    } catch (error) {
      this.log.error({ err: error, subscription: lane.sub.id }, 'leasing deliveries failed');
      // Not hot until the timer says so: otherwise the drain below would lease again at
      // once, and a store failing fast (database down) would spin without yielding.
      lane.hot = false;
      lane.notBefore = Date.now() + 1000;
      this.wakeAt(lane, lane.notBefore);
    } finally {
      lane.fetching = false;
    }
    this.drain(lane);
  }

  private breakerFor(origin: string): CircuitBreaker {
    let b = this.breakers.get(origin);
    if (!b) {
      b = new CircuitBreaker(this.config.breaker);
      this.breakers.set(origin, b);
    }
    return b;
  }

  private drain(lane: Lane): void {
    const window = this.window(lane);
    while (
      this.running &&
      lane.buffer.length > 0 &&
      lane.inFlight < window &&
      this.inFlight < this.config.globalConcurrency
    ) {
      const now = Date.now();
      const breaker = lane.breaker;
      const probe = breaker.state(now) === 'half_open';
      const gate = breaker.acquire(now);
      if (!gate.allowed) {
        // Hand the buffer back, due when the breaker allows a probe: no attempt is spent.
        const ids = lane.buffer.map((d) => d.deliveryId);
        lane.buffer = [];
        this.commit(this.store.releaseDeliveries(ids, gate.retryAtMs));
        lane.hot = false;
        this.wakeAt(lane, gate.retryAtMs);
        return;
      }
      if (lane.bucket) {
        const wait = lane.bucket.tryTake(now);
        if (wait > 0) {
          breaker.release();
          this.wakeAt(lane, now + wait);
          return;
        }
      }
      const delivery = lane.buffer.shift()!;
      void this.attempt(lane, delivery, breaker, lane.target, probe);
    }
    if (lane.buffer.length > 0 && this.inFlight >= this.config.globalConcurrency) this.starved.add(lane);
    if (lane.buffer.length < this.target(lane) / 2 && lane.hot && !lane.fetching && this.running) void this.fetch(lane);
  }

  /**
   * `breaker` and `target` are taken when the attempt starts: an endpoint change meanwhile
   * does not split them. `probe`: the half-open breaker's one probe.
   */
  private async attempt(
    lane: Lane,
    d: LeasedDelivery,
    breaker: CircuitBreaker,
    target: Target,
    probe: boolean,
  ): Promise<void> {
    const sub = lane.sub;
    this.inFlight++;
    lane.inFlight++;
    const attemptNo = d.attempts + 1;
    const at = Date.now();
    this.stats.attempts++;
    let result: AttemptResult;
    // Whether the request reached the sender (framing an SNS notification can fail first).
    let handedOver = false;
    try {
      const { body, headers } = sub.style === 'sns' ? await this.snsFrame(sub, d) : heraldFrame(sub, d, at);
      const limit = { key: sub.id, limit: sub.deliveryPolicy.maxConcurrency };
      handedOver = true;
      result = await this.sender.send(target, body, headers, sub.deliveryPolicy.timeoutSeconds * 1000, limit);
    } catch (error) {
      result = {
        ok: false,
        status: null,
        latencyMs: Date.now() - at,
        errorClass: 'network',
        error: String(error),
        retryAfterMs: null,
        endpointFault: true,
      };
    }
    this.inFlight--;
    lane.inFlight--;
    if (this.abandoned) return; // stop() gave up on it: it stays leased (see stop)
    if (result.notSent) {
      // Herald's own sender failed or withdrew it (a sender thread died, it is shutting down,
      // the breaker opened while it waited there): not the endpoint's doing, so no attempt is
      // spent and the breaker does not hear of it. The delivery goes back to the store, due
      // again shortly.
      if (probe) breaker.release();
      const dueAt = Date.now() + NOT_SENT_RETRY_MS;
      this.commit(this.store.releaseDeliveries([d.deliveryId], dueAt));
      this.wakeStop();
      if (this.running) this.wakeAt(lane, dueAt);
      return;
    }
    this.metrics.attemptDuration.observe(result.latencyMs / 1000);

    const now = Date.now();
    const before = breaker.state(now);
    if (result.ok || !result.endpointFault) breaker.onSuccess(now);
    else breaker.onFailure(now, probe);
    const after = breaker.state(now);
    if (!result.ok && result.endpointFault && handedOver) {
      // The sender holds the lane's waiting requests after such a failure until told: what
      // waits for this endpoint is withdrawn while its breaker is open (it goes back to the
      // store, as the buffers do), and the rest of the lane (re-pointed elsewhere) goes on.
      if (after === 'open') this.sender.cancelQueued({ origin: target.origin });
      this.sender.resumeLane(sub.id);
    }
    // Tell the other nodes, so they stop (or resume) sending to this endpoint too.
    if (after === 'open' && before !== 'open') {
      this.signals.breaker.emit({ origin: target.origin, openMs: breaker.openUntilMs - now });
    } else if (after === 'closed' && before === 'half_open') {
      this.signals.breaker.emit({ origin: target.origin, openMs: 0 });
    }
    this.outcome(lane, d, attemptNo, at, result, now);

    this.wakeStop();
    if (!this.running) return;
    this.drain(lane);
    // A global slot freed up: a lane may be waiting for one.
    for (const waiting of this.starved) {
      if (this.inFlight >= this.config.globalConcurrency) break;
      this.starved.delete(waiting);
      this.drain(waiting);
    }
  }

  /** SNS's Notification document (or the bare body when raw) with the x-amz-sns-* headers. */
  private async snsFrame(sub: Subscription, d: LeasedDelivery): Promise<Framed> {
    const sns = this.opts.sns;
    if (!sns) throw new Error('SNS-style subscription but SNS framing is not configured');
    const headers = sns.messages.notificationHeaders(sub, d.messageId);
    if (sub.raw) return { body: d.body, headers };
    const topic = await sns.topic(d.topic);
    if (!topic) throw new Error(`topic "${d.topic}" no longer exists`);
    const body = await sns.messages.notification(topic, sub, {
      messageId: d.messageId,
      body: d.body,
      subject: d.subject,
      attributes: d.attributes,
      messageAttributes: d.messageAttributes,
      publishedAtMs: d.publishedAtMs,
    });
    return { body, headers };
  }

  private outcome(lane: Lane, d: LeasedDelivery, attemptNo: number, at: number, r: AttemptResult, now: number): void {
    const sub = lane.sub;
    const attempt: AttemptRecord = {
      subscriptionId: sub.id,
      messageId: d.messageId,
      attempt: attemptNo,
      atMs: r.startedAtMs ?? at,
      status: r.status,
      latencyMs: Math.round(r.latencyMs * 100) / 100,
      ok: r.ok,
      errorClass: r.errorClass,
      error: r.error,
    };
    if (r.ok) {
      this.metrics.countDelivery('delivered');
      this.metrics.deliveryLatency.observe((now - d.publishedAtMs) / 1000);
      this.record({ kind: 'delivered', deliveryId: d.deliveryId, attempt });
      return;
    }
    if (r.status === 410) {
      const reason = `endpoint answered 410 Gone at ${new Date(now).toISOString()}`;
      this.deadLetter(sub, d, attempt, `${reason}; subscription disabled`);
      void this.hooks.disableSubscription(sub.id, reason).catch((error) => {
        this.log.error({ err: error, subscription: sub.id }, 'disabling subscription failed');
      });
      return;
    }
    if (attemptNo >= sub.deliveryPolicy.maxAttempts) {
      this.deadLetter(sub, d, attempt, `${attemptNo} attempts failed; last: ${r.error ?? 'unknown error'}`);
      return;
    }
    const delay = nextAttemptDelayMs({
      policy: sub.deliveryPolicy.backoff,
      failedAttempts: attemptNo,
      retryAfterMs: r.retryAfterMs,
      maxRetryAfterMs: this.config.maxRetryAfterSeconds * 1000,
      jitter: this.config.jitter,
    });
    this.metrics.countDelivery('retried');
    this.record({ kind: 'retry', deliveryId: d.deliveryId, dueAtMs: now + delay, attempt });
    // The delivery stays leased until its outcome is committed: wake no earlier than that.
    this.wakeAt(lane, now + Math.max(delay, OUTCOME_FLUSH_MS + 1));
  }

  private deadLetter(sub: Subscription, d: LeasedDelivery, attempt: AttemptRecord, reason: string): void {
    this.metrics.countDelivery(sub.deadLetterQueue ? 'dead_lettered' : 'failed');
    this.record({ kind: 'dead_letter', deliveryId: d.deliveryId, attempt, queue: sub.deadLetterQueue, reason });
  }

  private record(outcome: DeliveryOutcome): void {
    this.outcomes.push(outcome);
    if (this.outcomes.length >= OUTCOME_BATCH) this.flushOutcomes();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flushOutcomes(), OUTCOME_FLUSH_MS);
  }

  private flushOutcomes(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.outcomes.length === 0) return;
    const batch = this.outcomes;
    this.outcomes = [];
    // Receivers of a dead-letter queue are woken once the dead letters are committed.
    const deadLetterQueues = new Set<string>();
    for (const o of batch) if (o.kind === 'dead_letter' && o.queue) deadLetterQueues.add(o.queue);
    this.commit(
      this.store.completeDeliveries(batch, Date.now()).then(() => {
        for (const q of deadLetterQueues) this.signals.queueMessages.emit(q);
      }),
    );
  }

  /** Track a background store write; failures are logged (the leases expire and the work is retried). */
  private commit(p: Promise<unknown>): void {
    const tracked = p.catch((error) => this.log.error({ err: error }, 'recording delivery state failed'));
    this.pendingCommits.add(tracked);
    void tracked.finally(() => this.pendingCommits.delete(tracked));
  }

  /** Another node's breaker for `origin` changed (our own news comes back here as a no-op). */
  private followBreaker(origin: string, openMs: number): void {
    const now = Date.now();
    if (openMs > 0) {
      const breaker = this.breakerFor(origin);
      const wasOpen = breaker.state(now) === 'open';
      breaker.openFromPeer(now + openMs, now);
      if (!wasOpen && breaker.state(now) === 'open') this.sender.cancelQueued({ origin });
      return;
    }
    const breaker = this.breakers.get(origin);
    if (!breaker || breaker.state(now) === 'closed') return;
    breaker.closeFromPeer();
    for (const lane of this.lanes.values()) {
      if (lane.target.origin !== origin) continue;
      lane.hot = true;
      this.dirty.add(lane);
    }
    this.schedulePump(false);
  }

  /** Safety net: find lanes with due work nobody signalled (and refresh breaker gauges). */
  private async sweep(): Promise<void> {
    if (!this.running) return;
    let open = 0;
    const now = Date.now();
    for (const b of this.breakers.values()) if (b.state(now) !== 'closed') open++;
    this.metrics.breakerOpen.set(open);
    for (const lane of this.lanes.values()) {
      if (lane.hot || lane.fetching || lane.buffer.length > 0) continue;
      // Alone, a lane's timer is already set for its earliest work; shared, another node may
      // have added earlier work since (wakeAt keeps the earlier of the two).
      if (lane.timer && !this.opts.shared) continue;
      try {
        const next = await this.store.nextDueAt(lane.sub.id);
        if (next !== null) this.wakeAt(lane, next);
      } catch (error) {
        this.log.warn({ err: error }, 'looking for due deliveries failed');
        return;
      }
    }
  }
}

interface Framed {
  body: string;
  headers: Record<string, string>;
}

/** Herald's envelope (or the bare body with attribute headers) signed as a Standard Webhook. */
function heraldFrame(sub: Subscription, d: LeasedDelivery, at: number): Framed {
  const body = sub.raw ? d.body : envelope({ ...d, id: d.messageId });
  const headers = webhookHeaders(sub.secret, d.messageId, Math.floor(at / 1000), body) as Record<string, string>;
  if (sub.raw) {
    Object.assign(headers, attributeHeaders(d.attributes));
    headers['content-type'] = 'text/plain; charset=utf-8';
  }
  return { body, headers };
}
