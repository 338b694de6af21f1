/** FIFO topics and queues through the native REST API (run on SQLite and on PostgreSQL). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/herald.js';

describe('FIFO topics and queues', () => {
  let h: TestHerald;

  beforeAll(async () => {
    h = await startTestHerald();
  });
  afterAll(async () => {
    await h.close();
  });

  const error = (res: { status: number; body: any }) => [res.status, res.body.error?.message as string];

  it('creates FIFO queues from the name and refuses settings that contradict it', async () => {
    const created = await h.api('PUT', '/v1/queues/orders.fifo', { contentBasedDeduplication: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders.fifo', fifo: true, contentBasedDeduplication: true });
    expect((await h.api('PUT', '/v1/queues/plain')).body).toMatchObject({
      fifo: false,
      contentBasedDeduplication: false,
    });
    expect(error(await h.api('PUT', '/v1/queues/x.fifo', { fifo: false }))).toEqual([
      400,
      expect.stringMatching(/^fifo must be true/),
    ]);
    expect(error(await h.api('PUT', '/v1/queues/y', { contentBasedDeduplication: true }))).toEqual([
      400,
      expect.stringMatching(/contentBasedDeduplication applies to FIFO queues only/),
    ]);
    expect(error(await h.api('PUT', '/v1/queues/bad.fifo.fifo'))).toEqual([400, expect.stringMatching(/queue name/)]);
    const conflict = await h.api('PUT', '/v1/queues/orders.fifo', { contentBasedDeduplication: false });
    expect(conflict.status).toBe(409);
    const patched = await h.api('PATCH', '/v1/queues/orders.fifo', { contentBasedDeduplication: false });
    expect(patched.body).toMatchObject({ fifo: true, contentBasedDeduplication: false });
    expect((await h.api('GET', '/v1/queues/orders.fifo')).body).toMatchObject({ contentBasedDeduplication: false });
    expect((await h.api('PATCH', '/v1/queues/plain', { fifo: true })).status).toBe(400);
  });

  it('requires a dead-letter queue of the same kind', async () => {
    await h.api('PUT', '/v1/queues/std-dlq');
    await h.api('PUT', '/v1/queues/fifo-dlq.fifo');
    expect(error(await h.api('PUT', '/v1/queues/a.fifo', { maxReceiveCount: 3, deadLetterQueue: 'std-dlq' }))).toEqual([
      400,
      expect.stringMatching(/^deadLetterQueue must be a FIFO queue/),
    ]);
    expect(error(await h.api('PUT', '/v1/queues/b', { maxReceiveCount: 3, deadLetterQueue: 'fifo-dlq.fifo' }))).toEqual(
      [400, expect.stringMatching(/^deadLetterQueue must be a standard queue/)],
    );
    expect(
      (await h.api('PUT', '/v1/queues/c.fifo', { maxReceiveCount: 3, deadLetterQueue: 'fifo-dlq.fifo' })).status,
    ).toBe(201);
  });

  it('refuses messages that break the FIFO rules, naming the field; a batch reports them one by one', async () => {
    await h.api('PUT', '/v1/queues/rules.fifo');
    await h.api('PUT', '/v1/queues/rules-std');
    const send = (queue: string, message: object) => h.api('POST', `/v1/queues/${queue}/messages`, message);
    expect(error(await send('rules.fifo', { body: 'x', messageDeduplicationId: 'd' }))).toEqual([
      400,
      'messageGroupId is required on FIFO queue "rules.fifo"',
    ]);
    expect(
      error(await send('rules.fifo', { body: 'x', messageGroupId: 'g', messageDeduplicationId: 'd', delaySeconds: 5 })),
    ).toEqual([
      400,
      expect.stringMatching(/^delaySeconds is not allowed on FIFO queue "rules.fifo".*queue's delaySeconds/),
    ]);
    expect(error(await send('rules.fifo', { body: 'x', messageGroupId: 'g' }))).toEqual([
      400,
      expect.stringMatching(
        /^messageDeduplicationId is required on FIFO queue "rules.fifo", which does not have contentBasedDeduplication/,
      ),
    ]);
    expect(
      error(await send('rules.fifo', { body: 'x', messageGroupId: 'has space', messageDeduplicationId: 'd' })),
    ).toEqual([400, expect.stringMatching(/^messageGroupId must be 1-128 characters/)]);
    expect(error(await send('rules-std', { body: 'x', messageDeduplicationId: 'd' }))).toEqual([
      400,
      expect.stringMatching(/^messageDeduplicationId applies to FIFO queues only.*use idempotencyKey/),
    ]);
    // Standard queues accept a message group (as SQS fair queues do) and return it.
    expect((await send('rules-std', { body: 'x', messageGroupId: 'tenant-7' })).status).toBe(201);
    expect((await h.client.receive('rules-std'))[0]).toMatchObject({ body: 'x', messageGroupId: 'tenant-7' });

    const batch = await h.api('POST', '/v1/queues/rules.fifo/messages/batch', {
      messages: [
        { body: 7 },
        { body: 'ok', messageGroupId: 'g', messageDeduplicationId: '1' },
        { body: 'no group', messageDeduplicationId: '2' },
        { body: 'ok too', messageGroupId: 'g', messageDeduplicationId: '3' },
      ],
    });
    const [bad, a, b, c] = batch.body.results;
    expect(bad.error.message).toMatch(/^messages\[0\]\.body/);
    expect(a.sequenceNumber < c.sequenceNumber).toBe(true);
    expect(b.error).toEqual({
      code: 'invalid_request',
      message: 'messages[2].messageGroupId is required on FIFO queue "rules.fifo"',
    });
    const got = await h.client.receive('rules.fifo', { max: 10 });
    expect(got.map((m) => [m.body, m.messageGroupId, m.messageDeduplicationId])).toEqual([
      ['ok', 'g', '1'],
      ['ok too', 'g', '3'],
    ]);
  });

  it('deduplicates by messageDeduplicationId, or by the body with content-based deduplication', async () => {
    await h.api('PUT', '/v1/queues/dedup.fifo', { contentBasedDeduplication: true });
    const send = (message: object) => h.api('POST', '/v1/queues/dedup.fifo/messages', message);
    const first = await send({ body: 'same', messageGroupId: 'g' });
    expect(first.body).toEqual({ id: expect.any(String), sequenceNumber: expect.stringMatching(/^\d{20}$/) });
    expect((await send({ body: 'same', messageGroupId: 'other' })).body).toEqual({
      id: first.body.id,
      sequenceNumber: first.body.sequenceNumber,
      duplicate: true,
    });
    const explicit = await send({ body: 'same', messageGroupId: 'g', messageDeduplicationId: 'k' });
    expect(explicit.body.duplicate).toBeUndefined();
    // idempotencyKey is the same key under its older name.
    expect((await send({ body: 'else', messageGroupId: 'g', idempotencyKey: 'k' })).body).toEqual({
      id: explicit.body.id,
      sequenceNumber: explicit.body.sequenceNumber,
      duplicate: true,
    });
    expect(
      error(await send({ body: 'x', messageGroupId: 'g', idempotencyKey: 'a', messageDeduplicationId: 'b' }))[0],
    ).toBe(400);
    const got = await h.client.receive('dedup.fifo', { max: 10 });
    expect(got.map((m) => m.messageDeduplicationId)).toEqual([
      '0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5', // SHA-256 of "same"
      'k',
    ]);
  });

  it('receives a group in order and blocks it while its head is in flight; an ack wakes a waiting receive', async () => {
    await h.api('PUT', '/v1/queues/work.fifo', { contentBasedDeduplication: true });
    for (const body of ['a1', 'a2', 'a3']) await h.client.send('work.fifo', { body, messageGroupId: 'a' });
    const [a1] = await h.client.receive('work.fifo');
    expect(a1).toMatchObject({ body: 'a1', messageGroupId: 'a', sequenceNumber: expect.stringMatching(/^\d{20}$/) });
    expect(await h.client.receive('work.fifo', { max: 10 })).toEqual([]);
    expect((await h.client.getQueue('work.fifo')).stats).toEqual({ visible: 2, inFlight: 1, delayed: 0 });
    const started = Date.now();
    const waiting = h.client.receive('work.fifo', { max: 10, waitSeconds: 5 });
    await new Promise((r) => setTimeout(r, 150));
    await h.client.ack('work.fifo', [a1.receipt]);
    const next = await waiting;
    expect(next.map((m) => m.body)).toEqual(['a2', 'a3']);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(next[0].sequenceNumber! > a1.sequenceNumber!).toBe(true);
  });

  it('FIFO topics: created from the name, subscribed only by FIFO queues, fanned out in order', async () => {
    const created = await h.api('PUT', '/v1/topics/events.fifo', { contentBasedDeduplication: true });
    expect(created.body).toMatchObject({ name: 'events.fifo', fifo: true, contentBasedDeduplication: true });
    await h.api('PUT', '/v1/topics/std');
    await h.api('PUT', '/v1/queues/sink.fifo');
    await h.api('PUT', '/v1/queues/sink-std');
    const subscribe = (topic: string, body: object) => h.api('POST', `/v1/topics/${topic}/subscriptions`, body);
    expect(error(await subscribe('events.fifo', { protocol: 'https', endpoint: 'https://example.test/hook' }))).toEqual(
      [400, expect.stringMatching(/^protocol: FIFO topic "events.fifo" delivers only to FIFO queues/)],
    );
    expect(error(await subscribe('events.fifo', { protocol: 'queue', endpoint: 'sink-std' }))).toEqual([
      400,
      'endpoint: FIFO topic "events.fifo" can subscribe only FIFO queues; "sink-std" is standard',
    ]);
    expect(error(await subscribe('std', { protocol: 'queue', endpoint: 'sink.fifo' }))).toEqual([
      400,
      expect.stringMatching(/^endpoint: "sink.fifo" is a FIFO queue; only a FIFO topic/),
    ]);
    expect((await subscribe('events.fifo', { protocol: 'queue', endpoint: 'sink.fifo', raw: true })).status).toBe(201);

    expect(error(await h.api('POST', '/v1/topics/events.fifo/messages', { body: 'x' }))).toEqual([
      400,
      'messageGroupId is required on FIFO topic "events.fifo"',
    ]);
    const batch = await h.api('POST', '/v1/topics/events.fifo/messages/batch', {
      messages: ['a1', 'b1', 'a2', 'b2', 'a3'].map((body) => ({ body, messageGroupId: body[0] })),
    });
    expect(batch.body.results.every((r: { id?: string }) => r.id)).toBe(true);
    const again = await h.api('POST', '/v1/topics/events.fifo/messages', { body: 'a1', messageGroupId: 'a' });
    expect(again.body).toEqual({ ...batch.body.results[0], duplicate: true });
    const got = await h.client.receive('sink.fifo', { max: 10 });
    expect(got.filter((m) => m.messageGroupId === 'a').map((m) => m.body)).toEqual(['a1', 'a2', 'a3']);
    expect(got.filter((m) => m.messageGroupId === 'b').map((m) => m.body)).toEqual(['b1', 'b2']);

    const patched = await h.api('PATCH', '/v1/topics/events.fifo', { contentBasedDeduplication: false });
    expect(patched.body).toMatchObject({ contentBasedDeduplication: false });
    expect(
      error(await h.api('POST', '/v1/topics/events.fifo/messages', { body: 'y', messageGroupId: 'a' }))[1],
    ).toMatch(/messageDeduplicationId is required/);
  });
});
