/**
 * The store contract, part 3: consuming queues (receive, visibility, receipts, ack,
 * purge, dead-lettering by receive count, redrive, stats, retention), against every store
 * in HERALD_TEST_STORES.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { Queue, ReceivedMessage } from '../../src/types.js';
import { STORES } from '../support/stores.js';
import { attempt, entry, HOUR, queue, send, T0, topicWithSubs, useStore } from './fixtures.js';

/** Ack `got` (received messages) by their receipts. */
const ackAll = (s: Store, queueName: string, got: ReceivedMessage[]) =>
  s.ack(
    queueName,
    got.map((m) => m.receipt),
  );

const receiveAt = (s: Store, q: Queue, nowMs: number, max = 10, visibilityMs = 1000) =>
  s.receive(q, { max, visibilityMs, nowMs });

for (const kind of STORES) {
  describe(`${kind} store: queue messages`, () => {
    const store = useStore(kind);

    it('receives visible messages oldest first and hides them for the visibility timeout', async () => {
      const s = store();
      const q = (await s.createQueue(queue('jobs'))).queue;
      const m1 = send({ body: 'one', attributes: { n: '1' } });
      const m2 = send({ body: 'two' });
      await s.sendToQueue('jobs', [m1, m2], HOUR, T0);
      const got = await receiveAt(s, q, T0, 1);
      expect(got).toEqual([
        {
          id: m1.id,
          body: 'one',
          attributes: { n: '1' },
          receipt: expect.any(String),
          receiveCount: 1,
          sentAt: new Date(T0).toISOString(),
          firstReceivedAt: new Date(T0).toISOString(),
        },
      ]);
      expect(await s.queueStats('jobs', T0)).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
      expect((await receiveAt(s, q, T0)).map((m) => m.id)).toEqual([m2.id]);
      expect(await receiveAt(s, q, T0 + 999)).toEqual([]);
      expect(await s.nextVisibleAt('jobs')).toBe(T0 + 1000);
      // The timeout passed without an ack: both are back, received a second time.
      const again = await receiveAt(s, q, T0 + 1000);
      expect(again.map((m) => [m.id, m.receiveCount])).toEqual([
        [m1.id, 2],
        [m2.id, 2],
      ]);
      // The first receive's time stays.
      expect(again[0].firstReceivedAt).toBe(new Date(T0).toISOString());
    });

    it('keeps typed message attributes and the trace header', async () => {
      const s = store();
      const q = (await s.createQueue(queue('typed'))).queue;
      const typed = {
        price: { dataType: 'Number.float' as const, stringValue: '9.5' },
        raw: { dataType: 'Binary' as const, binaryValue: Buffer.from([0, 255]).toString('base64') },
      };
      const m = { ...send({ body: 'b' }), messageAttributes: typed, traceHeader: 'Root=1-x' };
      await s.sendToQueue('typed', [m, send({ body: 'plain' })], HOUR, T0);
      const [got, plain] = await receiveAt(s, q, T0, 2);
      expect(got.messageAttributes).toEqual(typed);
      expect(got.traceHeader).toBe('Root=1-x');
      expect(plain.messageAttributes).toBeUndefined();
      expect(plain.traceHeader).toBeUndefined();
    });

    it('a large send keeps every message whole and in order, through full statements and the rest', async () => {
      const s = store();
      const q = (await s.createQueue(queue('many'))).queue;
      const typed = { n: { dataType: 'Number' as const, stringValue: '7' } };
      // 37: two statements of 16 rows and five single rows, every field varying.
      const batch = Array.from({ length: 37 }, (_, i) => ({
        ...send({ body: `m ${i}`, attributes: i % 3 ? {} : { i: String(i) }, visibleAtMs: T0 + (i % 2) }),
        ...(i % 4 === 0 ? { messageAttributes: typed } : {}),
        ...(i % 5 === 0 ? { traceHeader: `Root=${i}` } : {}),
      }));
      const results = await s.sendToQueue('many', batch, HOUR, T0);
      expect(results).toEqual(batch.map((e) => ({ id: e.id, duplicate: false })));
      const got = await receiveAt(s, q, T0 + 1, 50);
      // Oldest visible first, then in the order sent.
      const order = [...batch.filter((_, i) => i % 2 === 0), ...batch.filter((_, i) => i % 2 === 1)];
      expect(got.map((m) => m.id)).toEqual(order.map((e) => e.id));
      for (const m of got) {
        const sent = batch.find((e) => e.id === m.id)!;
        expect(m.body).toBe(sent.body);
        expect(m.attributes).toEqual(sent.attributes);
        expect(m.messageAttributes).toEqual(sent.messageAttributes);
        expect(m.traceHeader).toBe(sent.traceHeader);
        expect(m.sentAt).toBe(new Date(T0).toISOString());
      }
    });

    it('acks by the latest receipt only; a stale receipt neither acks nor changes visibility', async () => {
      const s = store();
      const q = (await s.createQueue(queue('jobs'))).queue;
      const m = send();
      await s.sendToQueue('jobs', [m], HOUR, T0);
      const [first] = await receiveAt(s, q, T0);
      const [second] = await receiveAt(s, q, T0 + 1000);
      expect(second.receipt).not.toBe(first.receipt);
      expect(await s.changeVisibility('jobs', first.receipt, T0)).toBe(false);
      const stale = await s.ack('jobs', [first.receipt, 'garbage', '0.0']);
      expect(stale.acked).toBe(0);
      expect(stale.failed.map((f) => [f.receipt, f.error.code])).toEqual([
        [first.receipt, 'invalid_receipt'],
        ['garbage', 'invalid_receipt'],
        ['0.0', 'invalid_receipt'],
      ]);
      expect(await s.ack('jobs', [second.receipt])).toEqual({ acked: 1, failed: [] });
      expect(await s.ack('jobs', [second.receipt])).toMatchObject({ acked: 0 });
      expect(await s.queueStats('jobs', T0 + 5000)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('refuses a made-up receipt for a message never received (its stored receipt is 0)', async () => {
      const s = store();
      await s.createQueue(queue('jobs'));
      await s.sendToQueue('jobs', [send()], HOUR, T0);
      // Receipts are "<row in base 36>.<nonce in base 36>"; the first row of a fresh store is 1.
      for (const seq of ['1', '2', '3']) {
        expect(await s.ack('jobs', [`${seq}.0`])).toMatchObject({ acked: 0 });
        expect(await s.changeVisibility('jobs', `${seq}.0`, T0 + HOUR)).toBe(false);
      }
      expect(await s.queueStats('jobs', T0)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    });

    it('changeVisibility extends or ends the hiding of a received message', async () => {
      const s = store();
      const q = (await s.createQueue(queue('jobs'))).queue;
      await s.sendToQueue('jobs', [send()], HOUR, T0);
      const [m] = await receiveAt(s, q, T0);
      expect(await s.changeVisibility('jobs', m.receipt, T0 + 60_000)).toBe(true);
      expect(await receiveAt(s, q, T0 + 5000)).toEqual([]);
      expect(await s.changeVisibility('jobs', m.receipt, T0 + 5000)).toBe(true);
      const [back] = await receiveAt(s, q, T0 + 5000);
      expect(back).toMatchObject({ id: m.id, receiveCount: 2 });
      // A receipt of another queue does not work here.
      await s.createQueue(queue('other'));
      expect(await s.changeVisibility('other', back.receipt, T0)).toBe(false);
      expect(await s.ack('other', [back.receipt])).toMatchObject({ acked: 0 });
    });

    it('purges a queue', async () => {
      const s = store();
      await s.createQueue(queue('jobs'));
      await s.createQueue(queue('keep'));
      await s.sendToQueue('jobs', [send(), send(), send({ visibleAtMs: T0 + HOUR })], HOUR, T0);
      await s.sendToQueue('keep', [send()], HOUR, T0);
      expect(await s.purge('jobs')).toBe(3);
      expect(await s.queueStats('jobs', T0)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      expect(await s.nextVisibleAt('jobs')).toBeNull();
      expect(await s.queueStats('keep', T0)).toMatchObject({ visible: 1 });
    });

    it('moves a message received maxReceiveCount times to the dead-letter queue, and redrive brings it back', async () => {
      const s = store();
      const dlq = (await s.createQueue(queue('dlq'))).queue;
      const q = (await s.createQueue(queue('jobs', { maxReceiveCount: 2, deadLetterQueue: 'dlq' }))).queue;
      const poison = send({ body: 'poison' });
      await s.sendToQueue('jobs', [poison], HOUR, T0);
      expect(await receiveAt(s, q, T0)).toHaveLength(1);
      expect(await receiveAt(s, q, T0 + 1000)).toHaveLength(1);
      const fresh = send({ body: 'fresh', sentAtMs: T0 + 1500, visibleAtMs: T0 + 1500 });
      await s.sendToQueue('jobs', [fresh], HOUR, T0 + 1500);
      // The third receive moves the poison message and still returns the fresh one.
      const third = await receiveAt(s, q, T0 + 2000);
      expect(third.map((m) => m.body)).toEqual(['fresh']);
      const [dead] = await receiveAt(s, dlq, T0 + 2000, 10, 0);
      expect(dead).toMatchObject({ id: poison.id, body: 'poison', sourceQueue: 'jobs', receiveCount: 1 });
      expect(await s.redrive('dlq', 10, T0 + 3000)).toEqual({ moved: 1, queues: ['jobs'], subscriptions: [] });
      expect(await s.queueStats('dlq', T0 + 3000)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      const [back] = await receiveAt(s, q, T0 + 3000);
      expect(back).toMatchObject({ id: poison.id, receiveCount: 1 });
      expect(back.sourceQueue).toBeUndefined();
    });

    it('a large receive takes each message once, with dead letters among them, and every receipt acks', async () => {
      const s = store();
      const dlq = (await s.createQueue(queue('dlq'))).queue;
      const q = (await s.createQueue(queue('jobs', { maxReceiveCount: 1, deadLetterQueue: 'dlq' }))).queue;
      const at = (ms: number) => ({ sentAtMs: ms, visibleAtMs: ms });
      const poison = Array.from({ length: 10 }, (_, i) => send({ body: `poison ${i}` }));
      await s.sendToQueue('jobs', poison, HOUR, T0);
      expect(await receiveAt(s, q, T0, 10)).toHaveLength(10); // back at T0 + 1000, received once
      // In visible order: 21 fresh, the 10 poison messages, 21 more fresh.
      const early = Array.from({ length: 21 }, (_, i) => send({ body: `early ${i}`, ...at(T0 + 900) }));
      const late = Array.from({ length: 21 }, (_, i) => send({ body: `late ${i}`, ...at(T0 + 1100) }));
      await s.sendToQueue('jobs', [...early, ...late], HOUR, T0 + 900);
      const first = await receiveAt(s, q, T0 + 2000, 31);
      const second = await receiveAt(s, q, T0 + 2000, 50);
      expect(first.map((m) => m.body)).toEqual([...early, ...late.slice(0, 10)].map((m) => m.body));
      expect(second.map((m) => m.body)).toEqual(late.slice(10).map((m) => m.body));
      expect([...first, ...second].every((m) => m.receiveCount === 1)).toBe(true);
      expect(new Set([...first, ...second].map((m) => m.receipt)).size).toBe(42);
      const dead = await receiveAt(s, dlq, T0 + 2000, 50);
      expect(dead.map((m) => m.body).sort()).toEqual(poison.map((m) => m.body).sort());
      expect(await ackAll(s, 'jobs', [...first, ...second])).toEqual({ acked: 42, failed: [] });
      expect(await s.queueStats('jobs', T0 + 5000)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it.each([
      ['without a dead-letter queue', {}],
      ['with one after a single receive', { maxReceiveCount: 1, deadLetterQueue: 'dlq' }],
    ])('a receive with no visibility timeout takes each message once (%s)', async (_, over) => {
      const s = store();
      await s.createQueue(queue('dlq'));
      const q = (await s.createQueue(queue('jobs', over))).queue;
      const sent = Array.from({ length: 3 }, (_, i) => send({ body: `m ${i}` }));
      await s.sendToQueue('jobs', sent, HOUR, T0);
      // Visible again at once: the receive must not find what it has just taken.
      const got = await receiveAt(s, q, T0, 10, 0);
      expect(got.map((m) => m.body)).toEqual(sent.map((m) => m.body));
      expect(got.every((m) => m.receiveCount === 1)).toBe(true);
      expect(await s.queueStats('dlq', T0)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      expect(await ackAll(s, 'jobs', got)).toEqual({ acked: 3, failed: [] });
    });

    it("a receive replaces the receipts of all its messages: the earlier receive's no longer ack", async () => {
      const s = store();
      const q = (await s.createQueue(queue('jobs'))).queue;
      await s.sendToQueue(
        'jobs',
        Array.from({ length: 20 }, (_, i) => send({ body: `m ${i}` })),
        HOUR,
        T0,
      );
      const before = await receiveAt(s, q, T0, 20);
      const after = await receiveAt(s, q, T0 + 1000, 20);
      expect(after.map((m) => m.receiveCount)).toEqual(Array(20).fill(2));
      const stale = await ackAll(s, 'jobs', before);
      expect(stale.acked).toBe(0);
      expect(stale.failed).toHaveLength(20);
      expect(await ackAll(s, 'jobs', after)).toEqual({ acked: 20, failed: [] });
    });

    it('does not dead-letter by receive count without a dead-letter queue', async () => {
      const s = store();
      const q = (await s.createQueue(queue('jobs', { maxReceiveCount: 1 }))).queue;
      await s.sendToQueue('jobs', [send()], HOUR, T0);
      expect(await receiveAt(s, q, T0)).toHaveLength(1);
      expect((await receiveAt(s, q, T0 + 1000))[0]).toMatchObject({ receiveCount: 2 });
    });

    it('redrives a subscription dead letter back to that subscription as a fresh delivery', async () => {
      const s = store();
      await s.createQueue(queue('dlq'));
      const [a] = await topicWithSubs(s, 't', 1, { deadLetterQueue: 'dlq' });
      const e = entry('t', [a.id], { body: 'again' });
      await s.publish([e], HOUR, T0);
      const [d] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [{ kind: 'dead_letter', deliveryId: d.deliveryId, attempt: attempt(a.id, e.id, 5), queue: 'dlq', reason: 'x' }],
        T0,
      );
      expect(await s.redrive('dlq', 10, T0 + 50)).toEqual({ moved: 1, queues: [], subscriptions: [a.id] });
      const [fresh] = await s.leaseDeliveries(a.id, T0 + 50, 10, T0 + HOUR);
      expect(fresh).toMatchObject({
        messageId: e.id,
        body: 'again',
        attempts: 0,
        topic: 't',
        attributes: e.attributes,
      });
      expect(await s.queueStats('dlq', T0 + 50)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('leaves dead letters whose source is gone in the dead-letter queue, and redrives at most max', async () => {
      const s = store();
      await s.createQueue(queue('dlq'));
      const src = (await s.createQueue(queue('src', { maxReceiveCount: 1, deadLetterQueue: 'dlq' }))).queue;
      await s.sendToQueue('src', [send(), send(), send()], HOUR, T0);
      await receiveAt(s, src, T0);
      expect(await receiveAt(s, src, T0 + 1000)).toEqual([]); // all three dead-lettered
      expect(await s.redrive('dlq', 2, T0)).toMatchObject({ moved: 2, queues: ['src'] });
      await s.deleteQueue('src');
      expect(await s.redrive('dlq', 10, T0)).toEqual({ moved: 0, queues: [], subscriptions: [] });
      expect(await s.queueStats('dlq', T0 + 5000)).toMatchObject({ visible: 1 });
    });

    it('counts visible, in-flight and delayed messages per queue', async () => {
      const s = store();
      const q = (await s.createQueue(queue('a'))).queue;
      await s.createQueue(queue('b'));
      await s.createQueue(queue('empty'));
      await s.sendToQueue('a', [send(), send(), send({ visibleAtMs: T0 + 10_000 })], HOUR, T0);
      await s.sendToQueue('b', [send()], HOUR, T0);
      await receiveAt(s, q, T0, 1);
      expect(await s.queueStats('a', T0)).toEqual({ visible: 1, inFlight: 1, delayed: 1 });
      const depths = await s.queueDepths(T0);
      expect(depths.sort((x, y) => (x.queue < y.queue ? -1 : 1))).toEqual([
        { queue: 'a', visible: 1, inFlight: 1, delayed: 1 },
        { queue: 'b', visible: 1, inFlight: 0, delayed: 0 },
        { queue: 'empty', visible: 0, inFlight: 0, delayed: 0 },
      ]);
    });

    it("sweep drops messages older than their queue's retention", async () => {
      const s = store();
      await s.createQueue(queue('short', { retentionSeconds: 60 }));
      await s.createQueue(queue('long', { retentionSeconds: 3600 }));
      await s.sendToQueue('short', [send({ sentAtMs: T0 }), send({ sentAtMs: T0 + 50_000 })], HOUR, T0);
      await s.sendToQueue('long', [send({ sentAtMs: T0 })], HOUR, T0);
      await s.sweep(T0 + 60_001, { attemptRetentionMs: HOUR, idempotencyWindowMs: HOUR });
      expect(await s.queueStats('short', T0 + 60_001)).toMatchObject({ visible: 1 });
      expect(await s.queueStats('long', T0 + 60_001)).toMatchObject({ visible: 1 });
    });

    it('deleting a queue deletes its messages; a queue of the same name starts empty', async () => {
      const s = store();
      await s.createQueue(queue('jobs'));
      await s.sendToQueue('jobs', [send(), send()], HOUR, T0);
      expect(await s.deleteQueue('jobs')).toBe(true);
      const q = (await s.createQueue(queue('jobs'))).queue;
      expect(await receiveAt(s, q, T0 + HOUR)).toEqual([]);
      expect(await s.nextVisibleAt('jobs')).toBeNull();
    });
  });
}
