/** Queues through the HTTP API: send, receive, ack, visibility, long polling, dead letters, redrive. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestHerald, waitFor, type TestHerald } from '../support/herald.js';

describe('queues', () => {
  let h: TestHerald;

  beforeEach(async () => {
    h = await startTestHerald();
  });
  afterEach(async () => {
    await h.close();
  });

  it('creates idempotently and refuses a conflicting re-create', async () => {
    const first = await h.api('PUT', '/v1/queues/jobs', { visibilityTimeoutSeconds: 10 });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      name: 'jobs',
      visibilityTimeoutSeconds: 10,
      delaySeconds: 0,
      maxReceiveCount: 0,
    });
    expect((await h.api('PUT', '/v1/queues/jobs', { visibilityTimeoutSeconds: 10 })).status).toBe(200);
    expect((await h.api('PUT', '/v1/queues/jobs')).status).toBe(200);
    const conflict = await h.api('PUT', '/v1/queues/jobs', { visibilityTimeoutSeconds: 20 });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: 'conflict' });
    expect(conflict.body.error.message).toMatch(/visibilityTimeoutSeconds/);
    const patched = await h.api('PATCH', '/v1/queues/jobs', { visibilityTimeoutSeconds: 20 });
    expect(patched.body.visibilityTimeoutSeconds).toBe(20);
    expect((await h.client.listQueues()).map((q) => q.name)).toEqual(['jobs']);
  });

  it('answers "already exists" only once the store vouches that the first create is durable', async () => {
    // On SQLite a reader may see a create while its fsync runs; the re-create must not be
    // answered from that read alone (store.sync() waits for the fsync).
    const sync = vi.spyOn(h.herald.store, 'sync');
    expect((await h.api('PUT', '/v1/queues/jobs')).status).toBe(201);
    expect((await h.api('PUT', '/v1/topics/news')).status).toBe(201);
    expect(sync).not.toHaveBeenCalled();
    expect((await h.api('PUT', '/v1/queues/jobs')).status).toBe(200);
    expect((await h.api('PUT', '/v1/queues/jobs', { visibilityTimeoutSeconds: 99 })).status).toBe(409);
    expect((await h.api('PUT', '/v1/topics/news')).status).toBe(200);
    expect(sync).toHaveBeenCalledTimes(3);
  });

  it('sends, receives with receipts, and acks', async () => {
    await h.client.createQueue('jobs');
    const { id } = await h.client.send('jobs', { body: 'work', attributes: { prio: 'high' } });
    const [m] = await h.client.receive('jobs', { max: 10 });
    expect(m).toMatchObject({ id, body: 'work', attributes: { prio: 'high' }, receiveCount: 1 });
    expect(typeof m.receipt).toBe('string');
    expect(await h.client.receive('jobs', { max: 10 })).toEqual([]); // invisible now
    const acked = await h.client.ack('jobs', [m.receipt, 'bogus.1']);
    expect(acked.acked).toBe(1);
    expect(acked.failed).toEqual([{ receipt: 'bogus.1', error: expect.objectContaining({ code: 'invalid_receipt' }) }]);
    expect((await h.client.getQueue('jobs')).stats).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('makes a message visible again after its visibility timeout, with a new receipt', async () => {
    await h.client.createQueue('jobs', { visibilityTimeoutSeconds: 0.2 });
    await h.client.send('jobs', { body: 'retry me' });
    const [first] = await h.client.receive('jobs');
    expect((await h.client.getQueue('jobs')).stats.inFlight).toBe(1);
    const [second] = await h.client.receive('jobs', { waitSeconds: 2 });
    expect(second.id).toBe(first.id);
    expect(second.receiveCount).toBe(2);
    expect(second.receipt).not.toBe(first.receipt);
    // The stale receipt no longer acks.
    expect((await h.client.ack('jobs', [first.receipt])).acked).toBe(0);
    expect((await h.client.ack('jobs', [second.receipt])).acked).toBe(1);
  });

  it('extends and releases visibility by receipt', async () => {
    await h.client.createQueue('jobs', { visibilityTimeoutSeconds: 0.2 });
    await h.client.send('jobs', { body: 'x' });
    const [m] = await h.client.receive('jobs');
    await h.client.changeVisibility('jobs', m.receipt, 30);
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.client.receive('jobs')).toEqual([]);
    await h.client.changeVisibility('jobs', m.receipt, 0); // release now
    const [again] = await h.client.receive('jobs');
    expect(again.id).toBe(m.id);
    const bad = await h.api('POST', '/v1/queues/jobs/visibility', { receipt: m.receipt, visibilityTimeoutSeconds: 5 });
    expect(bad.status).toBe(400); // replaced by the later receive
  });

  it('answers a long poll as soon as a message arrives', async () => {
    await h.client.createQueue('jobs');
    const started = Date.now();
    const waiting = h.client.receive('jobs', { waitSeconds: 10 });
    await new Promise((r) => setTimeout(r, 150));
    await h.client.send('jobs', { body: 'wake' });
    const got = await waiting;
    expect(got.map((m) => m.body)).toEqual(['wake']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('ends an empty long poll after waitSeconds', async () => {
    await h.client.createQueue('jobs');
    const started = Date.now();
    expect(await h.client.receive('jobs', { waitSeconds: 0.3 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('delays messages by the queue default or per message', async () => {
    await h.client.createQueue('jobs', { delaySeconds: 0.3 });
    await h.client.send('jobs', { body: 'default-delay' });
    await h.client.send('jobs', { body: 'now', delaySeconds: 0 });
    expect((await h.client.receive('jobs', { max: 10 })).map((m) => m.body)).toEqual(['now']);
    expect((await h.client.getQueue('jobs')).stats.delayed).toBe(1);
    const later = await h.client.receive('jobs', { max: 10, waitSeconds: 2 });
    expect(later.map((m) => m.body)).toEqual(['default-delay']);
  });

  it('receives up to 1,000 messages at once, oldest first', async () => {
    await h.client.createQueue('bulk');
    const messages = Array.from({ length: 1000 }, (_, i) => ({ body: `m${i}` }));
    const { results } = await h.client.sendBatch('bulk', messages);
    expect(results.every((r) => 'id' in r)).toBe(true);
    const got = await h.client.receive('bulk', { max: 1000 });
    expect(got).toHaveLength(1000);
    expect(got.slice(0, 3).map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
    expect(
      (
        await h.client.ack(
          'bulk',
          got.map((m) => m.receipt),
        )
      ).acked,
    ).toBe(1000);
  });

  it('moves a message received more than maxReceiveCount times to the dead-letter queue, and redrives it', async () => {
    await h.client.createQueue('jobs-dlq');
    await h.client.createQueue('jobs', {
      maxReceiveCount: 2,
      deadLetterQueue: 'jobs-dlq',
      visibilityTimeoutSeconds: 0,
    });
    const { id } = await h.client.send('jobs', { body: 'poison' });
    expect((await h.client.receive('jobs'))[0].receiveCount).toBe(1);
    expect((await h.client.receive('jobs'))[0].receiveCount).toBe(2);
    expect(await h.client.receive('jobs')).toEqual([]); // third receive moves it instead
    const [dead] = await h.client.receive('jobs-dlq', { visibilityTimeoutSeconds: 0 });
    expect(dead).toMatchObject({ id, body: 'poison', sourceQueue: 'jobs', receiveCount: 1 });

    expect((await h.client.redrive('jobs-dlq')).moved).toBe(1);
    const [back] = await h.client.receive('jobs');
    expect(back).toMatchObject({ id, body: 'poison', receiveCount: 1 });
    expect((await h.client.getQueue('jobs-dlq')).stats.visible).toBe(0);
  });

  it('purges a queue', async () => {
    await h.client.createQueue('jobs');
    await h.client.sendBatch('jobs', [{ body: 'a' }, { body: 'b' }]);
    expect((await h.client.purge('jobs')).purged).toBe(2);
    expect(await h.client.receive('jobs')).toEqual([]);
  });

  it('deduplicates sends with the same idempotency key', async () => {
    await h.client.createQueue('jobs');
    const a = await h.client.send('jobs', { body: 'once', idempotencyKey: 'k1' });
    const b = await h.client.send('jobs', { body: 'once', idempotencyKey: 'k1' });
    expect(b).toEqual({ id: a.id, duplicate: true });
    expect(await h.client.receive('jobs', { max: 10 })).toHaveLength(1);
  });

  it('answers waiting receives when the queue is deleted', async () => {
    await h.client.createQueue('gone');
    const waiting = h.client.receive('gone', { waitSeconds: 10 });
    await new Promise((r) => setTimeout(r, 100));
    await h.client.deleteQueue('gone');
    await expect(waiting).resolves.toEqual([]);
    expect((await h.api('GET', '/v1/queues/gone')).status).toBe(404);
  });

  it('drops messages older than the queue retention', async () => {
    await h.close();
    h = await startTestHerald({ sweepIntervalMs: 50 });
    await h.client.createQueue('short', { retentionSeconds: 1 });
    await h.client.createQueue('long');
    await h.client.send('short', { body: 'expires' });
    await h.client.send('long', { body: 'stays' });
    await waitFor(async () => (await h.client.getQueue('short')).stats.visible === 0, 3000, 'retention');
    expect((await h.client.getQueue('long')).stats.visible).toBe(1);
  });

  it('forgets an idempotency key after its window', async () => {
    await h.close();
    h = await startTestHerald({ idempotencyWindowSeconds: 0.3 });
    await h.client.createQueue('jobs');
    const a = await h.client.send('jobs', { body: 'x', idempotencyKey: 'k' });
    expect((await h.client.send('jobs', { body: 'x', idempotencyKey: 'k' })).duplicate).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    const b = await h.client.send('jobs', { body: 'x', idempotencyKey: 'k' });
    expect(b.duplicate).toBeUndefined();
    expect(b.id).not.toBe(a.id);
  });

  it('keeps queue messages across a restart', async () => {
    await h.client.createQueue('keep');
    await h.client.send('keep', { body: 'durable' });
    const dir = h.dataDir;
    await h.close();
    h = await startTestHerald({}, dir);
    await waitFor(async () => (await h.client.receive('keep')).length === 1);
  });
});
