/**
 * HeraldClient against a tiny fake server: what it sends (method, path, headers, body),
 * how it reads answers and errors, round-robin, failover and timeouts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HeraldClient, HeraldError } from '../../src/client/index.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Answer {
  status?: number;
  json?: unknown;
  text?: string;
  delayMs?: number;
}
interface Fake {
  url: string;
  seen: Seen[];
  answer: (req: Seen) => Answer | 'destroy';
  close(): Promise<void>;
}

/** A node:http server that records requests and answers with `fake.answer(req)` (default 200 {}). */
async function fakeServer(answer: Fake['answer'] = () => ({ json: {} })): Promise<Fake> {
  const fake = { seen: [] as Seen[], answer } as Fake;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      fake.seen.push(seen);
      const a = fake.answer(seen);
      if (a === 'destroy') return void req.socket.destroy();
      const send = () => {
        const status = a.status ?? 200;
        if (a.text !== undefined) res.writeHead(status, { 'content-type': 'text/plain' }).end(a.text);
        else if (status === 204) res.writeHead(204).end();
        else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(a.json ?? {}));
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return fake;
}

/** A port nothing listens on (connections are refused). */
async function deadUrl(): Promise<string> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(answer?: Fake['answer'], opts: { apiKey?: string; timeoutMs?: number } = { apiKey: 'k1' }) {
  const fake = await fakeServer(answer);
  const client = new HeraldClient({ url: fake.url, ...opts });
  cleanup.push(fake.close, () => client.close());
  return { fake, client };
}

const topic = { name: 'orders', createdAt: '2024-01-01T00:00:00.000Z' };

describe('HeraldClient requests', () => {
  // [name, call, method, path, request body (undefined: none), answer, expected result]
  type Case = [string, (c: HeraldClient) => Promise<unknown>, string, string, unknown, Answer, unknown];
  const msgs = [{ body: 'a' }, { body: 'b', attributes: { k: 'v' }, delaySeconds: 3, idempotencyKey: 'i' }];
  const results = { results: [{ id: 'm1' }, { error: { code: 'invalid_request', message: 'bad' } }] };
  const policy = { maxAttempts: 3, backoff: { initialSeconds: 2 } };
  const cases: Case[] = [
    [
      'createTopic',
      (c) => c.createTopic('orders'),
      'PUT',
      '/v1/topics/orders',
      undefined,
      { status: 201, json: topic },
      topic,
    ],
    [
      'getTopic',
      (c) => c.getTopic('orders'),
      'GET',
      '/v1/topics/orders',
      undefined,
      { json: { ...topic, subscriptions: 2 } },
      { ...topic, subscriptions: 2 },
    ],
    [
      'listTopics',
      (c) => c.listTopics(),
      'GET',
      '/v1/topics',
      undefined,
      { json: { topics: [topic] } },
      { topics: [topic] },
    ],
    [
      'listTopics page',
      (c) => c.listTopics({ limit: 5, cursor: 'a b' }),
      'GET',
      '/v1/topics?limit=5&cursor=a%20b',
      undefined,
      { json: { topics: [], next: 'x' } },
      { topics: [], next: 'x' },
    ],
    [
      'deleteTopic',
      (c) => c.deleteTopic('orders'),
      'DELETE',
      '/v1/topics/orders',
      undefined,
      { status: 204 },
      undefined,
    ],
    [
      'publish',
      (c) => c.publish('orders', msgs[1]),
      'POST',
      '/v1/topics/orders/messages',
      msgs[1],
      { status: 201, json: { id: 'm1' } },
      { id: 'm1' },
    ],
    [
      'publishBatch',
      (c) => c.publishBatch('orders', msgs),
      'POST',
      '/v1/topics/orders/messages/batch',
      { messages: msgs },
      { json: results },
      results,
    ],
    [
      'subscribe',
      (c) =>
        c.subscribe('orders', {
          protocol: 'http',
          endpoint: 'http://x/h',
          raw: true,
          deliveryPolicy: policy,
          deadLetterQueue: 'dlq',
        }),
      'POST',
      '/v1/topics/orders/subscriptions',
      { protocol: 'http', endpoint: 'http://x/h', raw: true, deliveryPolicy: policy, deadLetterQueue: 'dlq' },
      { status: 201, json: { id: 's1' } },
      { id: 's1' },
    ],
    [
      'listSubscriptions',
      (c) => c.listSubscriptions('orders'),
      'GET',
      '/v1/topics/orders/subscriptions',
      undefined,
      { json: { subscriptions: [{ id: 's1' }] } },
      [{ id: 's1' }],
    ],
    [
      'getSubscription',
      (c) => c.getSubscription('s1'),
      'GET',
      '/v1/subscriptions/s1',
      undefined,
      { json: { id: 's1' } },
      { id: 's1' },
    ],
    [
      'updateSubscription',
      (c) => c.updateSubscription('s1', { deadLetterQueue: null, status: 'disabled' }),
      'PATCH',
      '/v1/subscriptions/s1',
      { deadLetterQueue: null, status: 'disabled' },
      { json: { id: 's1' } },
      { id: 's1' },
    ],
    [
      'unsubscribe',
      (c) => c.unsubscribe('s1'),
      'DELETE',
      '/v1/subscriptions/s1',
      undefined,
      { status: 204 },
      undefined,
    ],
    [
      'listAttempts',
      (c) => c.listAttempts('s1', { messageId: 'm1', limit: 10, cursor: 'c' }),
      'GET',
      '/v1/subscriptions/s1/attempts?messageId=m1&limit=10&cursor=c',
      undefined,
      { json: { attempts: [] } },
      { attempts: [] },
    ],
    [
      'listMessageAttempts',
      (c) => c.listMessageAttempts('m1'),
      'GET',
      '/v1/messages/m1/attempts',
      undefined,
      { json: { attempts: [] } },
      { attempts: [] },
    ],
    [
      'listDeliveries',
      (c) => c.listDeliveries('s1', { state: 'failed', limit: 2 }),
      'GET',
      '/v1/subscriptions/s1/deliveries?state=failed&limit=2',
      undefined,
      { json: { deliveries: [] } },
      { deliveries: [] },
    ],
    [
      'retryFailed',
      (c) => c.retryFailed('s1'),
      'POST',
      '/v1/subscriptions/s1/retry-failed',
      undefined,
      { json: { retried: 4 } },
      { retried: 4 },
    ],
    [
      'createQueue',
      (c) => c.createQueue('jobs', { visibilityTimeoutSeconds: 60, deadLetterQueue: 'dlq' }),
      'PUT',
      '/v1/queues/jobs',
      { visibilityTimeoutSeconds: 60, deadLetterQueue: 'dlq' },
      { status: 201, json: { name: 'jobs' } },
      { name: 'jobs' },
    ],
    [
      'getQueue',
      (c) => c.getQueue('jobs'),
      'GET',
      '/v1/queues/jobs',
      undefined,
      { json: { name: 'jobs', stats: { visible: 1 } } },
      { name: 'jobs', stats: { visible: 1 } },
    ],
    [
      'listQueues',
      (c) => c.listQueues(),
      'GET',
      '/v1/queues',
      undefined,
      { json: { queues: [{ name: 'jobs' }] } },
      [{ name: 'jobs' }],
    ],
    ['deleteQueue', (c) => c.deleteQueue('jobs'), 'DELETE', '/v1/queues/jobs', undefined, { status: 204 }, undefined],
    [
      'send',
      (c) => c.send('jobs', { body: 'x' }),
      'POST',
      '/v1/queues/jobs/messages',
      { body: 'x' },
      { status: 201, json: { id: 'q1' } },
      { id: 'q1' },
    ],
    [
      'sendBatch',
      (c) => c.sendBatch('jobs', msgs),
      'POST',
      '/v1/queues/jobs/messages/batch',
      { messages: msgs },
      { json: results },
      results,
    ],
    [
      'receive',
      (c) => c.receive('jobs', { max: 10, waitSeconds: 0, visibilityTimeoutSeconds: 5 }),
      'POST',
      '/v1/queues/jobs/receive',
      { max: 10, waitSeconds: 0, visibilityTimeoutSeconds: 5 },
      { json: { messages: [{ id: 'q1' }] } },
      [{ id: 'q1' }],
    ],
    [
      'ack',
      (c) => c.ack('jobs', ['r1', 'r2']),
      'POST',
      '/v1/queues/jobs/ack',
      { receipts: ['r1', 'r2'] },
      { json: { acked: 2, failed: [] } },
      { acked: 2, failed: [] },
    ],
    [
      'changeVisibility',
      (c) => c.changeVisibility('jobs', 'r1', 0),
      'POST',
      '/v1/queues/jobs/visibility',
      { receipt: 'r1', visibilityTimeoutSeconds: 0 },
      { status: 204 },
      undefined,
    ],
    [
      'purge',
      (c) => c.purge('jobs'),
      'DELETE',
      '/v1/queues/jobs/messages',
      undefined,
      { json: { purged: 3 } },
      { purged: 3 },
    ],
    [
      'redrive',
      (c) => c.redrive('dlq', { max: 50 }),
      'POST',
      '/v1/queues/dlq/redrive',
      { max: 50 },
      { json: { moved: 7 } },
      { moved: 7 },
    ],
    ['metrics', (c) => c.metrics(), 'GET', '/metrics', undefined, { text: 'herald_up 1\n' }, 'herald_up 1\n'],
  ];

  it.each(cases)('%s', async (_name, call, method, path, body, answer, expected) => {
    const { fake, client } = await setup(() => answer);
    expect(await call(client)).toEqual(expected);
    expect(fake.seen).toHaveLength(1);
    const [req] = fake.seen;
    expect(req.method).toBe(method);
    expect(req.url).toBe(path);
    expect(req.headers.authorization).toBe('Bearer k1');
    if (body === undefined) {
      expect(req.body).toBe('');
      expect(req.headers['content-type']).toBeUndefined();
    } else {
      expect(req.headers['content-type']).toBe('application/json');
      expect(JSON.parse(req.body)).toEqual(body);
    }
  });

  it('leaves out unset options from query strings and bodies', async () => {
    const { fake, client } = await setup(() => ({ json: { messages: [], deliveries: [], attempts: [], moved: 0 } }));
    await client.receive('jobs');
    await client.redrive('dlq');
    await client.listDeliveries('s1');
    await client.listAttempts('s1', { messageId: undefined });
    expect(fake.seen.map((r) => [r.url, r.body])).toEqual([
      ['/v1/queues/jobs/receive', '{}'],
      ['/v1/queues/dlq/redrive', '{}'],
      ['/v1/subscriptions/s1/deliveries', ''],
      ['/v1/subscriptions/s1/attempts', ''],
    ]);
  });

  it('URL-encodes path segments', async () => {
    const { fake, client } = await setup(() => ({ json: {} }));
    await client.getQueue('a/b c?#%');
    await client.publish('t/../x', { body: '' });
    await client.getSubscription('..');
    expect(fake.seen.map((r) => r.url)).toEqual([
      '/v1/queues/a%2Fb%20c%3F%23%25',
      '/v1/topics/t%2F..%2Fx/messages',
      '/v1/subscriptions/..',
    ]);
  });

  it('sends no Authorization header without a key, and none to the probes', async () => {
    const { fake, client } = await setup(() => ({ json: { status: 'ok' } }), { apiKey: '' });
    await client.listQueues().catch(() => undefined);
    const keyed = new HeraldClient({ url: fake.url, apiKey: 'k1' });
    cleanup.push(() => keyed.close());
    expect(await keyed.health()).toBe(true);
    expect(await keyed.ready()).toBe(true);
    expect(fake.seen.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/v1/queues', undefined],
      ['/healthz', undefined],
      ['/readyz', undefined],
    ]);
  });

  it('takes HERALD_URL and HERALD_API_KEY from the environment', async () => {
    const fake = await fakeServer(() => ({ json: { queues: [] } }));
    cleanup.push(fake.close);
    const saved = { url: process.env.HERALD_URL, key: process.env.HERALD_API_KEY };
    process.env.HERALD_URL = `${fake.url}/`;
    process.env.HERALD_API_KEY = 'from-env';
    try {
      const client = new HeraldClient({});
      cleanup.push(() => client.close());
      expect(client.urls).toEqual([fake.url]);
      await client.listQueues();
      expect(fake.seen[0].headers.authorization).toBe('Bearer from-env');
    } finally {
      for (const [name, value] of [
        ['HERALD_URL', saved.url],
        ['HERALD_API_KEY', saved.key],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('keeps a path prefix of the base URL (Herald behind a proxy)', async () => {
    const fake = await fakeServer(() => ({ json: { queues: [] } }));
    cleanup.push(fake.close);
    const client = new HeraldClient({ url: `${fake.url}/herald/`, apiKey: 'k' });
    cleanup.push(() => client.close());
    await client.listQueues();
    expect(fake.seen[0].url).toBe('/herald/v1/queues');
  });

  it('rejects malformed base URLs', () => {
    expect(() => new HeraldClient({ url: 'not a url' })).toThrow(/not a URL/);
    expect(() => new HeraldClient({ url: 'ftp://x' })).toThrow(/http/);
    expect(() => new HeraldClient({ url: ' , ' })).toThrow(/at least one URL/);
  });
});

describe('HeraldClient answers', () => {
  it('turns an error body into HeraldError with status, code and message', async () => {
    const { client } = await setup(() => ({
      status: 404,
      json: { error: { code: 'topic_not_found', message: 'topic "x" does not exist' } },
    }));
    const err = await client.getTopic('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      status: 404,
      code: 'topic_not_found',
      message: 'topic "x" does not exist',
      name: 'HeraldError',
    });
  });

  it('maps error answers that are not Herald JSON to http_error', async () => {
    const { client } = await setup(() => ({ status: 502, text: 'Bad Gateway from the proxy' }));
    await expect(client.listQueues()).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
      message: 'HTTP 502: Bad Gateway from the proxy',
    });
  });

  it('reports a success answer that is not JSON as invalid_response', async () => {
    const { client } = await setup(() => ({ text: '<html>' }));
    await expect(client.listQueues()).rejects.toMatchObject({ status: 200, code: 'invalid_response' });
  });

  it('ready() is false on 503 and health() false when nothing listens', async () => {
    const { client } = await setup(() => ({ status: 503, json: { status: 'not_ready' } }));
    expect(await client.ready()).toBe(false);
    const dead = new HeraldClient({ url: await deadUrl() });
    cleanup.push(() => dead.close());
    expect(await dead.health()).toBe(false);
  });

  it('reports an unreachable server as status 0, connection_failed, keeping the cause', async () => {
    const url = await deadUrl();
    const client = new HeraldClient({ url, apiKey: 'k' });
    cleanup.push(() => client.close());
    const err = (await client.listQueues().catch((e: unknown) => e)) as HeraldError;
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ status: 0, code: 'connection_failed' });
    expect(err.message).toContain(`${url}/v1/queues: connection refused`);
    expect(err.cause).toBeInstanceOf(Error);
  });
});

describe('HeraldClient with several URLs', () => {
  it('goes round-robin over the URLs (array or comma-separated)', async () => {
    const a = await fakeServer(() => ({ json: { queues: [] } }));
    const b = await fakeServer(() => ({ json: { queues: [] } }));
    cleanup.push(a.close, b.close);
    for (const url of [[a.url, b.url], `${a.url}, ${b.url}/`]) {
      const client = new HeraldClient({ url, apiKey: 'k' });
      cleanup.push(() => client.close());
      for (let i = 0; i < 4; i++) await client.listQueues();
    }
    expect(a.seen).toHaveLength(4);
    expect(b.seen).toHaveLength(4);
  });

  it('fails over from a URL that refuses connections, for reads and for publishes', async () => {
    const live = await fakeServer((req) => ({
      status: req.method === 'POST' ? 201 : 200,
      json: { id: 'm1', name: 't' },
    }));
    cleanup.push(live.close);
    const client = new HeraldClient({ url: [await deadUrl(), live.url], apiKey: 'k' });
    cleanup.push(() => client.close());
    for (let i = 0; i < 3; i++) {
      expect(await client.publish('t', { body: String(i) })).toEqual({ id: 'm1', name: 't' });
      expect((await client.getTopic('t')).name).toBe('t');
      await client.send('q', { body: 'x' });
    }
    expect(live.seen).toHaveLength(9);
  });

  it('fails over a read, a receive and an ack whose connection broke, but never a publish or send', async () => {
    const broken = await fakeServer(() => 'destroy');
    const live = await fakeServer((req) => ({
      json: req.url.endsWith('/ack') ? { acked: 0, failed: [] } : { messages: [], queues: [] },
    }));
    cleanup.push(broken.close, live.close);
    const fresh = () => {
      // A new client starts with the first URL, the broken one.
      const client = new HeraldClient({ url: [broken.url, live.url], apiKey: 'k' });
      cleanup.push(() => client.close());
      return client;
    };
    expect(await fresh().listQueues()).toEqual([]);
    expect(await fresh().receive('q')).toEqual([]);
    expect(await fresh().ack('q', ['r'])).toEqual({ acked: 0, failed: [] });
    expect(live.seen.map((r) => r.url)).toEqual(['/v1/queues', '/v1/queues/q/receive', '/v1/queues/q/ack']);

    for (const attempt of [
      (c: HeraldClient) => c.publish('t', { body: 'once' }),
      (c: HeraldClient) => c.send('q', { body: 'once' }),
      (c: HeraldClient) => c.publishBatch('t', [{ body: 'once' }]),
    ]) {
      await expect(attempt(fresh())).rejects.toMatchObject({ status: 0, code: 'connection_failed' });
    }
    expect(live.seen).toHaveLength(3);
    expect(broken.seen.map((r) => r.url)).toContain('/v1/topics/t/messages');
  });

  it('does not fail over on an HTTP error answer', async () => {
    const a = await fakeServer(() => ({ status: 500, json: { error: { code: 'internal', message: 'boom' } } }));
    const b = await fakeServer(() => ({ json: { queues: [] } }));
    cleanup.push(a.close, b.close);
    const client = new HeraldClient({ url: [a.url, b.url], apiKey: 'k' });
    cleanup.push(() => client.close());
    await expect(client.listQueues()).rejects.toMatchObject({ status: 500, code: 'internal' });
    expect(b.seen).toHaveLength(0);
  });

  it('reports every URL tried when all of them fail', async () => {
    const [d1, d2] = [await deadUrl(), await deadUrl()];
    const client = new HeraldClient({ url: [d1, d2], apiKey: 'k' });
    cleanup.push(() => client.close());
    const err = (await client.publish('t', { body: 'x' }).catch((e: unknown) => e)) as HeraldError;
    expect(err.code).toBe('connection_failed');
    expect(err.message).toContain(d1);
    expect(err.message).toContain(d2);
  });
});

describe('HeraldClient timeouts', () => {
  // undici checks these timeouts on a coarse (about half a second) clock: keep the margins wide.
  it('gives up after timeoutMs, but lets a receive wait waitSeconds longer', async () => {
    const { fake, client } = await setup(() => ({ delayMs: 2500, json: { messages: [{ id: 'late' }], name: 'q' } }), {
      apiKey: 'k',
      timeoutMs: 300,
    });
    let started = Date.now();
    const err = (await client.getQueue('q').catch((e: unknown) => e)) as HeraldError;
    expect(err).toMatchObject({ status: 0, code: 'connection_failed' });
    expect(err.message).toContain('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);

    started = Date.now();
    expect(await client.receive('q', { waitSeconds: 3 })).toEqual([{ id: 'late' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
    expect(JSON.parse(fake.seen[1].body)).toEqual({ waitSeconds: 3 });
  });
});
