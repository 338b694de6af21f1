/**
 * The store contract (src/store/store.ts), part 1: topics, subscriptions, queues, and
 * accepting messages (fanout, idempotency, group commit). Runs against every store in
 * HERALD_TEST_STORES; deliveries.test.ts and queue-messages.test.ts cover the rest.
 */
import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { STORES } from '../support/stores.js';
import { entry, HOUR, queue, send, subscription, T0, topicWithSubs, useStore } from './fixtures.js';

for (const kind of STORES) {
  describe(`${kind} store: catalog`, () => {
    const store = useStore(kind);

    it('creates topics once, lists them by name with a cursor, and deletes them', async () => {
      const s = store();
      expect(await s.createTopic('b', T0)).toEqual({
        topic: {
          name: 'b',
          fifo: false,
          contentBasedDeduplication: false,
          createdAt: new Date(T0).toISOString(),
          attributes: {},
          tags: {},
        },
        created: true,
      });
      expect((await s.createTopic('b', T0 + 5)).created).toBe(false);
      await s.createTopic('a', T0);
      await s.createTopic('c', T0);
      expect((await s.getTopic('b'))?.createdAt).toBe(new Date(T0).toISOString());
      expect(await s.getTopic('zz')).toBeNull();
      expect((await s.listTopics(2)).map((t) => t.name)).toEqual(['a', 'b']);
      expect((await s.listTopics(2, 'b')).map((t) => t.name)).toEqual(['c']);
      expect(await s.deleteTopic('b')).toBe(true);
      expect(await s.deleteTopic('b')).toBe(false);
      expect((await s.listTopics(10)).map((t) => t.name)).toEqual(['a', 'c']);
    });

    it('stores subscriptions whole, lists them per topic, updates and deletes them', async () => {
      const s = store();
      await s.createTopic('t', T0);
      await s.createTopic('u', T0);
      const a = subscription('t', { raw: true, deadLetterQueue: 'dlq', createdAt: new Date(T0).toISOString() });
      const b = subscription('t', { protocol: 'queue', endpoint: 'jobs', createdAt: new Date(T0 + 1).toISOString() });
      const c = subscription('u');
      for (const sub of [a, b, c]) await s.createSubscription(sub);
      expect(await s.getSubscription(a.id)).toEqual(a);
      expect(await s.getSubscription('nope')).toBeNull();
      expect((await s.listSubscriptions('t')).map((x) => x.id)).toEqual([a.id, b.id]);
      expect((await s.listAllSubscriptions()).map((x) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
      expect(await s.countSubscriptions('t')).toBe(2);
      const changed = { ...a, endpoint: 'http://127.0.0.1:9/other', status: 'disabled' as const, statusReason: 'gone' };
      await s.updateSubscription(changed);
      expect(await s.getSubscription(a.id)).toEqual(changed);
      expect(await s.deleteSubscription(a.id)).toBe(true);
      expect(await s.deleteSubscription(a.id)).toBe(false);
      expect(await s.countSubscriptions('t')).toBe(1);
    });

    it('deleting a topic deletes its subscriptions and their pending deliveries', async () => {
      const s = store();
      const [sub1, sub2] = await topicWithSubs(s, 't', 2);
      const [other] = await topicWithSubs(s, 'u', 1);
      await s.publish([entry('t', [sub1.id, sub2.id]), entry('u', [other.id])], HOUR, T0);
      expect(await s.deleteTopic('t')).toBe(true);
      expect(await s.getSubscription(sub1.id)).toBeNull();
      expect(await s.listSubscriptions('t')).toEqual([]);
      expect(await s.leaseDeliveries(sub1.id, T0, 10, T0 + HOUR)).toEqual([]);
      expect(await s.nextDueAt(sub2.id)).toBeNull();
      expect(await s.leaseDeliveries(other.id, T0, 10, T0 + HOUR)).toHaveLength(1);
    });

    it('creates queues once, lists, updates and deletes them with their messages', async () => {
      const s = store();
      const q = queue('jobs', { visibilityTimeoutSeconds: 12.5, maxReceiveCount: 3, deadLetterQueue: 'dead' });
      expect(await s.createQueue(queue('dead'))).toMatchObject({ created: true });
      expect(await s.createQueue(q)).toEqual({ queue: q, created: true });
      expect(await s.createQueue({ ...q, delaySeconds: 9 })).toEqual({ queue: q, created: false });
      expect(await s.getQueue('jobs')).toEqual(q);
      expect(await s.getQueue('nope')).toBeNull();
      expect((await s.listQueues()).map((x) => x.name)).toEqual(['dead', 'jobs']);
      await s.updateQueue({ ...q, delaySeconds: 2, maxReceiveCount: 0, deadLetterQueue: null });
      expect(await s.getQueue('jobs')).toMatchObject({ delaySeconds: 2, maxReceiveCount: 0, deadLetterQueue: null });
      await s.sendToQueue('jobs', [send(), send()], HOUR, T0);
      expect(await s.deleteQueue('jobs')).toBe(true);
      expect(await s.deleteQueue('jobs')).toBe(false);
      await s.createQueue(queue('jobs'));
      expect(await s.queueStats('jobs', T0)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    });

    it('keeps the SQS queue settings, tags and change time', async () => {
      const s = store();
      const q = queue('sqs', {
        maxMessageBytes: 2048,
        receiveWaitSeconds: 5,
        redriveAllowPolicy: '{"redrivePermission":"denyAll"}',
        tags: { team: 'a', env: 'dev' },
      });
      expect((await s.createQueue(q)).queue).toEqual(q);
      const later = {
        ...q,
        tags: { env: 'prod' },
        maxMessageBytes: 4096,
        updatedAt: new Date(T0 + 5000).toISOString(),
      };
      await s.updateQueue(later);
      expect(await s.getQueue('sqs')).toEqual(later);
      expect((await s.listQueues())[0]).toEqual(later);
    });

    it('redrives a dead-letter queue to one destination queue', async () => {
      const s = store();
      await s.createQueue(queue('dead'));
      await s.createQueue(queue('elsewhere'));
      await s.sendToQueue('dead', [send({ body: 'a' }), send({ body: 'b' }), send({ body: 'c' })], HOUR, T0);
      expect(await s.redrive('dead', 2, T0, 'elsewhere')).toEqual({
        moved: 2,
        queues: ['elsewhere'],
        subscriptions: [],
      });
      expect(await s.queueStats('elsewhere', T0)).toEqual({ visible: 2, inFlight: 0, delayed: 0 });
      expect(await s.queueStats('dead', T0)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
      await expect(s.redrive('dead', 2, T0, 'nope')).rejects.toMatchObject({ code: 'queue_not_found' });
    });

    it('saves message move tasks and lists them newest first', async () => {
      const s = store();
      const task = {
        handle: 'dead:1',
        sourceQueue: 'dead',
        destinationQueue: null,
        maxPerSecond: null,
        status: 'RUNNING' as const,
        moved: 0,
        toMove: 10,
        failureReason: null,
        startedAt: new Date(T0).toISOString(),
      };
      const other = {
        ...task,
        handle: 'dead:2',
        destinationQueue: 'x',
        maxPerSecond: 5,
        startedAt: new Date(T0 + 1000).toISOString(),
      };
      await s.saveMoveTask(task);
      await s.saveMoveTask(other);
      await s.saveMoveTask({ ...task, handle: 'other:1', sourceQueue: 'other' });
      await s.saveMoveTask({ ...task, status: 'FAILED', moved: 4, failureReason: 'boom' });
      expect(await s.listMoveTasks('dead')).toEqual([
        other,
        { ...task, status: 'FAILED', moved: 4, failureReason: 'boom' },
      ]);
      expect(await s.listMoveTasks()).toHaveLength(3);
    });

    it('reports unknown queues as queue_not_found', async () => {
      const s = store();
      const notFound = { code: 'queue_not_found' };
      await expect(s.queueStats('nope', T0)).rejects.toMatchObject(notFound);
      await expect(s.sendToQueue('nope', [send()], HOUR, T0)).rejects.toMatchObject(notFound);
      await expect(s.receive(queue('nope'), { max: 1, visibilityMs: 1000, nowMs: T0 })).rejects.toMatchObject(notFound);
      await expect(s.ack('nope', ['1.1'])).rejects.toMatchObject(notFound);
      await expect(s.purge('nope')).rejects.toMatchObject(notFound);
      await expect(s.nextVisibleAt('nope')).rejects.toMatchObject(notFound);
      await expect(s.redrive('nope', 10, T0)).rejects.toBeInstanceOf(HeraldError);
    });
  });

  describe(`${kind} store: accepting messages`, () => {
    const store = useStore(kind);

    it('publishes one message to every push subscription and queue copy atomically', async () => {
      const s = store();
      const [a, b] = await topicWithSubs(s, 't', 2);
      await s.createQueue(queue('copies'));
      const e = entry('t', [a.id, b.id], { queues: ['copies'], body: 'hello', attributes: { k: 'v' } });
      expect(await s.publish([e], HOUR, T0)).toEqual([{ id: e.id, duplicate: false }]);
      for (const sub of [a, b]) {
        const [d] = await s.leaseDeliveries(sub.id, T0, 10, T0 + HOUR);
        expect(d).toMatchObject({
          subscriptionId: sub.id,
          attempts: 0,
          messageId: e.id,
          topic: 't',
          body: 'hello',
          attributes: { k: 'v' },
          publishedAtMs: T0,
        });
      }
      const [copy] = await s.receive(await s.getQueue('copies').then((q) => q!), {
        max: 10,
        visibilityMs: 1000,
        nowMs: T0,
      });
      expect(copy).toMatchObject({ id: e.id, body: 'hello', receiveCount: 1 });
    });

    it('stores a single-subscription message and skips copies for queues that are gone', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const e = entry('t', [a.id], { queues: ['deleted-queue'], body: 'solo' });
      expect(await s.publish([e], HOUR, T0)).toEqual([{ id: e.id, duplicate: false }]);
      const leased = await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR);
      expect(leased.map((d) => [d.messageId, d.body])).toEqual([[e.id, 'solo']]);
    });

    it('answers a repeated idempotency key with the first id until the window passes', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      const first = entry('t', [a.id], { idempotencyKey: 'k1' });
      const again = entry('t', [a.id], { idempotencyKey: 'k1' });
      const inBatch = entry('t', [a.id], { idempotencyKey: 'k2' });
      const inBatchAgain = entry('t', [a.id], { idempotencyKey: 'k2' });
      expect(await s.publish([first], 60_000, T0)).toEqual([{ id: first.id, duplicate: false }]);
      expect(await s.publish([again, inBatch, inBatchAgain], 60_000, T0 + 1000)).toEqual([
        { id: first.id, duplicate: true },
        { id: inBatch.id, duplicate: false },
        { id: inBatch.id, duplicate: true },
      ]);
      // Other topics have their own keys.
      await s.createTopic('u', T0);
      const elsewhere = entry('u', [], { idempotencyKey: 'k1' });
      expect(await s.publish([elsewhere], 60_000, T0 + 1000)).toEqual([{ id: elsewhere.id, duplicate: false }]);
      // Only the first message of each key was stored.
      expect(await s.leaseDeliveries(a.id, T0 + 2000, 10, T0 + HOUR)).toHaveLength(2);
      // Past the window the key is new again: a lookup ignores an expired key...
      const stale = entry('t', [a.id], { idempotencyKey: 'k2' });
      expect(await s.publish([stale], 60_000, T0 + 61_001)).toEqual([{ id: stale.id, duplicate: false }]);
      // ...and the sweep forgets it.
      await s.sweep(T0 + 70_000, { attemptRetentionMs: HOUR, idempotencyWindowMs: 60_000 });
      const later = entry('t', [a.id], { idempotencyKey: 'k1' });
      expect(await s.publish([later], 60_000, T0 + 70_000)).toEqual([{ id: later.id, duplicate: false }]);
    });

    it('dedupes queue sends by key per queue', async () => {
      const s = store();
      await s.createQueue(queue('jobs'));
      await s.createQueue(queue('other'));
      const first = send({ idempotencyKey: 'x' });
      expect(await s.sendToQueue('jobs', [first], 60_000, T0)).toEqual([{ id: first.id, duplicate: false }]);
      const dup = send({ idempotencyKey: 'x' });
      expect(await s.sendToQueue('jobs', [dup], 60_000, T0 + 1)).toEqual([{ id: first.id, duplicate: true }]);
      const otherQueue = send({ idempotencyKey: 'x' });
      expect(await s.sendToQueue('other', [otherQueue], 60_000, T0 + 1)).toEqual([
        { id: otherQueue.id, duplicate: false },
      ]);
      expect(await s.queueStats('jobs', T0 + 1)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    });

    it('commits concurrent calls together and fails only the call that names an unknown queue', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      await s.createQueue(queue('jobs'));
      const calls = [
        s.publish([entry('t', [a.id])], HOUR, T0),
        s.sendToQueue('missing', [send()], HOUR, T0),
        s.sendToQueue('jobs', [send(), send()], HOUR, T0),
        s.publish([entry('t', [a.id]), entry('t', [a.id])], HOUR, T0),
      ];
      const settled = await Promise.allSettled(calls);
      expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'queue_not_found' });
      expect(await s.queueStats('jobs', T0)).toMatchObject({ visible: 2 });
      expect(await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR)).toHaveLength(3);
    });

    it('keeps a delayed message out of reach until it is due', async () => {
      const s = store();
      const [a] = await topicWithSubs(s, 't', 1);
      await s.createQueue(queue('jobs'));
      await s.publish([entry('t', [a.id], { dueAtMs: T0 + 5000, queues: ['jobs'] })], HOUR, T0);
      expect(await s.leaseDeliveries(a.id, T0, 10, T0 + HOUR)).toEqual([]);
      expect(await s.nextDueAt(a.id)).toBe(T0 + 5000);
      const jobs = (await s.getQueue('jobs'))!;
      expect(await s.receive(jobs, { max: 10, visibilityMs: 1000, nowMs: T0 })).toEqual([]);
      expect(await s.queueStats('jobs', T0)).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
      expect(await s.nextVisibleAt('jobs')).toBe(T0 + 5000);
      expect(await s.leaseDeliveries(a.id, T0 + 5000, 10, T0 + HOUR)).toHaveLength(1);
      expect(await s.receive(jobs, { max: 10, visibilityMs: 1000, nowMs: T0 + 5000 })).toHaveLength(1);
    });

    it('reports itself healthy while open', async () => {
      expect(store().healthy()).toBe(true);
    });
  });
}
