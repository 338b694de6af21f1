/**
 * FIFO queues on a PostgreSQL store shared by several nodes (PostgresStore instances on one
 * schema): receivers on different nodes never hold messages of one group at once and every
 * group comes out in order; concurrent publishes to a FIFO topic keep each group's order in
 * every FIFO queue, all queues see the same interleaving, and the topic numbers its messages in
 * that order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { sequenceNumber } from '../../src/store/received-message.js';
import type { ReceivedMessage } from '../../src/types.js';
import { freshPostgresUrl } from '../support/stores.js';
import { entry, HOUR, queue, send, T0 } from './fixtures.js';

describe('postgres FIFO queues shared by several nodes', () => {
  const cleanups: Array<(failed: boolean) => Promise<void>> = [];
  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === 'fail';
    for (const fn of cleanups.splice(0).reverse()) await fn(failed);
  });

  async function nodes(n: number): Promise<PostgresStore[]> {
    const db = await freshPostgresUrl();
    const stores = Array.from({ length: n }, () => new PostgresStore({ url: db.url, poolSize: 4 }));
    cleanups.push(async (failed) => {
      for (const s of stores) await s.close();
      if (!failed) await db.drop();
    });
    for (const s of stores) await s.open();
    return stores;
  }

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('concurrent receivers on three nodes never hold messages of one group at once, and each group stays in order', async () => {
    const stores = await nodes(3);
    const q = (await stores[0].createQueue(queue('jobs.fifo'))).queue;
    const groups = 12;
    const perGroup = 15;
    const messages = [];
    for (let i = 0; i < perGroup; i++) {
      for (let g = 0; g < groups; g++)
        messages.push(send({ body: `g${g}:${i}`, groupId: `g${g}`, idempotencyKey: `g${g}:${i}` }));
    }
    for (let i = 0; i < messages.length; i += 60)
      await stores[i % 3].sendToQueue('jobs.fifo', messages.slice(i, i + 60), HOUR, T0);

    const holder = new Map<string, number>(); // group -> worker holding it right now
    const next = new Map<string, number>(); // group -> index it must hand out next
    const violations: string[] = [];
    let done = 0;
    const worker = async (store: PostgresStore, me: number) => {
      let idle = 0;
      while (done < groups * perGroup && idle < 200) {
        const got: ReceivedMessage[] = await store.receive(q, { max: 1 + (me % 4), visibilityMs: HOUR, nowMs: T0 });
        if (got.length === 0) {
          idle++;
          await pause(2);
          continue;
        }
        idle = 0;
        const mine = new Set<string>();
        for (const m of got) {
          const [g, i] = m.body.split(':');
          const other = holder.get(g);
          if (other !== undefined && other !== me) violations.push(`${g} held by ${other} and ${me}`);
          if (Number(i) !== (next.get(g) ?? 0)) violations.push(`${g}: got ${i}, expected ${next.get(g) ?? 0}`);
          next.set(g, Number(i) + 1);
          holder.set(g, me);
          mine.add(g);
        }
        await pause(Math.random() * 5); // "work" while holding the groups
        // Release before the ack commits: nobody may get the group until it has.
        for (const g of mine) holder.delete(g);
        const acked = await store.ack(
          'jobs.fifo',
          got.map((m) => m.receipt),
        );
        if (acked.acked !== got.length) violations.push(`ack failed: ${JSON.stringify(acked.failed)}`);
        done += got.length;
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map((me) => worker(stores[me % 3], me)));
    expect(violations).toEqual([]);
    expect(done).toBe(groups * perGroup);
    expect([...next.values()]).toEqual(Array(groups).fill(perGroup));
    expect(await stores[1].queueStats('jobs.fifo', T0)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('concurrent publishes to a FIFO topic from three nodes keep every group in order in every FIFO queue', async () => {
    const stores = await nodes(3);
    await stores[0].createTopic('events.fifo', T0, { fifo: true, contentBasedDeduplication: false });
    const q1 = (await stores[0].createQueue(queue('one.fifo'))).queue;
    const q2 = (await stores[0].createQueue(queue('two.fifo'))).queue;
    // Each node publishes two groups, one message at a time, each publish awaited (so the
    // publisher's order is defined), all nodes at once. The topic numbers every message, and
    // the copies carry the number (as SNS notifications of FIFO topics do).
    const perGroup = 20;
    const topicNumbers: string[] = [];
    const publisher = async (store: PostgresStore, group: string) => {
      for (let i = 0; i < perGroup; i++) {
        const e = entry('events.fifo', [], {
          body: `${group}:${i}`,
          queues: ['one.fifo', 'two.fifo'],
          idempotencyKey: `${group}:${i}`,
          sequenced: true,
        });
        for (const c of e.queueCopies) {
          c.groupId = group;
          c.body = (n) => `${group}:${i}#${n}`;
        }
        const [r] = await store.publish([e], HOUR, T0);
        topicNumbers.push((r as { sequenceNumber: string }).sequenceNumber);
      }
    };
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((g, i) => publisher(stores[i % 3], g)));
    // Every message got its own number of the topic's sequence.
    expect(topicNumbers.sort()).toEqual(Array.from({ length: 6 * perGroup }, (_, i) => sequenceNumber(i + 1)));
    const order: string[][] = [];
    for (const q of [q1, q2]) {
      const got = await stores[1].receive(q, { max: 1000, visibilityMs: HOUR, nowMs: T0 });
      expect(got).toHaveLength(6 * perGroup);
      for (const g of ['a', 'b', 'c', 'd', 'e', 'f']) {
        expect(got.filter((m) => m.messageGroupId === g).map((m) => m.body.split('#')[0])).toEqual(
          Array.from({ length: perGroup }, (_, i) => `${g}:${i}`),
        );
      }
      // Sequence numbers give one total order per queue...
      const inQueueOrder = [...got].sort((x, y) => (x.sequenceNumber! < y.sequenceNumber! ? -1 : 1));
      order.push(inQueueOrder.map((m) => m.body));
      // ...in which the topic's numbers only grow: they were given in commit order.
      const numbers = inQueueOrder.map((m) => m.body.split('#')[1]);
      expect(numbers).toEqual([...numbers].sort());
    }
    // ...and both queues got the concurrent publishes in the same interleaving.
    expect(order[0]).toEqual(order[1]);
  });
});
