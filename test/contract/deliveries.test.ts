/**
 * The store contract, part 2: deliveries (lease, outcomes, release, nextDueAt, listing,
 * retryFailed) and the attempt log, against every store in HERALD_TEST_STORES.
 */
import { describe, expect, it } from 'vitest';
import type { PublishEntry, Store } from '../../src/store/store.js';
import { STORES } from '../support/stores.js';
import { attempt, entry, HOUR, queue, subscription, T0, topicWithSubs, useStore } from './fixtures.js';

/** Lease the subscription's only pending delivery, check that it carries `e`, and deliver it. */
async function deliverTheOnly(s: Store, subscriptionId: string, e: PublishEntry): Promise<void> {
  const [d, ...more] = await s.leaseDeliveries(subscriptionId, T0, 10, T0 + HOUR);
  expect(more).toEqual([]);
  expect(d).toMatchObject({ messageId: e.id, body: e.body });
  await s.completeDeliveries(
    [{ kind: 'delivered', deliveryId: d.deliveryId, attempt: attempt(subscriptionId, e.id, 1) }],
    T0,
  );
  expect(await s.nextDueAt(subscriptionId)).toBeNull();
}

for (const kind of STORES) {
  describe(`${kind} store: deliveries`, () => {
    const store = useStore(kind);

    it('leases due deliveries in due order, and not again while leased', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const late = entry('t', [a.id], { dueAtMs: T0 + 10 });
      const early = entry('t', [a.id], { dueAtMs: T0 });
      await s.publish([late, early], HOUR, T0);
      const first = await s.leaseDeliveries(a.id, T0 + 10, 1, T0 + HOUR);
      expect(first.map((d) => d.messageId)).toEqual([early.id]);
      const second = await s.leaseDeliveries(a.id, T0 + 10, 10, T0 + HOUR);
      expect(second.map((d) => d.messageId)).toEqual([late.id]);
      expect(await s.leaseDeliveries(a.id, T0 + 20, 10, T0 + HOUR)).toEqual([]);
      expect(new Set([...first, ...second].map((d) => d.deliveryId)).size).toBe(2);
    });

    it('delivered: removes the delivery, logs the attempt, and frees a fanout message once all are done', async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      const e = entry('t', [a.id, b.id]);
      await s.publish([e], HOUR, T0);
      const [da] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [{ kind: 'delivered', deliveryId: da.deliveryId, attempt: attempt(a.id, e.id, 1, { ok: true, status: 200 }) }],
        T0 + 1,
      );
      expect(await s.listDeliveries(a.id, 'pending', 10)).toEqual({ deliveries: [] });
      expect(await s.nextDueAt(a.id)).toBeNull();
      // The other subscription still has the whole message.
      const [db] = await s.leaseDeliveries(b.id, T0, 10, T0 + HOUR);
      expect(db).toMatchObject({ messageId: e.id, body: e.body, attributes: e.attributes });
      await s.completeDeliveries(
        [{ kind: 'delivered', deliveryId: db.deliveryId, attempt: attempt(b.id, e.id, 1) }],
        T0,
      );
      const log = await s.listAttempts({ messageId: e.id, limit: 10 });
      expect(log.attempts.map((x) => [x.subscriptionId, x.attempt])).toEqual([
        [b.id, 1],
        [a.id, 1],
      ]);
      expect(log.attempts[1]).toMatchObject({
        status: 200,
        ok: true,
        latencyMs: 12.5,
        at: new Date(T0 + 1).toISOString(),
      });
    });

    it('a large publish mixing one-subscription and shared messages leases each once, in publish order, after rowids are reused behind a lease', async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      const due = T0 + 100;
      const SHARED = 33;
      // Leave the lowest of 20 leased (so the lease order keeps its place), the rest finished:
      // the largest rowids are gone, and the next rows reuse rowids behind that place.
      const first = Array.from({ length: 20 }, () => entry('t', [a.id], { dueAtMs: due }));
      await s.publish(first, HOUR, T0);
      const leased = await s.leaseDeliveries(a.id, due, 20, T0 + HOUR);
      expect(leased).toHaveLength(20);
      await s.completeDeliveries(
        leased.slice(1).map((d) => ({
          kind: 'delivered' as const,
          deliveryId: d.deliveryId,
          attempt: attempt(a.id, d.messageId, 1),
        })),
        T0,
      );
      // 37 messages for `a` alone: two full statements (whose rows are the ones reusing rowids
      // behind the lease) and five single rows, around one shared message.
      const second = Array.from({ length: 38 }, (_, i) =>
        i === SHARED
          ? entry('t', [a.id, b.id], { dueAtMs: due, body: 'shared' })
          : entry('t', [a.id], { dueAtMs: due, body: `second ${i}` }),
      );
      expect(await s.publish(second, HOUR, T0)).toEqual(second.map((e) => ({ id: e.id, duplicate: false })));
      const got = await s.leaseDeliveries(a.id, due, 100, T0 + HOUR);
      expect(new Set(got.map((d) => d.messageId))).toEqual(new Set(second.map((e) => e.id)));
      expect(got).toHaveLength(second.length);
      // The one-subscription messages keep the batch's order (where the shared one goes is the store's choice).
      const alone = second.filter((_, i) => i !== SHARED);
      expect(got.filter((d) => d.messageId !== second[SHARED].id).map((d) => [d.messageId, d.body])).toEqual(
        alone.map((e) => [e.id, e.body]),
      );
      expect(await s.leaseDeliveries(a.id, due, 100, T0 + HOUR)).toEqual([]);
      expect((await s.leaseDeliveries(b.id, due, 10, T0 + HOUR)).map((d) => d.messageId)).toEqual([second[SHARED].id]);
    });

    // Rows that reuse rowids at and behind a held lease, written 16 to a statement or one by
    // one, must all be leased: each is noted with its own seq (seq math off by one, reversed,
    // or given another row's subscription would hide some of them).
    const leaveOneLeased = async (s: ReturnType<typeof store>, subId: string, count: number, due: number) => {
      await s.publish(
        Array.from({ length: count }, () => entry('t', [subId], { dueAtMs: due })),
        HOUR,
        T0,
      );
      const leased = await s.leaseDeliveries(subId, due, count, T0 + HOUR);
      expect(leased).toHaveLength(count);
      await s.completeDeliveries(
        leased.slice(1).map((d) => ({
          kind: 'delivered' as const,
          deliveryId: d.deliveryId,
          attempt: attempt(subId, d.messageId, 1),
        })),
        T0,
      );
    };

    it.each([
      { name: 'a statement of 16 rows whose first reuses the rowid of the last leased row', before: 2, rows: 16 },
      { name: 'a short publish whose rows reuse rowids behind a held lease', before: 6, rows: 3 },
    ])('$name', async ({ before, rows }) => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const due = T0 + 100;
      await leaveOneLeased(s, a.id, before, due);
      const next = Array.from({ length: rows }, () => entry('t', [a.id], { dueAtMs: due }));
      await s.publish(next, HOUR, T0);
      const got = await s.leaseDeliveries(a.id, due, 100, T0 + HOUR);
      expect(got.map((d) => d.messageId)).toEqual(next.map((e) => e.id));
    });

    it("a statement of 16 rows for two subscriptions: the one row behind the other subscription's lease is leased", async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      const due = T0 + 100;
      await leaveOneLeased(s, b.id, 4, due);
      const next = Array.from({ length: 16 }, (_, i) => entry('t', [i === 1 ? b.id : a.id], { dueAtMs: due }));
      await s.publish(next, HOUR, T0);
      expect((await s.leaseDeliveries(b.id, due, 100, T0 + HOUR)).map((d) => d.messageId)).toEqual([next[1].id]);
      expect((await s.leaseDeliveries(a.id, due, 100, T0 + HOUR)).map((d) => d.messageId)).toEqual(
        next.filter((_, i) => i !== 1).map((e) => e.id),
      );
    });

    it('a publish that fails after 16 of its rows were written leaves none, and a publish in the same commit lands', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      await s.createQueue(queue('q'));
      const bad = Array.from({ length: 20 }, () => entry('t', [a.id]));
      // A queue copy whose text needs a sequence number, on a message that has none: the store throws.
      bad[19] = { ...bad[19], queueCopies: [{ ...entry('t', [], { queues: ['q'] }).queueCopies[0], body: () => 'x' }] };
      const good = Array.from({ length: 3 }, () => entry('t', [a.id]));
      const failed = s.publish(bad, HOUR, T0);
      const landed = s.publish(good, HOUR, T0);
      await expect(failed).rejects.toThrow(/sequence number/);
      await landed;
      const got = await s.leaseDeliveries(a.id, T0, 100, T0 + HOUR);
      expect(got.map((d) => d.messageId)).toEqual(good.map((e) => e.id));
    });

    it('a large mixed batch of outcomes: each lands, and the attempt log keeps the batch order', async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      // 40 messages for `a` alone (inline rows), 9 shared with `b` (fanout rows).
      const alone = Array.from({ length: 40 }, (_, i) => entry('t', [a.id], { body: `alone ${i}` }));
      const shared = Array.from({ length: 9 }, (_, i) => entry('t', [a.id, b.id], { body: `shared ${i}` }));
      await s.publish([...alone, ...shared], HOUR, T0);
      const leased = await s.leaseDeliveries(a.id, T0, 100, T0 + HOUR);
      expect(leased).toHaveLength(49);
      const byMessage = new Map(leased.map((d) => [d.messageId, d]));
      const retried = new Set([alone[3].id, alone[20].id, shared[4].id]);
      const outcomes = [...alone, ...shared].map((e, i) => {
        const d = byMessage.get(e.id)!;
        if (retried.has(e.id))
          return {
            kind: 'retry' as const,
            deliveryId: d.deliveryId,
            dueAtMs: T0 + 5000,
            attempt: attempt(a.id, e.id, 1, { ok: false, status: 500, latencyMs: i }),
          };
        return {
          kind: 'delivered' as const,
          deliveryId: d.deliveryId,
          attempt: attempt(a.id, e.id, 1, { ok: true, status: 200, latencyMs: i }),
        };
      });
      await s.completeDeliveries(outcomes, T0 + 1);
      // Only the retried ones are left, due later; the others are gone.
      const { deliveries } = await s.listDeliveries(a.id, 'pending', 100);
      expect(deliveries.map((d) => d.messageId).sort()).toEqual([...retried].sort());
      expect(await s.nextDueAt(a.id)).toBe(T0 + 5000);
      expect(await s.leaseDeliveries(a.id, T0 + 4999, 100, T0 + HOUR)).toEqual([]);
      // Every attempt is logged once, newest first, with its own fields.
      const log = await s.listAttempts({ subscriptionId: a.id, limit: 100 });
      expect(log.attempts.map((x) => x.messageId)).toEqual(outcomes.map((o) => o.attempt.messageId).reverse());
      expect(log.attempts.map((x) => x.latencyMs)).toEqual(outcomes.map((_, i) => i).reverse());
      expect(
        log.attempts
          .filter((x) => x.status === 500)
          .map((x) => x.messageId)
          .sort(),
      ).toEqual([...retried].sort());
      // The shared messages are whole for `b`, finished by `a` or not.
      const forB = await s.leaseDeliveries(b.id, T0, 100, T0 + HOUR);
      expect(forB.map((d) => d.body).sort()).toEqual(shared.map((e) => e.body).sort());
    });

    it('retry: counts the attempt and makes the delivery due again later', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const e = entry('t', [a.id]);
      await s.publish([e], HOUR, T0);
      const [d] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [{ kind: 'retry', deliveryId: d.deliveryId, dueAtMs: T0 + 500, attempt: attempt(a.id, e.id, 1) }],
        T0,
      );
      expect(await s.nextDueAt(a.id)).toBe(T0 + 500);
      expect(await s.leaseDeliveries(a.id, T0 + 499, 10, T0 + HOUR)).toEqual([]);
      const [again] = await s.leaseDeliveries(a.id, T0 + 500, 10, T0 + HOUR);
      expect(again).toMatchObject({ messageId: e.id, attempts: 1 });
      const { deliveries } = await s.listDeliveries(a.id, 'pending', 10);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({ messageId: e.id, attempts: 1, lastError: 'HTTP 500' });
    });

    it('dead_letter to a queue: the message moves there with where it came from', async () => {
      const s = store();
      await s.createQueue(queue('dlq'));
      const [a, b] = await topicWithSubs(s, 't', 2);
      const e = entry('t', [a.id, b.id], { body: 'precious', attributes: { k: 'v' } });
      await s.publish([e], HOUR, T0);
      const [d] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [
          {
            kind: 'dead_letter',
            deliveryId: d.deliveryId,
            attempt: attempt(a.id, e.id, 3),
            queue: 'dlq',
            reason: 'gave up',
          },
        ],
        T0 + 100,
      );
      expect(await s.listDeliveries(a.id, 'pending', 10)).toEqual({ deliveries: [] });
      expect(await s.listDeliveries(a.id, 'failed', 10)).toEqual({ deliveries: [] });
      const [dead] = await s.receive((await s.getQueue('dlq'))!, { max: 10, visibilityMs: 1000, nowMs: T0 + 100 });
      expect(dead).toMatchObject({
        id: e.id,
        body: 'precious',
        attributes: { k: 'v' },
        sourceSubscription: a.id,
        topic: 't',
        lastError: 'gave up',
        sentAt: new Date(T0).toISOString(),
      });
      // The fanout message is still whole for the other subscription.
      expect((await s.leaseDeliveries(b.id, T0, 10, T0 + HOUR))[0]).toMatchObject({ body: 'precious' });
    });

    it('dead_letter without a queue (or with one that is gone) keeps a failed delivery that retryFailed revives', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const e1 = entry('t', [a.id]);
      const e2 = entry('t', [a.id]);
      await s.publish([e1, e2], HOUR, T0);
      const [d1, d2] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [
          {
            kind: 'dead_letter',
            deliveryId: d1.deliveryId,
            attempt: attempt(a.id, e1.id, 4),
            queue: null,
            reason: 'no',
          },
          { kind: 'dead_letter', deliveryId: d2.deliveryId, attempt: null, queue: 'vanished', reason: 'gone' },
        ],
        T0,
      );
      const failed = await s.listDeliveries(a.id, 'failed', 10);
      expect(failed.deliveries.map((d) => [d.messageId, d.state, d.attempts, d.lastError])).toEqual([
        [e1.id, 'failed', 4, 'no'],
        [e2.id, 'failed', 0, 'gone'],
      ]);
      expect(await s.leaseDeliveries(a.id, T0 + HOUR, 10, T0 + 2 * HOUR)).toEqual([]);
      expect(await s.retryFailed(a.id, T0 + 10)).toBe(2);
      expect(await s.listDeliveries(a.id, 'failed', 10)).toEqual({ deliveries: [] });
      const revived = await s.leaseDeliveries(a.id, T0 + 10, 10, T0 + HOUR);
      expect(revived.map((d) => [d.messageId, d.attempts])).toEqual([
        [e1.id, 0],
        [e2.id, 0],
      ]);
    });

    it('release hands a lease back without spending an attempt, due when asked', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const e = entry('t', [a.id]);
      await s.publish([e], HOUR, T0);
      const [d] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.releaseDeliveries([d.deliveryId], T0 + 300);
      expect(await s.nextDueAt(a.id)).toBe(T0 + 300);
      expect(await s.leaseDeliveries(a.id, T0 + 299, 10, T0 + HOUR)).toEqual([]);
      const [again] = await s.leaseDeliveries(a.id, T0 + 300, 10, T0 + HOUR);
      expect(again).toMatchObject({ messageId: e.id, attempts: 0 });
      await s.releaseDeliveries([], T0);
    });

    it('accepts times with fractions of a millisecond (backoff arithmetic produces them)', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const e = entry('t', [a.id], { dueAtMs: T0 + 0.4 });
      await s.publish([e], HOUR, T0 + 0.3);
      let [d] = await s.leaseDeliveries(a.id, T0 + 1.2, 10, T0 + 1000.7);
      await s.completeDeliveries(
        [
          {
            kind: 'retry',
            deliveryId: d.deliveryId,
            dueAtMs: T0 + 500.4,
            attempt: attempt(a.id, e.id, 1, { atMs: T0 + 0.5 }),
          },
        ],
        T0 + 0.9,
      );
      expect(Math.abs((await s.nextDueAt(a.id))! - (T0 + 500.4))).toBeLessThan(1);
      [d] = await s.leaseDeliveries(a.id, T0 + 501, 10, T0 + HOUR + 0.5);
      await s.releaseDeliveries([d.deliveryId], T0 + 600.5);
      expect(await s.leaseDeliveries(a.id, T0 + 601, 10, T0 + HOUR)).toHaveLength(1);
    });

    it('nextDueAt: the earliest pending delivery, not one that is leased right now', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      expect(await s.nextDueAt(a.id)).toBeNull();
      await s.publish([entry('t', [a.id], { dueAtMs: T0 + 100 }), entry('t', [a.id], { dueAtMs: T0 + 200 })], HOUR, T0);
      expect(await s.nextDueAt(a.id)).toBe(T0 + 100);
      await s.leaseDeliveries(a.id, T0 + 100, 1, T0 + HOUR);
      expect(await s.nextDueAt(a.id)).toBe(T0 + 200);
      await s.leaseDeliveries(a.id, T0 + 200, 1, T0 + HOUR);
      // Everything is leased: nothing is due before the leases run out (SQLite: never, as
      // its leases end with the process; a shared store: when they expire).
      const next = await s.nextDueAt(a.id);
      expect(next === null || next >= T0 + HOUR).toBe(true);
    });

    it('lists pending deliveries in pages, showing leased ones as in flight', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const now = Date.now();
      const entries = Array.from({ length: 5 }, () => entry('t', [a.id], { dueAtMs: now }));
      await s.publish(entries, HOUR, now);
      await s.leaseDeliveries(a.id, now, 1, now + HOUR);
      const p1 = await s.listDeliveries(a.id, 'pending', 2);
      expect(p1.deliveries.map((d) => d.messageId)).toEqual([entries[0].id, entries[1].id]);
      expect(p1.deliveries.map((d) => d.state)).toEqual(['in_flight', 'pending']);
      expect(p1.next).toBeDefined();
      const p2 = await s.listDeliveries(a.id, 'pending', 2, p1.next);
      expect(p2.deliveries.map((d) => d.messageId)).toEqual([entries[2].id, entries[3].id]);
      const p3 = await s.listDeliveries(a.id, 'pending', 2, p2.next);
      expect(p3).toEqual({ deliveries: [expect.objectContaining({ messageId: entries[4].id })] });
      expect(p3.deliveries[0]).toMatchObject({ subscriptionId: a.id, attempts: 0, lastError: null });
    });

    it('lists attempts newest first by subscription, by message, and by both, with paging', async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      const e1 = entry('t', [a.id, b.id]);
      const e2 = entry('t', [a.id]);
      await s.publish([e1, e2], HOUR, T0);
      const leasedA = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      const [db] = await s.leaseDeliveries(b.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [
          { kind: 'retry', deliveryId: leasedA[0].deliveryId, dueAtMs: T0, attempt: attempt(a.id, e1.id, 1) },
          { kind: 'retry', deliveryId: leasedA[1].deliveryId, dueAtMs: T0, attempt: attempt(a.id, e2.id, 1) },
          { kind: 'retry', deliveryId: db.deliveryId, dueAtMs: T0, attempt: attempt(b.id, e1.id, 1) },
        ],
        T0,
      );
      const again = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      const e1Again = again.find((d) => d.messageId === e1.id)!;
      await s.completeDeliveries(
        [{ kind: 'delivered', deliveryId: e1Again.deliveryId, attempt: attempt(a.id, e1.id, 2, { ok: true }) }],
        T0,
      );
      const bySub = await s.listAttempts({ subscriptionId: a.id, limit: 2 });
      expect(bySub.attempts.map((x) => [x.messageId, x.attempt])).toEqual([
        [e1.id, 2],
        [e2.id, 1],
      ]);
      const rest = await s.listAttempts({ subscriptionId: a.id, limit: 2, cursor: bySub.next });
      expect(rest.attempts.map((x) => [x.messageId, x.attempt])).toEqual([[e1.id, 1]]);
      expect(rest.next).toBeUndefined();
      const byMessage = await s.listAttempts({ messageId: e1.id, limit: 10 });
      expect(byMessage.attempts.map((x) => [x.subscriptionId, x.attempt])).toEqual([
        [a.id, 2],
        [b.id, 1],
        [a.id, 1],
      ]);
      const both = await s.listAttempts({ messageId: e1.id, subscriptionId: b.id, limit: 10 });
      expect(both.attempts.map((x) => x.attempt)).toEqual([1]);
      expect(both.attempts[0]).toMatchObject({ ok: false, status: 500, errorClass: 'http_5xx', error: 'HTTP 500' });
    });

    it('sweep drops attempts older than the retention', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const e = entry('t', [a.id]);
      await s.publish([e], HOUR, T0);
      let [d] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [{ kind: 'retry', deliveryId: d.deliveryId, dueAtMs: T0, attempt: attempt(a.id, e.id, 1, { atMs: T0 }) }],
        T0,
      );
      [d] = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      await s.completeDeliveries(
        [
          {
            kind: 'retry',
            deliveryId: d.deliveryId,
            dueAtMs: T0,
            attempt: attempt(a.id, e.id, 2, { atMs: T0 + HOUR }),
          },
        ],
        T0,
      );
      await s.sweep(T0 + HOUR + 10, { attemptRetentionMs: HOUR, idempotencyWindowMs: HOUR });
      const { attempts } = await s.listAttempts({ subscriptionId: a.id, limit: 10 });
      expect(attempts.map((x) => x.attempt)).toEqual([2]);
    });

    it("deleting a subscription drops its deliveries but not other subscriptions' share", async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      const e = entry('t', [a.id, b.id]);
      await s.publish([e], HOUR, T0);
      expect(await s.deleteSubscription(a.id)).toBe(true);
      expect(await s.nextDueAt(a.id)).toBeNull();
      await deliverTheOnly(s, b.id, e);
    });

    // A publish is planned from the subscriptions the catalog knows, which may be gone by the
    // time it commits (deleted meanwhile on this node, or on another node with a cached plan):
    // nothing may be owed to them then, or their rows would stay forever with no lane to take them.
    it('a publish planned for a subscription deleted before it commits owes that subscription nothing', async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      const shared = entry('t', [a.id, b.id]);
      const alone = entry('t', [a.id]);
      const many = Array.from({ length: 20 }, () => entry('t', [a.id]));
      expect(await s.deleteSubscription(a.id)).toBe(true);
      const results = await s.publish([shared, alone, ...many], HOUR, T0);
      expect(results.map((r) => ('id' in r ? r.id : r))).toEqual([shared.id, alone.id, ...many.map((e) => e.id)]);
      expect(await s.nextDueAt(a.id)).toBeNull();
      expect(await s.listDeliveries(a.id, 'pending', 50)).toEqual({ deliveries: [] });
      expect(await s.leaseDeliveries(a.id, T0, 50, T0 + HOUR)).toEqual([]);
      // The subscription still there gets its share, whole.
      await deliverTheOnly(s, b.id, shared);
    });

    it('a publish planned for a queue subscription deleted before it commits makes no copy for it', async () => {
      const s = store();
      await s.createTopic('t', T0);
      for (const name of ['kept', 'dropped']) await s.createQueue(queue(name));
      const kept = subscription('t', { protocol: 'queue', endpoint: 'kept' });
      const dropped = subscription('t', { protocol: 'queue', endpoint: 'dropped' });
      for (const sub of [kept, dropped]) await s.createSubscription(sub);
      const e = entry('t', []);
      e.queueCopies = [
        { queue: 'kept', body: 'for kept', attributes: {}, visibleAtMs: T0, subscriptionId: kept.id },
        { queue: 'dropped', body: 'for dropped', attributes: {}, visibleAtMs: T0, subscriptionId: dropped.id },
      ];
      expect(await s.deleteSubscription(dropped.id)).toBe(true);
      expect(await s.publish([e], HOUR, T0)).toEqual([{ id: e.id, duplicate: false }]);
      expect(await s.queueStats('kept', T0)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
      expect(await s.queueStats('dropped', T0)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('a publish planned for a topic deleted before it commits leaves no deliveries behind', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const planned = [entry('t', [a.id]), entry('t', [a.id])];
      expect(await s.deleteTopic('t')).toBe(true);
      await s.publish(planned, HOUR, T0);
      expect(await s.nextDueAt(a.id)).toBeNull();
      expect(await s.listDeliveries(a.id, 'pending', 10)).toEqual({ deliveries: [] });
    });

    it.each([
      ['their topic', 'topic'],
      ['their subscriptions', 'subscriptions'],
    ] as const)('publishes racing the deletion of %s leave no deliveries behind', async (_, what) => {
      const s = store();
      for (let round = 0; round < 10; round++) {
        const topic = `race-${round}`;
        const [a, b] = await topicWithSubs(s, topic, 2);
        const batches = Array.from({ length: 8 }, (_, i) =>
          Array.from({ length: 25 }, () => entry(topic, i % 2 ? [a.id] : [a.id, b.id])),
        );
        const publishing = batches.map((batch) => s.publish(batch, HOUR, T0));
        const deleting =
          what === 'topic' ? [s.deleteTopic(topic)] : [s.deleteSubscription(a.id), s.deleteSubscription(b.id)];
        await Promise.all([...publishing, ...deleting]);
        for (const sub of [a, b]) {
          expect(await s.nextDueAt(sub.id)).toBeNull();
          expect(await s.listDeliveries(sub.id, 'pending', 10)).toEqual({ deliveries: [] });
        }
      }
    });
  });
}
