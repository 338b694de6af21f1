/**
 * Webhook requests sent from worker threads, so the HTTP client's work (building requests,
 * the socket writes, parsing answers) runs beside the event loop instead of on it. The
 * delivery engine keeps every decision (leases, signing, rate limits, breakers, retries,
 * outcomes) on the event loop and hands each thread only "POST this and tell me what
 * happened"; it sees the same `AttemptResult` as from an HttpSender in-process.
 *
 * Each send goes to the thread with the fewest requests in flight. Requests are batched per
 * thread within a turn of the event loop (one postMessage for all of them), and so are the
 * results coming back. A thread that dies answers its requests in flight as network
 * failures (the engine retries them as it would any) and is replaced.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { AttemptResult, Target } from './http-sender.js';

/** What the engine needs from a sender: one POST, answered with what happened. */
export interface WebhookSender {
  /** Resolves once requests can go out at once (threads started); the engine waits for it. */
  ready(): Promise<void>;
  send(target: Target, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult>;
  /** Finish what is in flight, then release connections. */
  close(): Promise<void>;
  /** Abort what is in flight (answered as network failures) and release connections. */
  destroy(): Promise<void>;
}

/** One request: id, origin, path, body, headers, timeout (ms). */
export type ThreadRequest = [number, string, string, string, Record<string, string>, number];
export type ToThread = { kind: 'send'; requests: ThreadRequest[] } | { kind: 'close' } | { kind: 'destroy' };
export type FromThread =
  { kind: 'ready' } | { kind: 'results'; results: Array<[number, AttemptResult]> } | { kind: 'closed' };

interface SenderThread {
  worker: Worker;
  /** Set once it exited: it takes no more requests. */
  dead: boolean;
  outbox: ThreadRequest[];
  pending: Map<number, (r: AttemptResult) => void>;
  /** Settles when the thread can send (or has exited). */
  started: Promise<void>;
  closed: Promise<void>;
  markClosed: () => void;
}

/** The compiled thread module; from the TypeScript sources (the test suite), its build in dist/. */
function threadEntry(): URL {
  const here = new URL('./sender-thread.js', import.meta.url);
  if (existsSync(here)) return here;
  const built = new URL('../../dist/delivery/sender-thread.js', import.meta.url);
  if (existsSync(built)) return built;
  throw new Error('the webhook sender thread module is missing: run `npm run build`');
}

/** A thread that dies within this long of starting is replaced only after this long (no crash loop). */
const RESPAWN_DELAY_MS = 1_000;

const lost = (message: string): AttemptResult => ({
  ok: false,
  status: null,
  latencyMs: 0,
  errorClass: 'network',
  error: message,
  retryAfterMs: null,
  endpointFault: true,
});

export class ThreadedSender implements WebhookSender {
  private readonly threads: SenderThread[] = [];
  private readonly entry = threadEntry();
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly opts: { threads: number; connectionsPerOrigin: number; onThreadError?: (error: Error) => void },
  ) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1)
      throw new Error('ThreadedSender needs at least one thread');
    for (let i = 0; i < opts.threads; i++) this.threads.push(this.spawn());
  }

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
    // The engine's own work keeps the process alive; idle sender threads should not.
    worker.unref();
    const startedAt = Date.now();
    let markClosed!: () => void;
    let markStarted!: () => void;
    const thread: SenderThread = {
      worker,
      dead: false,
      outbox: [],
      pending: new Map(),
      started: new Promise<void>((resolve) => (markStarted = resolve)),
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
      markClosed: () => markClosed(),
    };
    worker.on('message', (m: FromThread) => {
      if (m.kind === 'results') {
        for (const [id, result] of m.results) {
          const resolve = thread.pending.get(id);
          thread.pending.delete(id);
          resolve?.(result);
        }
      } else if (m.kind === 'ready') markStarted();
      else if (m.kind === 'closed') thread.markClosed();
    });
    worker.on('error', (error) => this.opts.onThreadError?.(error));
    worker.on('exit', () => {
      markStarted();
      thread.dead = true;
      thread.markClosed();
      const requests = thread.outbox.length + thread.pending.size;
      thread.outbox = [];
      for (const resolve of thread.pending.values()) resolve(lost('the sender thread exited during the request'));
      thread.pending.clear();
      if (this.stopping) return;
      this.opts.onThreadError?.(new Error(`a webhook sender thread exited (${requests} requests answered as failed)`));
      const replace = () => {
        const at = this.threads.indexOf(thread);
        if (!this.stopping && at >= 0) this.threads[at] = this.spawn();
      };
      if (Date.now() - startedAt < RESPAWN_DELAY_MS) setTimeout(replace, RESPAWN_DELAY_MS).unref();
      else replace();
    });
    return thread;
  }

  send(target: Target, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
    if (this.stopping) return Promise.resolve(lost('the sender is closed'));
    let thread: SenderThread | undefined;
    for (const t of this.threads) if (!t.dead && (!thread || t.pending.size < thread.pending.size)) thread = t;
    // Every thread is being replaced: fail fast, the engine retries on its schedule.
    if (!thread) return Promise.resolve(lost('no webhook sender thread is running'));
    const id = this.nextId++;
    if (thread.outbox.length === 0) queueMicrotask(() => this.post(thread));
    thread.outbox.push([id, target.origin, target.path, body, headers, timeoutMs]);
    return new Promise<AttemptResult>((resolve) => thread.pending.set(id, resolve));
  }

  private post(thread: SenderThread): void {
    const requests = thread.outbox;
    thread.outbox = [];
    if (requests.length > 0 && !thread.dead) thread.worker.postMessage({ kind: 'send', requests } satisfies ToThread);
  }

  close(): Promise<void> {
    return this.stop('close');
  }

  destroy(): Promise<void> {
    return this.stop('destroy');
  }

  private async stop(kind: 'close' | 'destroy'): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.threads.map(async (t) => {
        if (t.dead) return;
        this.post(t);
        t.worker.postMessage({ kind } satisfies ToThread);
        // close() waits for the requests in flight (each bounded by its timeout).
        const limit = kind === 'close' ? 60_000 : 5_000;
        await Promise.race([t.closed, new Promise((r) => setTimeout(r, limit).unref())]);
        await t.worker.terminate(); // its exit answers anything still pending as failed
      }),
    );
  }
}
