/**
 * The store contract, part 4: FIFO queues (order within a message group, a group blocked
 * while a message of it is in flight, independent groups, deduplication, dead letters,
 * FIFO topic fanout), against every store in HERALD_TEST_STORES.
 */
import { describe, expect, it } from 'vitest';
import type { SendEntry, Store } from '../../src/store/store.js';
import type { Queue, ReceivedMessage } from '../../src/types.js';
import { STORES } from '../support/stores.js';
import { entry, HOUR, queue, send, T0, useStore } from './fixtures.js';

const receiveAt = (s: Store, q: Queue, nowMs: number, max = 10, visibilityMs = 1000) =>
  s.receive(q, { max, visibilityMs, nowMs });

const bodies = (ms: ReceivedMessage[]) => ms.map((m) => m.body);
const inGroup = (group: string, body: string, over: Partial<SendEntry> = {}) =>
  send({ body, groupId: group, deduplicationId: body, idempotencyKey: body, ...over });

for (const kind of STORES) {
  describe(`${kind} store: FIFO queues`, () => {
    const store = useStore(kind);

    async function fifoQueue(s: Store, name = 'jobs.fifo', over: Partial<Queue> = {}) {
      return (await s.createQueue(queue(name, over))).queue;
    }

    it('hands out each group in order, several of a group in one receive, with sequence numbers', async () => {
      const s = store();
      const q = await fifoQueue(s);
      expect(q.fifo).toBe(true);
      const sent = await s.sendToQueue(
        'jobs.fifo',
        [inGroup('a', 'a1'), inGroup('b', 'b1'), inGroup('a', 'a2'), inGroup('b', 'b2'), inGroup('a', 'a3')],
        HOUR,
        T0,
      );
      const seqs = sent.map((r) => ('sequenceNumber' in r ? r.sequenceNumber! : ''));
      expect(seqs.every((n) => /^\d{20}$/.test(n))).toBe(true);
      expect([...seqs].sort()).toEqual(seqs); // increasing in send order
      const got = await receiveAt(s, q, T0);
      expect(bodies(got.filter((m) => m.messageGroupId === 'a'))).toEqual(['a1', 'a2', 'a3']);
      expect(bodies(got.filter((m) => m.messageGroupId === 'b'))).toEqual(['b1', 'b2']);
      // A group's run comes out together, before the next group's.
      expect(got.map((m) => m.messageGroupId).join('')).toMatch(/^(aaabb|bbaaa)$/);
      expect(got[0]).toMatchObject({ messageDeduplicationId: got[0].body, receiveCount: 1 });
      expect(got.find((m) => m.body === 'a1')?.sequenceNumber).toBe(seqs[0]);
    });

    it('blocks a group while its head is in flight; other groups go on', async () => {
      const s = store();
      const q = await fifoQueue(s);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2'), inGroup('b', 'b1')], HOUR, T0);
      const first = await receiveAt(s, q, T0, 1);
      const second = await receiveAt(s, q, T0, 1);
      // One message of each group: the second receive did not get the first group's next one.
      expect(new Set([...first, ...second].map((m) => m.messageGroupId))).toEqual(new Set(['a', 'b']));
      expect(bodies([...first, ...second]).sort()).toEqual(['a1', 'b1']);
      expect(await receiveAt(s, q, T0 + 500)).toEqual([]); // a2 waits behind a1
      expect(await s.queueStats('jobs.fifo', T0 + 500)).toEqual({ visible: 1, inFlight: 2, delayed: 0 });
      // A long poll sleeps until the in-flight head comes back, not on a2 (visible but blocked).
      expect(await s.nextVisibleAt('jobs.fifo')).toBe(T0 + 1000);
    });

    it('an ack of the head unblocks its group', async () => {
      const s = store();
      const q = await fifoQueue(s);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2')], HOUR, T0);
      const [a1] = await receiveAt(s, q, T0, 1);
      expect(await receiveAt(s, q, T0 + 10)).toEqual([]);
      expect(await s.ack('jobs.fifo', [a1.receipt])).toEqual({ acked: 1, failed: [] });
      expect(bodies(await receiveAt(s, q, T0 + 20))).toEqual(['a2']);
    });

    it('a head whose visibility timeout passes is handed out again before the rest of its group', async () => {
      const s = store();
      const q = await fifoQueue(s);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2')], HOUR, T0);
      expect(bodies(await receiveAt(s, q, T0, 1))).toEqual(['a1']);
      expect(await receiveAt(s, q, T0 + 999)).toEqual([]);
      const again = await receiveAt(s, q, T0 + 1000, 10);
      expect(again.map((m) => [m.body, m.receiveCount])).toEqual([
        ['a1', 2],
        ['a2', 1],
      ]);
    });

    it('a run received together keeps the group blocked until every message of it is done', async () => {
      const s = store();
      const q = await fifoQueue(s);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2'), inGroup('a', 'a3')], HOUR, T0);
      const [a1, a2] = await receiveAt(s, q, T0, 2);
      expect(bodies([a1, a2])).toEqual(['a1', 'a2']);
      await s.ack('jobs.fifo', [a2.receipt]); // acked out of order: a1 is still in flight
      expect(await receiveAt(s, q, T0 + 10)).toEqual([]);
      await s.ack('jobs.fifo', [a1.receipt]);
      expect(bodies(await receiveAt(s, q, T0 + 20))).toEqual(['a3']);
    });

    it('changeVisibility releases or extends the head, and the group follows it', async () => {
      const s = store();
      const q = await fifoQueue(s);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2')], HOUR, T0);
      const [a1] = await receiveAt(s, q, T0, 1);
      expect(await s.changeVisibility('jobs.fifo', a1.receipt, T0 + 60_000)).toBe(true);
      expect(await receiveAt(s, q, T0 + 5000)).toEqual([]);
      expect(await s.changeVisibility('jobs.fifo', a1.receipt, T0 + 5000)).toBe(true);
      expect(bodies(await receiveAt(s, q, T0 + 5000))).toEqual(['a1', 'a2']);
    });

    it('a queue delay holds a group until its head is due', async () => {
      const s = store();
      const q = await fifoQueue(s, 'slow.fifo', { delaySeconds: 1 });
      await s.sendToQueue('slow.fifo', [inGroup('a', 'a1', { visibleAtMs: T0 + 1000 })], HOUR, T0);
      await s.sendToQueue('slow.fifo', [inGroup('a', 'a2', { visibleAtMs: T0 + 1500 })], HOUR, T0 + 500);
      expect(await receiveAt(s, q, T0 + 999)).toEqual([]);
      expect(await s.nextVisibleAt('slow.fifo')).toBe(T0 + 1000);
      expect(bodies(await receiveAt(s, q, T0 + 1200))).toEqual(['a1']);
    });

    it('deduplicates by deduplication id within the window and answers the first id', async () => {
      const s = store();
      const q = await fifoQueue(s);
      const first = inGroup('a', 'x', { idempotencyKey: 'd1', deduplicationId: 'd1' });
      const [r1] = await s.sendToQueue('jobs.fifo', [first], HOUR, T0);
      const [r2] = await s.sendToQueue('jobs.fifo', [inGroup('b', 'y', { idempotencyKey: 'd1' })], HOUR, T0 + 10);
      // As SQS: the duplicate answers the first message's id and sequence number.
      expect(r1).toMatchObject({ id: first.id, duplicate: false, sequenceNumber: expect.stringMatching(/^\d{20}$/) });
      expect(r2).toEqual({
        id: first.id,
        duplicate: true,
        sequenceNumber: (r1 as { sequenceNumber: string }).sequenceNumber,
      });
      // A duplicate inside one call answers the number its first copy took in that call.
      const inCall = await s.sendToQueue(
        'jobs.fifo',
        [inGroup('a', 'w', { idempotencyKey: 'd2' }), inGroup('a', 'v', { idempotencyKey: 'd2' })],
        HOUR,
        T0 + 20,
      );
      expect(inCall[1]).toEqual({ ...inCall[0], duplicate: true });
      // Past the window the same id is a new message.
      const [r3] = await s.sendToQueue('jobs.fifo', [inGroup('a', 'z', { idempotencyKey: 'd1' })], HOUR, T0 + HOUR + 1);
      expect(r3).toMatchObject({ duplicate: false });
      // A key taken over after the window answers the new message's number, not the old one's.
      const [r4] = await s.sendToQueue('jobs.fifo', [inGroup('a', 'u', { idempotencyKey: 'd1' })], HOUR, T0 + HOUR + 2);
      expect(r4).toEqual({ ...r3, duplicate: true });
      expect((r3 as { sequenceNumber: string }).sequenceNumber).not.toBe(
        (r1 as { sequenceNumber: string }).sequenceNumber,
      );
      expect(bodies(await receiveAt(s, q, T0 + HOUR + 1))).toEqual(['x', 'w', 'z']);
    });

    it('moves a head past maxReceiveCount to the FIFO dead-letter queue and serves the next in order', async () => {
      const s = store();
      const dlq = await fifoQueue(s, 'dlq.fifo');
      const q = await fifoQueue(s, 'jobs.fifo', { maxReceiveCount: 2, deadLetterQueue: 'dlq.fifo' });
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2'), inGroup('a', 'a3')], HOUR, T0);
      expect(bodies(await receiveAt(s, q, T0, 1))).toEqual(['a1']);
      expect(bodies(await receiveAt(s, q, T0 + 1000, 1))).toEqual(['a1']);
      const third = await receiveAt(s, q, T0 + 2000, 1);
      expect(bodies(third)).toEqual(['a2']);
      const [dead] = await receiveAt(s, dlq, T0 + 2000, 10, 0);
      expect(dead).toMatchObject({ body: 'a1', messageGroupId: 'a', sourceQueue: 'jobs.fifo', receiveCount: 1 });
      expect(dead.sequenceNumber).toMatch(/^\d{20}$/);
      // Redrive: a1 goes back with its place in its group, ahead of a3.
      await s.ack('jobs.fifo', [third[0].receipt]);
      expect(await s.redrive('dlq.fifo', 10, T0 + 3000)).toEqual({
        moved: 1,
        queues: ['jobs.fifo'],
        subscriptions: [],
      });
      expect(bodies(await receiveAt(s, q, T0 + 3000))).toEqual(['a1', 'a3']);
    });

    it('purge and retention leave no group blocked', async () => {
      const s = store();
      const q = await fifoQueue(s, 'jobs.fifo', { retentionSeconds: 60 });
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1'), inGroup('a', 'a2')], HOUR, T0);
      expect(bodies(await receiveAt(s, q, T0, 1, HOUR))).toEqual(['a1']);
      expect(await s.purge('jobs.fifo')).toBe(2);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a3', { sentAtMs: T0 + 1 })], HOUR, T0 + 1);
      expect(bodies(await receiveAt(s, q, T0 + 2, 1, HOUR))).toEqual(['a3']);
      // a3 is in flight for an hour, a4 behind it; a3 expires and a4 is free.
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a4', { sentAtMs: T0 + 30_000 })], HOUR, T0 + 30_000);
      expect(await receiveAt(s, q, T0 + 60_002)).toEqual([]);
      await s.sweep(T0 + 60_002, { attemptRetentionMs: HOUR, idempotencyWindowMs: HOUR });
      expect(bodies(await receiveAt(s, q, T0 + 60_003))).toEqual(['a4']);
    });

    it('many groups: each receive serves available groups only, and every message comes out once, in order', async () => {
      const s = store();
      const q = await fifoQueue(s);
      const groups = 40;
      const perGroup = 5;
      const entries: SendEntry[] = [];
      for (let i = 0; i < perGroup; i++) for (let g = 0; g < groups; g++) entries.push(inGroup(`g${g}`, `g${g}:${i}`));
      await s.sendToQueue('jobs.fifo', entries, HOUR, T0);
      const seen = new Map<string, number>();
      let now = T0;
      for (let round = 0; round < 100 && [...seen.values()].reduce((a, b) => a + b, 0) < groups * perGroup; round++) {
        const got = await receiveAt(s, q, now, 7, HOUR);
        const held = new Set<string>();
        for (const m of got) {
          const [g, i] = m.body.split(':');
          expect(held.has(g) && Number(i) !== (seen.get(g) ?? 0)).toBe(false);
          expect(Number(i)).toBe(seen.get(g) ?? 0); // the next of its group, never a later one
          seen.set(g, Number(i) + 1);
          held.add(g);
        }
        await s.ack(
          'jobs.fifo',
          got.map((m) => m.receipt),
        );
        now += 1;
      }
      expect([...seen.values()]).toEqual(Array(groups).fill(perGroup));
      expect(await s.queueStats('jobs.fifo', now)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('a FIFO topic fans a batch out to FIFO queues, in the batch order of every group', async () => {
      const s = store();
      await s.createTopic('events.fifo', T0, { fifo: true, contentBasedDeduplication: false });
      const q1 = await fifoQueue(s, 'one.fifo');
      const q2 = await fifoQueue(s, 'two.fifo');
      const batch = ['a1', 'b1', 'a2', 'a3', 'b2'].map((body) =>
        entry('events.fifo', [], {
          body,
          queues: ['one.fifo', 'two.fifo'],
          idempotencyKey: body,
        }),
      );
      for (const e of batch) for (const c of e.queueCopies) c.groupId = e.body.slice(0, 1);
      await s.publish(batch, HOUR, T0);
      for (const q of [q1, q2]) {
        const got = await receiveAt(s, q, T0);
        expect(bodies(got.filter((m) => m.messageGroupId === 'a'))).toEqual(['a1', 'a2', 'a3']);
        expect(bodies(got.filter((m) => m.messageGroupId === 'b'))).toEqual(['b1', 'b2']);
      }
    });

    it('numbers the new messages of a FIFO topic, and makes copy bodies from the number', async () => {
      const s = store();
      await s.createTopic('events.fifo', T0, { fifo: true, contentBasedDeduplication: false });
      await s.createTopic('other.fifo', T0, { fifo: true, contentBasedDeduplication: false });
      const q = await fifoQueue(s, 'one.fifo');
      const message = (topic: string, body: string) => {
        const e = entry(topic, [], { body, queues: ['one.fifo'], idempotencyKey: body, sequenced: true });
        for (const c of e.queueCopies) {
          c.groupId = 'g';
          c.body = (n) => `${body}#${n}`;
        }
        return e;
      };
      const first = await s.publish([message('events.fifo', 'a'), message('events.fifo', 'b')], HOUR, T0);
      const again = await s.publish(
        [
          message('events.fifo', 'a'),
          message('events.fifo', 'c'),
          message('other.fifo', 'x'),
          message('other.fifo', 'x'),
        ],
        HOUR,
        T0,
      );
      // The second 'x' is a duplicate of the first, in the same call: it answers its number.
      expect(again[3]).toEqual({ ...again[2], duplicate: true });
      again.pop();
      expect(first.map((r) => ('sequenceNumber' in r ? r.sequenceNumber : r))).toEqual([
        '00000000000000000001',
        '00000000000000000002',
      ]);
      // A duplicate answers the first message's number, as SNS does; each topic has its own sequence.
      expect(again[0]).toEqual({ ...first[0], duplicate: true });
      expect(again.slice(1).map((r) => ('sequenceNumber' in r ? r.sequenceNumber : r))).toEqual([
        '00000000000000000003',
        '00000000000000000001',
      ]);
      expect(bodies(await receiveAt(s, q, T0))).toEqual([
        'a#00000000000000000001',
        'b#00000000000000000002',
        'c#00000000000000000003',
        'x#00000000000000000001',
      ]);
      // Standard entries (not sequenced) get none.
      await s.createTopic('plain', T0);
      const [plain] = await s.publish([entry('plain', [])], HOUR, T0);
      expect(plain).not.toHaveProperty('sequenceNumber');
    });

    it('serves groups oldest message first: a busy group does not starve the others', async () => {
      const s = store();
      const q = await fifoQueue(s);
      await s.sendToQueue('jobs.fifo', [inGroup('a', 'a1', { sentAtMs: T0, visibleAtMs: T0 })], HOUR, T0);
      await s.sendToQueue('jobs.fifo', [inGroup('b', 'b1', { sentAtMs: T0 + 1, visibleAtMs: T0 + 1 })], HOUR, T0 + 1);
      const later = ['a2', 'a3', 'a4', 'a5'].map((b, i) =>
        inGroup('a', b, { sentAtMs: T0 + 2 + i, visibleAtMs: T0 + 2 + i }),
      );
      await s.sendToQueue('jobs.fifo', later, HOUR, T0 + 2);
      const order: string[] = [];
      for (let i = 0; i < 6; i++) {
        const got = await receiveAt(s, q, T0 + 100 + i, 1);
        order.push(...bodies(got));
        await s.ack(
          'jobs.fifo',
          got.map((m) => m.receipt),
        );
      }
      expect(order.filter((b) => b.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
      expect(order.indexOf('b1')).toBeLessThanOrEqual(2);
    });

    it('refuses a message without a group on a FIFO queue, and accepts the rest of the batch', async () => {
      const s = store();
      const q = await fifoQueue(s);
      const results = await s.sendToQueue(
        'jobs.fifo',
        [send({ body: 'lost', idempotencyKey: 'k' }), inGroup('a', 'a1')],
        HOUR,
        T0,
      );
      expect(results[0]).toEqual({
        error: { code: 'invalid_request', message: expect.stringMatching(/messageGroupId/) },
      });
      expect(results[1]).toMatchObject({ duplicate: false });
      // The refused message did not claim its key.
      expect(await s.sendToQueue('jobs.fifo', [inGroup('b', 'b1', { idempotencyKey: 'k' })], HOUR, T0)).toMatchObject([
        { duplicate: false },
      ]);
      expect(bodies(await receiveAt(s, q, T0)).sort()).toEqual(['a1', 'b1']);
    });

    it('standard queues carry a message group but do not order by it', async () => {
      const s = store();
      const q = (await s.createQueue(queue('plain'))).queue;
      await s.sendToQueue(
        'plain',
        [send({ body: 'x', groupId: 'tenant-1' }), send({ body: 'y', groupId: 'tenant-1' })],
        HOUR,
        T0,
      );
      const got = await receiveAt(s, q, T0, 1);
      expect(got[0]).toMatchObject({ body: 'x', messageGroupId: 'tenant-1' });
      expect(got[0].sequenceNumber).toBeUndefined();
      expect(bodies(await receiveAt(s, q, T0, 1))).toEqual(['y']); // not blocked behind x
    });
  });
}
