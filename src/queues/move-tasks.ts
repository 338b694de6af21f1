/**
 * Message move tasks: a redrive of a dead-letter queue that runs in the background, in
 * batches, at an optional rate, with progress kept in the store so its status survives a
 * restart. One task per source queue runs at a time (as on SQS). A task that was running
 * when the process stopped resumes when the next one starts.
 *
 * With several nodes on one PostgreSQL store, the store is the authority: a task RUNNING
 * there blocks a second one for the same queue whichever node asks, and a cancel on any node
 * marks it CANCELLING, which the node running it sees before its next step.
 */
import { HeraldError } from '../errors.js';
import { randomToken } from '../ids.js';
import type { Store } from '../store/store.js';
import type { MoveTask } from '../types.js';
import type { Queues } from './queues.js';

/** Messages moved per step when no rate is set. */
const BATCH = 500;

export class MoveTasks {
  private readonly running = new Map<string, { task: MoveTask; cancel: boolean; done: Promise<void> }>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly queues: Queues,
    private readonly onError: (error: unknown, task: MoveTask) => void = () => undefined,
  ) {}

  /** Resume tasks a previous process left running. */
  async resume(): Promise<void> {
    for (const task of await this.store.listMoveTasks()) {
      if (task.status === 'RUNNING' || task.status === 'CANCELLING') {
        if (task.status === 'CANCELLING') await this.store.saveMoveTask({ ...task, status: 'CANCELLED' });
        else this.run(task);
      }
    }
  }

  async start(sourceQueue: string, destinationQueue: string | null, maxPerSecond: number | null): Promise<MoveTask> {
    const source = await this.queues.get(sourceQueue);
    if (destinationQueue !== null) await this.queues.get(destinationQueue);
    const stored = await this.store.listMoveTasks(sourceQueue);
    if (this.running.has(sourceQueue) || stored.some((t) => t.status === 'RUNNING' || t.status === 'CANCELLING')) {
      throw new HeraldError('conflict', `queue "${sourceQueue}" already has a running message move task`);
    }
    const task: MoveTask = {
      handle: `${sourceQueue}:${randomToken(12)}`,
      sourceQueue,
      destinationQueue,
      maxPerSecond,
      status: 'RUNNING',
      moved: 0,
      toMove: source.stats.visible + source.stats.inFlight + source.stats.delayed,
      failureReason: null,
      startedAt: new Date().toISOString(),
    };
    await this.store.saveMoveTask(task);
    this.run(task);
    return task;
  }

  /** Stop a running task; resolves with the task as it stopped. */
  async cancel(handle: string): Promise<MoveTask> {
    const notRunning = () =>
      new HeraldError('not_found', `message move task "${handle}" is not running (it finished or never existed)`);
    const entry = [...this.running.values()].find((r) => r.task.handle === handle);
    if (entry) {
      // Finished already (its end not yet stored), or finishing before it saw the cancel.
      if (entry.task.status !== 'RUNNING') throw notRunning();
      entry.cancel = true;
      await entry.done;
      // (the loop changed the status meanwhile; TypeScript cannot see that)
      if ((entry.task.status as MoveTask['status']) !== 'CANCELLED') throw notRunning();
      return entry.task;
    }
    // Running on another node: mark it; that node stops before its next step.
    const source = handle.slice(0, handle.lastIndexOf(':'));
    const task = (await this.store.listMoveTasks(source)).find((t) => t.handle === handle);
    if (!task || task.status !== 'RUNNING') throw notRunning();
    const cancelling: MoveTask = { ...task, status: 'CANCELLING' };
    await this.store.saveMoveTask(cancelling);
    return cancelling;
  }

  /** Tasks of a source queue, newest first, with live progress for a running one. */
  async list(sourceQueue: string, max: number): Promise<MoveTask[]> {
    await this.queues.get(sourceQueue);
    const live = this.running.get(sourceQueue)?.task;
    const stored = await this.store.listMoveTasks(sourceQueue);
    return stored.slice(0, max).map((t) => (live && live.handle === t.handle ? { ...live } : t));
  }

  /** Stop the loops (their tasks stay RUNNING in the store and resume on the next start). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async cancelledElsewhere(task: MoveTask): Promise<boolean> {
    const stored = (await this.store.listMoveTasks(task.sourceQueue)).find((t) => t.handle === task.handle);
    return stored?.status === 'CANCELLING';
  }

  private run(task: MoveTask): void {
    const entry = { task, cancel: false, done: Promise.resolve() };
    this.running.set(task.sourceQueue, entry);
    entry.done = this.loop(entry).finally(() => this.running.delete(task.sourceQueue));
  }

  private async loop(entry: { task: MoveTask; cancel: boolean }): Promise<void> {
    const task = entry.task;
    const step = task.maxPerSecond ?? BATCH;
    const pause = task.maxPerSecond ? 1000 : 0;
    try {
      for (;;) {
        if (this.closed) return;
        if (entry.cancel || (await this.cancelledElsewhere(task))) {
          task.status = 'CANCELLED';
          break;
        }
        const moved = await this.queues.redrive(task.sourceQueue, step, task.destinationQueue ?? undefined);
        task.moved += moved;
        if (moved === 0) {
          task.status = 'COMPLETED';
          break;
        }
        await this.store.saveMoveTask(task);
        if (pause) await new Promise((r) => setTimeout(r, pause));
        else await new Promise((r) => setImmediate(r));
      }
    } catch (error) {
      task.status = 'FAILED';
      task.failureReason = error instanceof Error ? error.message : String(error);
      this.onError(error, task);
    }
    await this.store.saveMoveTask(task).catch((error) => this.onError(error, task));
  }
}
