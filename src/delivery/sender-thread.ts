/**
 * A webhook sender thread (see threaded-sender.ts): runs an HttpSender, the same client the
 * event loop would run, on a worker thread. Requests arrive in batches and results leave in
 * batches, one message per event-loop turn each way, so the cost of crossing threads is
 * shared by every request sent or answered in that turn.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HttpSender, type AttemptResult } from './http-sender.js';
import type { FromThread, ToThread } from './threaded-sender.js';

const port = parentPort!;
const sender = new HttpSender({
  connectionsPerOrigin: (workerData as { connectionsPerOrigin: number }).connectionsPerOrigin,
});

let results: Array<[number, AttemptResult]> = [];
let flushing = false;

function flush(): void {
  flushing = false;
  if (results.length === 0) return;
  const batch = results;
  results = [];
  port.postMessage({ kind: 'results', results: batch } satisfies FromThread);
}

function done(id: number, result: AttemptResult): void {
  results.push([id, result]);
  if (!flushing) {
    flushing = true;
    setImmediate(flush);
  }
}

port.postMessage({ kind: 'ready' } satisfies FromThread);

port.on('message', (m: ToThread) => {
  if (m.kind === 'send') {
    for (const [id, origin, path, body, headers, timeoutMs] of m.requests) {
      void sender.send({ origin, path }, body, headers, timeoutMs).then((r) => done(id, r));
    }
  } else if (m.kind === 'close' || m.kind === 'destroy') {
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
