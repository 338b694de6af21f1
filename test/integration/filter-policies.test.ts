/**
 * Filter policies through the native API: validated on POST/PATCH (400 naming the field),
 * applied while the fanout plan is made, so a message a policy rejects never becomes a
 * delivery or a queue copy (checked in the store, not only at the receiver), on both scopes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestHerald, waitFor, type TestHerald } from '../support/herald.js';

describe('filter policies (native API)', () => {
  let h: TestHerald;
  let rx: Receiver;

  beforeEach(async () => {
    h = await startTestHerald();
    rx = await startReceiver();
    await h.client.createTopic('orders');
    await h.client.createQueue('big');
  });

  afterEach(async () => {
    await h.close();
    await rx.close();
  });

  const subscribe = async (body: Record<string, unknown>) => {
    const res = await h.api('POST', '/v1/topics/orders/subscriptions', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; filterPolicy: string | null; filterPolicyScope: string };
  };

  it('creates no delivery and no queue copy for messages the policy rejects (attribute scope)', async () => {
    const hook = await subscribe({
      protocol: 'http',
      endpoint: `${rx.url}/hook`,
      filterPolicy: { kind: ['created'], total: [{ numeric: ['>', 100] }] },
    });
    expect(hook.filterPolicyScope).toBe('MessageAttributes');
    expect(JSON.parse(hook.filterPolicy!)).toEqual({ kind: ['created'], total: [{ numeric: ['>', 100] }] });
    // A native string attribute is a String: "150" does not satisfy a numeric condition.
    const queued = await subscribe({
      protocol: 'queue',
      endpoint: 'big',
      raw: true,
      filterPolicy: '{"kind":["created"]}',
    });
    expect(queued.id).toBeTruthy();

    await h.client.publish('orders', { body: 'rejected by both', attributes: { kind: 'cancelled' } });
    await h.client.publish('orders', { body: 'rejected by hook', attributes: { kind: 'created', total: '150' } });
    await h.client.publish('orders', { body: 'no attributes' });

    // Nothing owed: no pending deliveries, no attempts, only the one matching queue copy.
    expect((await h.herald.store.listDeliveries(hook.id, 'pending', 100)).deliveries).toEqual([]);
    expect((await h.herald.store.listAttempts({ subscriptionId: hook.id, limit: 10 })).attempts).toEqual([]);
    expect(await h.herald.store.queueStats('big', Date.now())).toMatchObject({ visible: 1 });
    const [copy] = await h.client.receive('big', { max: 10 });
    expect(copy.body).toBe('rejected by hook');
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.requests).toEqual([]);
  });

  it('delivers what the body-scope policy matches, and nothing else', async () => {
    const hook = await subscribe({
      protocol: 'http',
      endpoint: `${rx.url}/hook`,
      raw: true,
      filterPolicy: { order: { region: [{ prefix: 'eu-' }] } },
      filterPolicyScope: 'MessageBody',
    });
    expect(hook.filterPolicyScope).toBe('MessageBody');
    await h.client.publish('orders', { body: JSON.stringify({ order: { region: 'us-east-1' } }) });
    await h.client.publish('orders', { body: 'not JSON' });
    await h.client.publish('orders', { body: JSON.stringify({ order: { region: 'eu-west-1' }, n: 1 }) });
    expect((await h.herald.store.listDeliveries(hook.id, 'pending', 100)).deliveries.length).toBeLessThanOrEqual(1);
    await waitFor(() => rx.requests.length === 1, 5000, 'the matching delivery');
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.requests.map((r) => JSON.parse(r.body).n)).toEqual([1]);
  });

  it('applies a policy changed with PATCH to the next message, and removes it with null', async () => {
    const q = await subscribe({ protocol: 'queue', endpoint: 'big', raw: true });
    let res = await h.api('PATCH', `/v1/subscriptions/${q.id}`, { filterPolicy: { kind: ['a'] } });
    expect(res.status).toBe(200);
    await h.client.publish('orders', { body: 'b', attributes: { kind: 'b' } });
    await h.client.publish('orders', { body: 'a', attributes: { kind: 'a' } });
    res = await h.api('PATCH', `/v1/subscriptions/${q.id}`, { filterPolicy: null });
    expect(res.body.filterPolicy).toBeNull();
    await h.client.publish('orders', { body: 'any' });
    expect((await h.client.receive('big', { max: 10 })).map((m) => m.body).sort()).toEqual(['a', 'any']);
  });

  it('answers 400 naming the field for invalid policies and scopes', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ filterPolicy: '{not json' }, /^filterPolicy: failed to parse JSON/],
      [{ filterPolicy: [1] }, /^filterPolicy must be a JSON object/],
      [{ filterPolicy: { a: [1], b: [1], c: [1], d: [1], e: [1], f: [1] } }, /^filterPolicy: .*more than 5 keys/],
      [{ filterPolicy: { a: ['x'] }, filterPolicyScope: 'Body' }, /^filterPolicyScope: Invalid value \[Body\]/],
      [{ style: 'aws' }, /^style must be "herald" or "sns"/],
    ];
    for (const [extra, message] of cases) {
      const res = await h.api('POST', '/v1/topics/orders/subscriptions', {
        protocol: 'http',
        endpoint: `${rx.url}/hook`,
        ...extra,
      });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    const q = await subscribe({ protocol: 'queue', endpoint: 'big' });
    const res = await h.api('PATCH', `/v1/subscriptions/${q.id}`, { filterPolicy: { n: [{ numeric: ['>'] }] } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^filterPolicy: /);
  });
});
