/**
 * A webhook sender thread (see threaded-sender.ts): runs an HttpSender, the same client the
 * event loop would run, on a worker thread. Requests arrive in batches and results leave in
 * batches, one message per event-loop turn each way, so the cost of crossing threads is
 * shared by every request sent or answered in that turn.
 *
 * Requests of a lane start at most `limit` at a time, in the order they arrived; the rest
 * wait here and start as the lane's requests end, without waiting for the event loop. After
 * a failure that counts towards the endpoint's circuit breaker, the lane starts nothing more
 * until the event loop has judged it: it sends the lane in `resumes`, after a `cancel` of what
 * waits for that endpoint if its breaker opened. So the breaker stops a lane as promptly as
 * when the event loop sends every request itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HttpSender, notSent, type AttemptResult } from './http-sender.js';
import type { FromThread, ThreadRequest, ToThread } from './threaded-sender.js';

const port = parentPort!;
const sender = new HttpSender({
  connectionsPerOrigin: (workerData as { connectionsPerOrigin: number }).connectionsPerOrigin,
});

interface Lane {
  active: number;
  limit: number;
  waiting: ThreadRequest[];
  /** The endpoint's origin (of the newest request), for withdrawals by origin. */
  origin: string;
  /** Failures the event loop has not judged yet: nothing starts while there are any. */
  held: number;
}

const lanes = new Map<string, Lane>();
/** This turn's plain successes, four numbers each (see FromThread), and the other answers. */
let delivered: number[] = [];
let results: Array<[number, AttemptResult]> = [];
let flushing = false;

function flush(): void {
  flushing = false;
  if (results.length === 0 && delivered.length === 0) return;
  const packed = new Float64Array(delivered);
  const batch = results;
  delivered = [];
  results = [];
  port.postMessage({ kind: 'results', delivered: packed, results: batch } satisfies FromThread, [packed.buffer]);
}

function done(id: number, result: AttemptResult): void {
  if (result.ok && result.retryAfterMs === null && result.startedAtMs !== undefined) {
    delivered.push(id, result.status!, result.latencyMs, result.startedAtMs);
  } else results.push([id, result]);
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
}

function start(request: ThreadRequest, lane: Lane | undefined): void {
  const [id, origin, path, body, headers, timeoutMs, key] = request;
  void sender.send({ origin, path }, body, headers, timeoutMs).then((r) => {
    done(id, r);
    if (!lane) return;
    lane.active--;
    if (!r.ok && r.endpointFault) lane.held++;
    settle(key, lane);
  });
}

/** Start what may start; forget a lane with nothing left to track. */
function settle(key: string, lane: Lane): void {
  pump(lane);
  if (lane.active === 0 && lane.waiting.length === 0 && lane.held === 0 && lanes.get(key) === lane) lanes.delete(key);
}

function pump(lane: Lane): void {
  while (lane.held === 0 && lane.active < lane.limit && lane.waiting.length > 0) {
    lane.active++;
    start(lane.waiting.shift()!, lane);
  }
}

function take(request: ThreadRequest): void {
  const key = request[6];
  if (!key) return start(request, undefined);
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { active: 0, limit: 1, waiting: [], origin: '', held: 0 }));
  // The newest request carries the lane's current limit (it may have been changed).
  lane.limit = Math.max(1, request[7]);
  lane.origin = request[1];
  lane.waiting.push(request);
  pump(lane);
}

/**
 * Answer waiting requests (of lane `key`, or to `origin`, or all) as not sent. The lanes
 * they leave are no longer held: what the event loop sends them next is its new decision.
 */
function cancel(which: { key?: string; origin?: string }, why: string): void {
  for (const [key, lane] of [...lanes]) {
    if (which.key !== undefined && key !== which.key) continue;
    const keep: ThreadRequest[] = [];
    for (const request of lane.waiting) {
      if (which.origin !== undefined && request[1] !== which.origin) keep.push(request);
      else done(request[0], notSent(why));
    }
    lane.waiting = keep;
    if (which.origin === undefined || lane.origin === which.origin) lane.held = 0;
    settle(key, lane);
  }
}

port.postMessage({ kind: 'ready' } satisfies FromThread);

port.on('message', (m: ToThread) => {
  if (m.kind === 'send') {
    for (const request of m.requests) take(request);
    for (const key of m.resumes) {
      const lane = lanes.get(key);
      if (lane && lane.held > 0) {
        lane.held--;
        settle(key, lane);
      }
    }
  } else if (m.kind === 'cancel') {
    cancel(m, 'withdrawn before it was sent');
  } else if (m.kind === 'close' || m.kind === 'destroy') {
    // What has not started does not start now; what has finishes (close) or is aborted (destroy).
    cancel({}, 'the sender is closing');
    const stop = m.kind === 'close' ? sender.close() : sender.destroy();
    void stop
      .catch(() => {})
      .finally(() => {
        // Let the answers of aborted requests land first.
        setImmediate(() => {
          flush();
          port.postMessage({ kind: 'closed' } satisfies FromThread);
        });
      });
  }
});
