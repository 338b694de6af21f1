/**
 * The store contract, SNS part (migration 4): topic attributes and tags, subscription filter
 * policies, delivery style and confirmation tokens, typed message attributes and subjects
 * carried to the delivery engine and kept by dead letters, and the shared SNS signing identity. Every store in
 * HERALD_TEST_STORES.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { MessageAttributes, Subscription } from '../../src/types.js';
import { STORES } from '../support/stores.js';
import { entry, HOUR, queue, subscription, T0, useStore } from './fixtures.js';

async function createAgain(s: Store, sub: Subscription): Promise<Subscription> {
  await s.createSubscription(sub);
  return sub;
}

for (const kind of STORES) {
  describe(`${kind} store: SNS fields`, () => {
    const store = useStore(kind);

    it('keeps topic attributes and tags, and replaces them on update', async () => {
      const s = store();
      await s.createTopic('t', T0);
      expect(await s.getTopic('t')).toMatchObject({ attributes: {}, tags: {} });
      const updated = {
        name: 't',
        fifo: false,
        contentBasedDeduplication: false,
        createdAt: new Date(T0).toISOString(),
        attributes: { SignatureVersion: '2', DisplayName: 'Orders' },
        tags: { team: 'core', 'cost-center': '42' },
      };
      expect(await s.updateTopicSettings(updated)).toBe(true);
      expect(await s.getTopic('t')).toEqual(updated);
      expect((await s.listTopics(10))[0]).toEqual(updated);
      expect(await s.updateTopicSettings({ ...updated, attributes: {}, tags: {} })).toBe(true);
      expect(await s.getTopic('t')).toMatchObject({ attributes: {}, tags: {} });
      expect(await s.updateTopicSettings({ ...updated, name: 'missing' })).toBe(false);
    });

    it('stores filter policies, style and confirmation token, and updates them', async () => {
      const s = store();
      await s.createTopic('t', T0);
      const sub = subscription('t', {
        filterPolicy: '{"store":["example_corp"]}',
        filterPolicyScope: 'MessageBody',
        style: 'sns',
        status: 'pending_confirmation',
        confirmationToken: 'abc123',
      });
      await s.createSubscription(sub);
      expect(await s.getSubscription(sub.id)).toEqual(sub);
      const confirmed = {
        ...sub,
        status: 'active' as const,
        confirmationToken: null,
        filterPolicy: null,
        filterPolicyScope: 'MessageAttributes' as const,
      };
      await s.updateSubscription(confirmed);
      expect(await s.getSubscription(sub.id)).toEqual(confirmed);
      expect((await s.listSubscriptions('t'))[0]).toEqual(confirmed);
    });

    it('hands typed attributes and the subject to the delivery engine, for shared and inline messages', async () => {
      const s = store();
      await s.createTopic('t', T0);
      const a = subscription('t');
      const b = subscription('t');
      await s.createSubscription(a);
      await s.createSubscription(b);
      const typed = {
        attributes: { plain: 'x' },
        messageAttributes: {
          price: { dataType: 'Number', stringValue: '12.5' },
          tags: { dataType: 'String.Array', stringValue: '["a","b"]' },
          blob: { dataType: 'Binary', binaryValue: 'AAEC' },
          label: { dataType: 'String.custom', stringValue: 'x' },
        } as MessageAttributes,
        subject: 'Hello',
      };
      await s.publish(
        [entry('t', [a.id, b.id], { ...typed }), entry('t', [a.id], { attributes: { only: 'strings' } })],
        HOUR,
        T0,
      );
      const leased = await s.leaseDeliveries(a.id, T0 + 1, 10, T0 + HOUR);
      expect(leased).toHaveLength(2);
      const [shared, plain] = leased[0].subject ? leased : [leased[1], leased[0]];
      expect(shared).toMatchObject(typed);
      expect(plain.attributes).toEqual({ only: 'strings' });
      expect(plain.messageAttributes).toBeUndefined();
      expect(plain.subject).toBeUndefined();
      const [inline] = await s.leaseDeliveries(b.id, T0 + 1, 10, T0 + HOUR);
      expect(inline).toMatchObject(typed);
    });

    it('stores a delivery with its own text apart; the others share the message', async () => {
      const s = store();
      await s.createQueue(queue('dlq'));
      await s.createTopic('t', T0);
      const [a, b, c, d] = [0, 1, 2, 3].map(() => subscription('t'));
      for (const sub of [a, b, c, d]) await s.createSubscription(sub);
      const e = entry('t', [a.id, b.id], { body: 'default' });
      e.deliveries.push(
        { subscriptionId: c.id, dueAtMs: T0, body: 'for https' },
        { subscriptionId: d.id, dueAtMs: T0, body: 'for https' },
      );
      // Alone with its own text: inline.
      const lone = entry('t', [], { body: 'lone default' });
      lone.deliveries.push({ subscriptionId: a.id, dueAtMs: T0, body: 'lone own' });
      await s.publish([e, lone], HOUR, T0);
      const lease = async (id: string) => (await s.leaseDeliveries(id, T0, 10, T0 + HOUR)).map((x) => x.body).sort();
      expect(await lease(a.id)).toEqual(['default', 'lone own']);
      expect(await lease(b.id)).toEqual(['default']);
      expect(await lease(c.id)).toEqual(['for https']);
      const [dd] = await s.leaseDeliveries(d.id, T0, 10, T0 + HOUR);
      expect(dd).toMatchObject({ body: 'for https', messageId: e.id });
      // A dead letter keeps the text it was owed.
      await s.completeDeliveries(
        [{ kind: 'dead_letter', deliveryId: dd.deliveryId, attempt: null, queue: 'dlq', reason: 'x' }],
        T0 + 1,
      );
      const [dead] = await s.receive((await s.getQueue('dlq'))!, { max: 10, visibilityMs: 1000, nowMs: T0 + 1 });
      expect(dead).toMatchObject({ id: e.id, body: 'for https' });
    });

    it('a dead-lettered delivery keeps its typed attributes, for queue receivers and for a redrive back', async () => {
      const s = store();
      await s.createQueue(queue('dlq'));
      await s.createTopic('t', T0);
      const inline = subscription('t', { deadLetterQueue: 'dlq' });
      const shared = [subscription('t', { deadLetterQueue: 'dlq' }), subscription('t')];
      for (const sub of [inline, ...shared]) await s.createSubscription(sub);
      const typed = {
        attributes: {},
        messageAttributes: {
          price: { dataType: 'Number', stringValue: '12.5' },
          blob: { dataType: 'Binary', binaryValue: 'AAEC' },
          label: { dataType: 'String.custom', stringValue: 'x' },
          list: { dataType: 'String.Array', stringValue: '["a"]' },
        } as MessageAttributes,
        subject: 'Hello',
      };
      // One message stored inline with its only delivery, one shared by two subscriptions.
      const one = entry('t', [inline.id], { ...typed, body: 'inline' });
      const two = entry('t', [shared[0].id, shared[1].id], { ...typed, attributes: { plain: 'p' }, body: 'shared' });
      await s.publish([one, two], HOUR, T0);
      for (const sub of [inline, shared[0]]) {
        const [d] = await s.leaseDeliveries(sub.id, T0, 10, T0 + HOUR);
        await s.completeDeliveries(
          [{ kind: 'dead_letter', deliveryId: d.deliveryId, attempt: null, queue: 'dlq', reason: 'gave up' }],
          T0 + 1,
        );
      }
      const dead = await s.receive((await s.getQueue('dlq'))!, { max: 10, visibilityMs: 1000, nowMs: T0 + 1 });
      expect(dead.map((m) => [m.body, m.attributes, m.messageAttributes])).toEqual([
        ['inline', {}, typed.messageAttributes],
        ['shared', { plain: 'p' }, typed.messageAttributes],
      ]);
      // Back to the subscriptions: typed attributes and subject as published.
      await s.changeVisibility('dlq', dead[0].receipt, T0 + 1);
      await s.changeVisibility('dlq', dead[1].receipt, T0 + 1);
      expect(await s.redrive('dlq', 10, T0 + 2)).toMatchObject({ moved: 2 });
      const [again] = await s.leaseDeliveries(inline.id, T0 + 2, 10, T0 + 2 + HOUR);
      expect(again).toMatchObject({ body: 'inline', ...typed });
      const [againShared] = await s.leaseDeliveries(shared[0].id, T0 + 2, 10, T0 + 2 + HOUR);
      expect(againShared).toMatchObject({ body: 'shared', ...typed, attributes: { plain: 'p' } });
    });

    it('keeps a deleted subscription by its token until it expires, to be restored once', async () => {
      const s = store();
      await s.createTopic('t', T0);
      await s.createTopic('u', T0);
      const kept = subscription('t', { style: 'sns', filterPolicy: '{"a":["b"]}', deadLetterQueue: null });
      const gone = subscription('t', { style: 'sns' });
      const late = subscription('t', { style: 'sns' });
      for (const sub of [kept, gone, late]) await s.createSubscription(sub);
      await s.publish([entry('t', [kept.id])], HOUR, T0);
      expect(await s.deleteSubscription(kept.id, { token: 'tok-1', untilMs: T0 + HOUR })).toBe(true);
      expect(await s.deleteSubscription(gone.id)).toBe(true);
      expect(await s.deleteSubscription(late.id, { token: 'tok-3', untilMs: T0 + 10 })).toBe(true);
      expect(await s.deleteSubscription('nope', { token: 'tok-4', untilMs: T0 + HOUR })).toBe(false);
      expect(await s.getSubscription(kept.id)).toBeNull();
      expect(await s.listDeliveries(kept.id, 'pending', 10)).toEqual({ deliveries: [] });
      // Only with its topic and token, only before it expires, and only once; restored in the
      // same commit that takes the token, active, with its id and settings.
      expect(await s.restoreUnsubscribed('u', 'tok-1', T0)).toBeNull();
      const active = { ...kept, status: 'active', statusReason: null, confirmationToken: null };
      expect(await s.restoreUnsubscribed('t', 'tok-1', T0)).toEqual({ subscription: active, restored: true });
      expect(await s.getSubscription(kept.id)).toEqual(active);
      expect(await s.restoreUnsubscribed('t', 'tok-1', T0)).toBeNull();
      expect(await s.restoreUnsubscribed('t', 'tok-3', T0 + 10)).toBeNull();
      expect(await s.restoreUnsubscribed('t', 'tok-4', T0)).toBeNull();
      // The sweep drops expired ones.
      await s.deleteSubscription((await createAgain(s, late)).id, { token: 'tok-5', untilMs: T0 + 10 });
      await s.sweep(T0 + 20, { attemptRetentionMs: HOUR, idempotencyWindowMs: HOUR });
      expect(await s.restoreUnsubscribed('t', 'tok-5', T0)).toBeNull();
    });

    it('restores to the subscription made again for the same endpoint, and drops a dead-letter queue gone meanwhile', async () => {
      const s = store();
      await s.createTopic('t', T0);
      await s.createQueue(queue('dlq'));
      const first = subscription('t', { style: 'sns', endpoint: 'http://127.0.0.1:9/a', deadLetterQueue: 'dlq' });
      const other = subscription('t', { style: 'sns', endpoint: 'http://127.0.0.1:9/b', deadLetterQueue: 'dlq' });
      for (const sub of [first, other]) await s.createSubscription(sub);
      await s.deleteSubscription(first.id, { token: 'tok-a', untilMs: T0 + HOUR });
      await s.deleteSubscription(other.id, { token: 'tok-b', untilMs: T0 + HOUR });
      const again = subscription('t', { style: 'sns', endpoint: first.endpoint });
      await s.createSubscription(again);
      // Subscribed again meanwhile: that subscription is the answer, and the token is used up.
      expect(await s.restoreUnsubscribed('t', 'tok-a', T0)).toEqual({ subscription: again, restored: false });
      expect(await s.restoreUnsubscribed('t', 'tok-a', T0)).toBeNull();
      expect(await s.getSubscription(first.id)).toBeNull();
      await s.deleteQueue('dlq');
      const restored = await s.restoreUnsubscribed('t', 'tok-b', T0);
      expect(restored).toMatchObject({ restored: true, subscription: { id: other.id, deadLetterQueue: null } });
      expect(await s.getSubscription(other.id)).toEqual(restored!.subscription);
    });

    it('forgets the unsubscribed subscriptions of a deleted topic (a topic made again does not get them)', async () => {
      const s = store();
      await s.createTopic('t', T0);
      const sub = subscription('t', { style: 'sns' });
      await s.createSubscription(sub);
      expect(await s.deleteSubscription(sub.id, { token: 'tok-t', untilMs: T0 + HOUR })).toBe(true);
      expect(await s.deleteTopic('t')).toBe(true);
      await s.createTopic('t', T0);
      expect(await s.restoreUnsubscribed('t', 'tok-t', T0)).toBeNull();
    });

    it('keeps one SNS signing identity for every caller (stores shared by several nodes)', async () => {
      const s = store();
      if (!s.sharedSigningIdentity) {
        expect(kind).toBe('sqlite'); // a single-node store keeps the key in its data directory
        return;
      }
      const first = await s.sharedSigningIdentity({ keyPem: 'key-1', certPem: 'cert-1' });
      const second = await s.sharedSigningIdentity({ keyPem: 'key-2', certPem: 'cert-2' });
      expect(first).toEqual({ keyPem: 'key-1', certPem: 'cert-1' });
      expect(second).toEqual(first);
    });
  });
}
