/**
 * WAL checkpoints off the request path. A checkpoint copies committed pages from the WAL
 * into the database file and fsyncs it: tens of milliseconds that, run inside a commit
 * (SQLite's auto-checkpoint), would stall every request waiting on that commit. A worker
 * thread with its own connection runs PASSIVE checkpoints instead, which never block the
 * writer.
 *
 * A writer that never pauses keeps adding frames while a PASSIVE checkpoint copies, so the
 * WAL would never be fully copied, never restart from its beginning, and grow without
 * bound (and reads slow down as it grows). So once the WAL passes `restartFrames`, a PASSIVE
 * pass is followed by a RESTART checkpoint: it only has to copy what arrived during the
 * pass, makes the writer wait for those few milliseconds, and lets the WAL start over.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Evaluated in the worker (CommonJS); the driver's path comes in workerData so the same
// code works from the compiled package and from the TypeScript sources under test.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('journal_mode = WAL');
let stopping = false;
function checkpoint() {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r.log > workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
}
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop' && !stopping) {
    stopping = true;
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.postMessage('stopped');
  }
});
`;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(file: string, opts: { intervalMs: number; restartFrames: number }, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, ...opts, driver } });
    this.worker.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && 'error' in m) onError(String((m as { error: string }).error));
    });
    this.worker.on('error', (e) => onError(e.message));
    this.worker.unref();
  }

  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.worker.on('message', (m) => m === 'stopped' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage('stop');
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000))]);
    await this.worker.terminate();
  }
}
