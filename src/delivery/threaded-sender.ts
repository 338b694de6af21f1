/**
 * Webhook requests sent from worker threads, so the HTTP client's work (building requests,
 * the socket writes, parsing answers) runs beside the event loop instead of on it. The
 * delivery engine keeps the decisions (leases, signing, rate limits, breakers, retries,
 * outcomes) on the event loop and hands each thread "POST this and tell me what happened";
 * it sees the same `AttemptResult` as from an HttpSender in-process.
 *
 * Lanes: a request that names its lane (the subscription, with its concurrency limit) goes
 * to the thread that holds that lane's other requests, and the thread starts at most `limit`
 * of them at once, holding the rest in order and starting the next as one ends. The engine
 * hands over more than the limit (see `queues`), so the endpoint never waits for an answer
 * to cross back to the event loop and the next request to cross over: with the hand-offs in
 * the loop, a window of 128 requests spent about as long crossing threads as on the wire.
 * Requests without a lane go to the thread with the fewest in flight.
 *
 * Requests are batched per thread within a turn of the event loop (one postMessage for all
 * of them), and so are the results coming back. A thread that dies answers its requests
 * (queued or in flight) as `notSent` (the engine spends no attempt on them and sends them
 * again) and is replaced.
 */
import { existsSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { answered, notSent, type AttemptResult, type Target } from './http-sender.js';

/** A lane's key (its subscription) and how many of its requests may be out at once. */
export interface LaneLimit {
  key: string;
  limit: number;
}

/** What the engine needs from a sender: one POST, answered with what happened. */
export interface WebhookSender {
  /**
   * Whether the sender keeps each lane's limit itself (requests sent with a `lane`): it takes
   * requests beyond the limit, holds them in order and starts each as one of the lane's
   * requests ends. The engine may then hand over more than the limit at once. Without it,
   * every request starts when handed over and the engine must hold back the rest.
   */
  readonly queues: boolean;
  /** Resolves once requests can go out at once (threads started); the engine waits for it. */
  ready(): Promise<void>;
  send(
    target: Target,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    lane?: LaneLimit,
  ): Promise<AttemptResult>;
  /**
   * Withdraw requests the sender holds but has not started: those of lane `key`, or to
   * `origin`, or all of them (neither given). Each is answered `notSent`; started ones run on.
   */
  cancelQueued(which: { key?: string; origin?: string }): void;
  /**
   * A lane's failure (one counting towards its endpoint's breaker) was judged: the sender may
   * start the lane's waiting requests again (after `cancelQueued` of those to the endpoint,
   * if its breaker opened). A sender that queues holds them from each such failure until
   * this comes (or a `cancelQueued` of the lane, or of its endpoint).
   */
  resumeLane(key: string): void;
  /** Finish what is in flight, then release connections. */
  close(): Promise<void>;
  /** Abort what is in flight (answered as network failures) and release connections. */
  destroy(): Promise<void>;
}

/** One request: id, origin, path, body, headers, timeout (ms), lane key ('' for none), lane limit. */
export type ThreadRequest = [number, string, string, string, Record<string, string>, number, string, number];
export type ToThread =
  /** New requests, then lanes to resume (see WebhookSender.resumeLane), of one turn. */
  | { kind: 'send'; requests: ThreadRequest[]; resumes: string[] }
  | { kind: 'cancel'; key?: string; origin?: string }
  | { kind: 'close' }
  | { kind: 'destroy' };
/**
 * Results of a turn: plain successes (a 2xx) packed four numbers each (id, status, latency
 * ms, start time ms) in `delivered`, a transferred buffer, since cloning a result object per
 * request cost the thread more than the rest of the hand-off; every other answer as it is.
 */
export type FromThread =
  | { kind: 'ready' }
  | { kind: 'results'; delivered: Float64Array; results: Array<[number, AttemptResult]> }
  | { kind: 'closed' };

interface SenderThread {
  worker: Worker;
  /** Set once it exited: it takes no more requests. */
  dead: boolean;
  outbox: ThreadRequest[];
  /** Lanes to resume, sent with the outbox. */
  resumes: string[];
  /** Requests handed to the thread: how to answer each, by when it must have, and its lane. */
  pending: Map<number, { resolve: (r: AttemptResult) => void; deadline: number; lane: string | undefined }>;
  /** Resolves when the thread can send; rejects if it exits (or hangs) before that. */
  started: Promise<void>;
  closed: Promise<void>;
  markClosed: () => void;
}

const SOURCES = ['sender-thread', 'threaded-sender', 'http-sender', 'retry-schedule'];

/**
 * The compiled thread module. Run from the TypeScript sources (the test suite), it is the
 * build in dist/, which must not be older than the sources it was built from.
 */
function threadEntry(): URL {
  const here = new URL('./sender-thread.js', import.meta.url);
  if (existsSync(here)) return here;
  const built = new URL('../../dist/delivery/sender-thread.js', import.meta.url);
  if (!existsSync(built)) throw new Error('the webhook sender thread module is missing: run `npm run build`');
  const builtAt = statSync(built).mtimeMs;
  for (const name of SOURCES) {
    const source = new URL(`./${name}.ts`, import.meta.url);
    if (existsSync(source) && statSync(source).mtimeMs > builtAt) {
      throw new Error(`dist/ is older than src/delivery/${name}.ts: run \`npm run build\``);
    }
  }
  return built;
}

/** A thread that dies within this long of starting is replaced only after this long (no crash loop). */
const RESPAWN_DELAY_MS = 1_000;
/** A thread that has not loaded its HTTP client by then fails `ready()`. */
const START_LIMIT_MS = 30_000;
/**
 * A request's answer is due from its thread within its timeout plus this (undici's connect
 * timeout, 10 s, and a margin); a thread alive but stuck past it has the request answered
 * `notSent` for it, so the delivery goes out again instead of holding its slot for good.
 */
const ANSWER_MARGIN_MS = 15_000;

/** A plain success, unpacked (see FromThread). */
function delivered(status: number, latencyMs: number, startedAtMs: number): AttemptResult {
  const result = answered(status, undefined, latencyMs);
  result.startedAtMs = startedAtMs;
  return result;
}

export class ThreadedSender implements WebhookSender {
  readonly queues = true;
  private readonly threads: SenderThread[] = [];
  /** Which thread holds a lane's requests, and how many it holds; gone when none. */
  private readonly lanes = new Map<string, { thread: SenderThread; pending: number }>();
  private readonly entry: URL;
  private nextId = 1;
  private stopped: Promise<void> | null = null;
  private readonly overdueTimer: NodeJS.Timeout;

  constructor(
    private readonly opts: {
      threads: number;
      connectionsPerOrigin: number;
      onThreadError?: (error: Error) => void;
      /** The thread module (tests); default: sender-thread.js beside this one. */
      entry?: URL;
      /** See ANSWER_MARGIN_MS (tests shorten it). */
      answerMarginMs?: number;
    },
  ) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1)
      throw new Error('ThreadedSender needs at least one thread');
    this.entry = opts.entry ?? threadEntry();
    for (let i = 0; i < opts.threads; i++) this.threads.push(this.spawn());
    this.overdueTimer = setInterval(() => this.answerOverdue(Date.now()), 1_000);
    this.overdueTimer.unref();
  }

  /** Answer requests whose thread is past their deadline (see ANSWER_MARGIN_MS). */
  private answerOverdue(now: number): void {
    for (const thread of this.threads) {
      let answered = 0;
      const lanes = new Set<string>();
      for (const [id, p] of thread.pending) {
        if (p.deadline > now) continue;
        if (p.lane !== undefined) lanes.add(p.lane);
        this.answer(thread, id, notSent('the sender thread did not answer in time'));
        answered++;
      }
      // The engine never sees what the thread makes of those requests, so the thread must not
      // hold their lanes waiting for its verdict on a failure: withdraw what waits there.
      if (!thread.dead) for (const key of lanes) thread.worker.postMessage({ kind: 'cancel', key } satisfies ToThread);
      if (answered > 0) {
        this.opts.onThreadError?.(new Error(`a webhook sender thread did not answer ${answered} requests in time`));
        this.track(thread);
      }
    }
  }

  /** Resolves when every thread has started; rejects if one could not (Herald then does not start). */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.started));
  }

  /** The worker threads, for diagnostics and tests. */
  workers(): readonly Worker[] {
    return this.threads.map((t) => t.worker);
  }

  private spawn(): SenderThread {
    // Each thread keeps its own pool per origin: together they hold about what one would.
    const connectionsPerOrigin = Math.max(1, Math.ceil(this.opts.connectionsPerOrigin / this.opts.threads));
    const worker = new Worker(this.entry, { workerData: { connectionsPerOrigin } });
    // A thread keeps the process alive only while it has requests in flight (see track()).
    worker.unref();
    const startedAt = Date.now();
    let markClosed!: () => void;
    let markStarted!: () => void;
    let failStart!: (error: Error) => void;
    const started = new Promise<void>((resolve, reject) => {
      markStarted = resolve;
      failStart = reject;
    });
    started.catch(() => {}); // a replacement's failure is reported through its exit
    const startTimer = setTimeout(() => {
      failStart(new Error(`a webhook sender thread did not start within ${START_LIMIT_MS} ms`));
      void worker.terminate();
    }, START_LIMIT_MS);
    startTimer.unref();
    const thread: SenderThread = {
      worker,
      dead: false,
      outbox: [],
      resumes: [],
      pending: new Map(),
      started,
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
      markClosed: () => markClosed(),
    };
    worker.on('message', (m: FromThread) => {
      if (m.kind === 'results') {
        // An id already answered (as overdue) is ignored.
        const d = m.delivered;
        for (let i = 0; i < d.length; i += 4) this.answer(thread, d[i], delivered(d[i + 1], d[i + 2], d[i + 3]));
        for (const [id, result] of m.results) this.answer(thread, id, result);
        this.track(thread);
      } else if (m.kind === 'ready') {
        clearTimeout(startTimer);
        markStarted();
      } else if (m.kind === 'closed') thread.markClosed();
    });
    let lastError: Error | undefined;
    worker.on('error', (error) => {
      lastError = error;
      this.opts.onThreadError?.(error);
    });
    worker.on('exit', (code) => {
      clearTimeout(startTimer);
      failStart(
        new Error(`a webhook sender thread exited (code ${code}) before it started: ${lastError?.message ?? ''}`),
      );
      thread.dead = true;
      thread.markClosed();
      const requests = thread.outbox.length + thread.pending.size;
      thread.outbox = [];
      thread.resumes = [];
      for (const id of [...thread.pending.keys()])
        this.answer(thread, id, notSent('the sender thread exited during the request'));
      if (this.stopped) return;
      this.opts.onThreadError?.(new Error(`a webhook sender thread exited (${requests} requests to send again)`));
      const replace = () => {
        const at = this.threads.indexOf(thread);
        if (!this.stopped && at >= 0) this.threads[at] = this.spawn();
      };
      if (Date.now() - startedAt < RESPAWN_DELAY_MS) setTimeout(replace, RESPAWN_DELAY_MS).unref();
      else replace();
    });
    return thread;
  }

  /** Hold the process open while a thread has requests in flight, as sockets on the event loop would. */
  private track(thread: SenderThread): void {
    if (thread.dead) return;
    if (thread.pending.size > 0) thread.worker.ref();
    else thread.worker.unref();
  }

  /** Answer request `id` of `thread` (once: later answers for it are ignored). */
  private answer(thread: SenderThread, id: number, result: AttemptResult): void {
    const p = thread.pending.get(id);
    if (!p) return;
    thread.pending.delete(id);
    if (p.lane !== undefined) {
      const pin = this.lanes.get(p.lane);
      if (pin && pin.thread === thread && --pin.pending === 0) this.lanes.delete(p.lane);
    }
    p.resolve(result);
  }

  send(
    target: Target,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    lane?: LaneLimit,
  ): Promise<AttemptResult> {
    if (this.stopped) return Promise.resolve(notSent('the sender is closed'));
    const pin = lane && this.lanes.get(lane.key);
    let thread = pin && !pin.thread.dead ? pin.thread : undefined;
    if (!thread)
      for (const t of this.threads) if (!t.dead && (!thread || t.pending.size < thread.pending.size)) thread = t;
    // Every thread is being replaced: answer at once; the engine sends it again shortly.
    if (!thread) return Promise.resolve(notSent('no webhook sender thread is running'));
    if (lane) {
      if (pin && pin.thread === thread) pin.pending++;
      else this.lanes.set(lane.key, { thread, pending: 1 });
    }
    const id = this.nextId++;
    const to = thread;
    this.schedule(to);
    to.outbox.push([id, target.origin, target.path, body, headers, timeoutMs, lane?.key ?? '', lane?.limit ?? 0]);
    // A lane's request may wait in the thread behind the lane's requests in flight, each of
    // them bounded like this one: so its answer is due within twice the bound.
    const margin = this.opts.answerMarginMs ?? ANSWER_MARGIN_MS;
    const deadline = Date.now() + (lane ? 2 : 1) * (timeoutMs + margin);
    const answer = new Promise<AttemptResult>((resolve) => to.pending.set(id, { resolve, deadline, lane: lane?.key }));
    if (to.pending.size === 1) this.track(to);
    return answer;
  }

  cancelQueued(which: { key?: string; origin?: string }): void {
    this.tell({ kind: 'cancel', ...which });
  }

  resumeLane(key: string): void {
    // Every thread: the lane's requests may have moved on to another since the failure. With
    // the turn's requests, so a run of failures costs no message of its own.
    for (const t of this.threads) {
      if (t.dead) continue;
      this.schedule(t);
      t.resumes.push(key);
    }
  }

  private tell(message: ToThread): void {
    for (const t of this.threads) {
      if (t.dead) continue;
      this.post(t); // what this turn handed over reaches the thread first
      t.worker.postMessage(message);
    }
  }

  /** Post the thread's outbox at the end of this turn (once, whatever is added meanwhile). */
  private schedule(thread: SenderThread): void {
    if (thread.outbox.length === 0 && thread.resumes.length === 0) queueMicrotask(() => this.post(thread));
  }

  private post(thread: SenderThread): void {
    const requests = thread.outbox;
    const resumes = thread.resumes;
    thread.outbox = [];
    thread.resumes = [];
    if ((requests.length === 0 && resumes.length === 0) || thread.dead) return;
    try {
      thread.worker.postMessage({ kind: 'send', requests, resumes } satisfies ToThread);
    } catch (error) {
      // Not cloneable (cannot happen with string headers, but never leave a request hanging).
      for (const [id] of requests) {
        this.answer(
          thread,
          id,
          notSent(`could not hand the request to its sender thread: ${(error as Error).message}`),
        );
      }
      this.track(thread);
    }
  }

  close(): Promise<void> {
    return (this.stopped ??= this.stop('close'));
  }

  destroy(): Promise<void> {
    return (this.stopped ??= this.stop('destroy'));
  }

  private async stop(kind: 'close' | 'destroy'): Promise<void> {
    clearInterval(this.overdueTimer);
    await Promise.all(
      this.threads.map(async (t) => {
        if (t.dead) return;
        t.worker.ref(); // until it has answered what it holds
        this.post(t);
        t.worker.postMessage({ kind } satisfies ToThread);
        // close() waits for the requests in flight (each bounded by its timeout).
        const limit = kind === 'close' ? 60_000 : 5_000;
        await Promise.race([t.closed, new Promise((r) => setTimeout(r, limit).unref())]);
        await t.worker.terminate(); // its exit answers anything still pending
      }),
    );
  }
}
