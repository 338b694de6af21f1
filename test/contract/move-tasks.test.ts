/**
 * Message move tasks over each store, with two MoveTasks on one store standing for two nodes
 * sharing a PostgreSQL database: the store decides whether a task is running, and a cancel
 * made on one node stops the task another node runs.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Metrics } from '../../src/metrics.js';
import { MoveTasks } from '../../src/queues/move-tasks.js';
import { Queues } from '../../src/queues/queues.js';
import { Signals } from '../../src/signals.js';
import type { Store } from '../../src/store/store.js';
import { waitFor } from '../support/herald.js';
import { STORES } from '../support/stores.js';
import { HOUR, send, T0, useStore } from './fixtures.js';

function node(store: Store) {
  const queues = new Queues(store, new Signals(), loadConfig({}, {}), new Metrics());
  return { queues, tasks: new MoveTasks(store, queues) };
}

for (const kind of STORES) {
  describe(`${kind} store: message move tasks`, () => {
    const store = useStore(kind);

    it('keeps a cancel against a later progress update', async () => {
      const s = store();
      const task = {
        handle: 'dlq:1',
        sourceQueue: 'dlq',
        destinationQueue: null,
        maxPerSecond: null,
        status: 'RUNNING' as const,
        moved: 0,
        toMove: 5,
        failureReason: null,
        startedAt: new Date(T0).toISOString(),
      };
      await s.saveMoveTask(task);
      await s.saveMoveTask({ ...task, status: 'CANCELLING' });
      await s.saveMoveTask({ ...task, moved: 3 });
      expect(await s.listMoveTasks('dlq')).toEqual([{ ...task, moved: 3, status: 'CANCELLING' }]);
      await s.saveMoveTask({ ...task, moved: 3, status: 'CANCELLED' });
      expect((await s.listMoveTasks('dlq'))[0].status).toBe('CANCELLED');
    });

    it('one running task per source across nodes; a cancel on one node stops the other', async () => {
      const s = store();
      const a = node(s);
      const b = node(s);
      await a.queues.create('dlq', {});
      await a.queues.create('out', {});
      await s.sendToQueue(
        'dlq',
        Array.from({ length: 30 }, () => send()),
        HOUR,
        Date.now(),
      );
      const task = await a.tasks.start('dlq', 'out', 1); // one message per second: still running
      await expect(b.tasks.start('dlq', 'out', null)).rejects.toMatchObject({ code: 'conflict' });
      const cancelling = await b.tasks.cancel(task.handle);
      expect(cancelling.status).toBe('CANCELLING');
      const stopped = await waitFor(async () => {
        const [t] = await s.listMoveTasks('dlq');
        return t.status === 'CANCELLED' ? t : null;
      });
      expect(stopped.moved).toBeLessThan(30);
      await a.tasks.close();
      await b.tasks.close();
    });

    it('refuses to cancel a task that has finished, even before its end is stored', async () => {
      const s = store();
      // Hold the store's write of the finished task: the window in which the node still
      // counts the task as its own while listing it as COMPLETED.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const slow = new Proxy(s, {
        get(target, prop) {
          if (prop === 'saveMoveTask') {
            return async (t: Parameters<Store['saveMoveTask']>[0]) => {
              if (t.status === 'COMPLETED') await held;
              return target.saveMoveTask(t);
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const a = node(slow);
      await a.queues.create('dlq', {});
      await a.queues.create('out', {});
      await s.sendToQueue('dlq', [send()], HOUR, Date.now());
      const task = await a.tasks.start('dlq', 'out', null);
      await waitFor(async () => (await a.tasks.list('dlq', 10))[0].status === 'COMPLETED');
      await expect(a.tasks.cancel(task.handle)).rejects.toMatchObject({ code: 'not_found' });
      release();
      await a.tasks.close();
      expect((await s.listMoveTasks('dlq'))[0]).toMatchObject({ status: 'COMPLETED', moved: 1 });
    });
  });
}
