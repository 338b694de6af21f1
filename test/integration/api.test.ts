/** The REST contract: topics, publishing, subscriptions, errors and operations endpoints. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, TEST_STORE, type TestHerald } from '../support/herald.js';

describe('REST API', () => {
  let h: TestHerald;

  beforeAll(async () => {
    h = await startTestHerald({ maxMessageBytes: 1024 });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('topics', () => {
    it('creates idempotently, gets, lists with pages and deletes', async () => {
      const created = await h.api('PUT', '/v1/topics/alpha');
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'alpha' });
      expect((await h.api('PUT', '/v1/topics/alpha')).status).toBe(200);
      await h.api('PUT', '/v1/topics/beta');
      await h.api('PUT', '/v1/topics/gamma');
      const page1 = await h.api('GET', '/v1/topics?limit=2');
      expect(page1.body.topics.map((t: { name: string }) => t.name)).toEqual(['alpha', 'beta']);
      const page2 = await h.api('GET', `/v1/topics?limit=2&cursor=${page1.body.next}`);
      expect(page2.body.topics.map((t: { name: string }) => t.name)).toEqual(['gamma']);
      expect(page2.body.next).toBeUndefined();
      expect((await h.api('GET', '/v1/topics/alpha')).body).toMatchObject({ name: 'alpha', subscriptions: 0 });
      expect((await h.api('DELETE', '/v1/topics/gamma')).status).toBe(204);
      const missing = await h.api('GET', '/v1/topics/gamma');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('topic_not_found');
    });

    it('validates names', async () => {
      const bad = await h.api('PUT', '/v1/topics/has%20space');
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/topic name/);
    });
  });

  describe('publishing', () => {
    it('publishes one message and answers 201 with an id', async () => {
      await h.api('PUT', '/v1/topics/pub');
      const res = await h.api('POST', '/v1/topics/pub/messages', { body: 'hi', attributes: { a: 'b' } });
      expect(res.status).toBe(201);
      expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('reports batch entries one by one', async () => {
      const res = await h.api('POST', '/v1/topics/pub/messages/batch', {
        messages: [{ body: 'ok' }, { body: 7 }, { body: 'x'.repeat(2000) }, { body: 'ok2' }],
      });
      expect(res.status).toBe(200);
      const [a, b, c, d] = res.body.results;
      expect(a.id).toBeTruthy();
      expect(b.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/messages\[1\]\.body/) });
      expect(c.error.code).toBe('message_too_large');
      expect(d.id).toBeTruthy();
      expect((await h.api('POST', '/v1/topics/pub/messages/batch', { messages: [] })).status).toBe(400);
      const tooMany = Array.from({ length: 1001 }, () => ({ body: 'x' }));
      expect((await h.api('POST', '/v1/topics/pub/messages/batch', { messages: tooMany })).status).toBe(400);
    });

    it('returns the first id for a repeated idempotency key', async () => {
      const a = await h.api('POST', '/v1/topics/pub/messages', { body: 'once', idempotencyKey: 'order-1' });
      const b = await h.api('POST', '/v1/topics/pub/messages', { body: 'once', idempotencyKey: 'order-1' });
      expect(b.body).toEqual({ id: a.body.id, duplicate: true });
      const c = await h.api('POST', '/v1/topics/pub/messages', { body: 'once', idempotencyKey: 'order-2' });
      expect(c.body.id).not.toBe(a.body.id);
    });

    it.each([
      [{ body: 1 }, /body must be a string/],
      [{}, /body must be a string/],
      [{ body: 'x', attributes: { a: 1 } }, /attributes\.a must be a string/],
      [
        { body: 'x', attributes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) },
        /at most 10/,
      ],
      [{ body: 'x', delaySeconds: 901 }, /delaySeconds/],
      [{ body: 'x', idempotencyKey: '' }, /idempotencyKey/],
      [[1, 2], /must be an object/],
    ])('rejects %j with 400 naming the field', async (body, message) => {
      const res = await h.api('POST', '/v1/topics/pub/messages', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(message);
    });

    it('answers 400 for invalid JSON, 413 for large messages, 415 for other content types', async () => {
      const badJson = await h.api('POST', '/v1/topics/pub/messages', '{"body": ');
      expect(badJson.status).toBe(400);
      expect(badJson.body.error.code).toBe('invalid_json');
      const big = await h.api('POST', '/v1/topics/pub/messages', { body: 'x'.repeat(1025) });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('message_too_large');
      const form = await h.api('POST', '/v1/topics/pub/messages', 'body=x', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(415);
      expect(form.body.error.code).toBe('unsupported_media_type');
    });

    it('publishes texts by protocol (bodies): a queue subscription gets the queue text, and queues refuse bodies', async () => {
      await h.api('PUT', '/v1/topics/texts');
      await h.client.createQueue('texts-raw');
      await h.client.createQueue('texts-wrapped');
      await h.client.subscribe('texts', { protocol: 'queue', endpoint: 'texts-raw', raw: true });
      await h.client.subscribe('texts', { protocol: 'queue', endpoint: 'texts-wrapped' });
      const res = await h.api('POST', '/v1/topics/texts/messages', {
        body: 'default',
        bodies: { queue: 'for queues', http: 'for webhooks' },
      });
      expect(res.status).toBe(201);
      await h.api('POST', '/v1/topics/texts/messages', { body: 'plain', bodies: { http: 'for webhooks' } });
      expect((await h.client.receive('texts-raw', { max: 10 })).map((m) => m.body)).toEqual(['for queues', 'plain']);
      const wrapped = await h.client.receive('texts-wrapped', { max: 10 });
      expect(wrapped.map((m) => JSON.parse(m.body).body)).toEqual(['for queues', 'plain']);
      const bad = await h.api('POST', '/v1/topics/texts/messages', { body: 'x', bodies: { sqs: 'not a protocol' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/bodies\.sqs: not a protocol/);
      // Every text counts towards the size limit (1024 bytes here).
      const big = await h.api('POST', '/v1/topics/texts/messages', { body: 'x', bodies: { queue: 'y'.repeat(1100) } });
      expect(big.status).toBe(413);
      const toQueue = await h.api('POST', '/v1/queues/texts-raw/messages', { body: 'x', bodies: { queue: 'y' } });
      expect(toQueue.status).toBe(400);
      expect(toQueue.body.error.message).toMatch(/bodies: texts by protocol apply to topic publishes/);
    });

    it('answers 404 for an unknown topic', async () => {
      const res = await h.api('POST', '/v1/topics/nope/messages', { body: 'x' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('topic_not_found');
    });
  });

  describe('subscriptions', () => {
    it('subscribes, lists, patches and deletes', async () => {
      await h.api('PUT', '/v1/topics/subs');
      const res = await h.api('POST', '/v1/topics/subs/subscriptions', {
        protocol: 'http',
        endpoint: 'http://127.0.0.1:9/hook',
        deliveryPolicy: { maxAttempts: 3, backoff: { initialSeconds: 2 } },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        topic: 'subs',
        protocol: 'http',
        endpoint: 'http://127.0.0.1:9/hook',
        raw: false,
        status: 'active',
        deliveryPolicy: {
          maxAttempts: 3,
          backoff: { initialSeconds: 2, maxSeconds: 300, multiplier: 2 },
          timeoutSeconds: 15,
        },
      });
      expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      const id = res.body.id;
      expect((await h.api('GET', '/v1/topics/subs/subscriptions')).body.subscriptions).toHaveLength(1);
      const patched = await h.api('PATCH', `/v1/subscriptions/${id}`, { status: 'disabled', raw: true });
      expect(patched.body).toMatchObject({ status: 'disabled', raw: true });
      expect((await h.api('GET', `/v1/subscriptions/${id}`)).body.status).toBe('disabled');
      expect((await h.api('DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);
      expect((await h.api('GET', `/v1/subscriptions/${id}`)).status).toBe(404);
    });

    it.each([
      [{ protocol: 'smtp', endpoint: 'x' }, /protocol must be one of/],
      [{ protocol: 'http', endpoint: 'not a url' }, /not a valid URL/],
      [{ protocol: 'https', endpoint: 'http://example.test/' }, /must be an https:\/\/ URL/],
      [{ protocol: 'http', endpoint: 'http://u:p@127.0.0.1/' }, /credentials/],
      [
        { protocol: 'http', endpoint: 'http://127.0.0.1/', deliveryPolicy: { maxAttempts: 0 } },
        /deliveryPolicy\.maxAttempts/,
      ],
      [
        { protocol: 'http', endpoint: 'http://127.0.0.1/', deliveryPolicy: { backoff: { multiplier: 50 } } },
        /backoff\.multiplier/,
      ],
      [{ protocol: 'http', endpoint: 'http://127.0.0.1/', raw: 'yes' }, /raw must be true or false/],
    ])('rejects %j', async (body, message) => {
      const res = await h.api('POST', '/v1/topics/subs/subscriptions', body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    });

    it('requires queue endpoints and dead-letter queues to exist', async () => {
      const res = await h.api('POST', '/v1/topics/subs/subscriptions', { protocol: 'queue', endpoint: 'missing-q' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('queue_not_found');
      const dlq = await h.api('POST', '/v1/topics/subs/subscriptions', {
        protocol: 'http',
        endpoint: 'http://127.0.0.1:9/',
        deadLetterQueue: 'missing-dlq',
      });
      expect(dlq.status).toBe(404);
      expect(dlq.body.error.message).toMatch(/deadLetterQueue/);
    });
  });

  describe('authentication and operations', () => {
    it('refuses missing and wrong keys with 401', async () => {
      const none = await fetch(`${h.url}/v1/topics`);
      expect(none.status).toBe(401);
      expect((await none.json()).error.code).toBe('unauthorized');
      const wrong = await fetch(`${h.url}/v1/topics`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
    });

    it('serves /healthz and /readyz without a key, /metrics with one', async () => {
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${h.url}/readyz`)).json()).toEqual({ status: 'ready' });
      expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
      await h.api('PUT', '/v1/queues/metered');
      await h.api('POST', '/v1/queues/metered/messages', { body: 'x' });
      const metrics = await h.api('GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/herald_messages_published_total\{topic="pub"\} \d+/);
      expect(metrics.body).toMatch(/herald_queue_depth\{queue="metered",state="visible"\} 1/);
      expect(metrics.body).toMatch(/herald_delivery_latency_seconds_bucket/);
    });

    it('counts the commits behind writes, the writes in them and the WAL fsyncs', async () => {
      const counter = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)![1]);
      const scrape = async () => {
        const text = (await h.api('GET', '/metrics')).body as string;
        return {
          commits: counter(text, 'herald_store_commits_total'),
          writes: counter(text, 'herald_store_commit_writes_total'),
          syncs: counter(text, 'herald_store_syncs_total'),
        };
      };
      const before = await scrape();
      await h.api('PUT', '/v1/queues/counted');
      // Concurrent sends share commits (and, on SQLite, fsyncs).
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.api('POST', '/v1/queues/counted/messages', { body: `m${i}` })),
      );
      const after = await scrape();
      expect(after.writes - before.writes).toBeGreaterThanOrEqual(20);
      expect(after.commits).toBeGreaterThan(before.commits);
      expect(after.commits - before.commits).toBeLessThanOrEqual(after.writes - before.writes);
      if (TEST_STORE === 'sqlite') {
        expect(after.syncs).toBeGreaterThan(before.syncs);
        expect(after.syncs - before.syncs).toBeLessThanOrEqual(after.commits - before.commits);
      } else {
        expect(after.syncs).toBe(0);
      }
    });

    it('answers unknown routes with a JSON 404', async () => {
      const res = await h.api('GET', '/v1/nothing');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });
  });
});

describe('throttling', () => {
  it('answers 429 with Retry-After when a client exceeds the rate', async () => {
    const h = await startTestHerald({ rateLimitPerSecond: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await h.api('GET', '/v1/topics')).status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
      expect(statuses).toContain(429);
      const res = await h.api('GET', '/v1/topics');
      if (res.status === 429) {
        expect(res.body.error.code).toBe('throttled');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect((await fetch(`${h.url}/healthz`)).status).toBe(200); // probes are never throttled
    } finally {
      await h.close();
    }
  });
});
