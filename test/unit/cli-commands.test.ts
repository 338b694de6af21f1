/**
 * The `herald` CLI against a tiny fake server: mostly in-process through run() with captured
 * streams (what each command sends and prints, exit codes), plus the built binary as a child
 * process for the real process behaviour (exit codes, stdin, no stack traces).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inferProtocol } from '../../src/cli/commands/subscriptions.js';
import { run } from '../../src/cli/program.js';
import type { ConfigOverrides } from '../../src/config.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json?: unknown;
}
type Answer = { status?: number; json?: unknown };

/** Records requests; answers from `routes` by "METHOD /path" (query excluded), else 404 not_found. */
async function fakeServer() {
  const seen: Seen[] = [];
  const routes = new Map<string, Answer | ((req: Seen) => Answer)>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body };
      if (body) s.json = JSON.parse(body);
      seen.push(s);
      const route = routes.get(`${s.method} ${s.url.split('?')[0]}`);
      const a = (typeof route === 'function' ? route(s) : route) ?? {
        status: 404,
        json: { error: { code: 'not_found', message: `no route ${s.method} ${s.url}` } },
      };
      const status = a.status ?? 200;
      if (status === 204) res.writeHead(204).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(a.json ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    seen,
    routes,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let fake: Awaited<ReturnType<typeof fakeServer>>;
beforeAll(async () => {
  fake = await fakeServer();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.seen.length = 0;
  fake.routes.clear();
});

/** Run the CLI in-process against the fake server. */
async function herald(args: string[], opts: { stdin?: string; serve?: (o: ConfigOverrides) => Promise<void> } = {}) {
  let stdout = '';
  let stderr = '';
  const stdin = Object.assign(Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]), {
    isTTY: opts.stdin === undefined ? true : undefined,
  });
  const code = await run(['--url', fake.url, '--api-key', 'k1', ...args], {
    io: { out: (s) => void (stdout += s), err: (s) => void (stderr += s), stdin },
    serve: opts.serve ?? (async () => undefined),
  });
  return { code, stdout, stderr };
}

const topic = { name: 'orders', createdAt: '2024-05-01T10:00:00.000Z' };
const policy = {
  maxAttempts: 10,
  backoff: { initialSeconds: 1, maxSeconds: 300, multiplier: 2 },
  timeoutSeconds: 15,
  maxPerSecond: 0,
  maxConcurrency: 50,
};
const subscription = (over: Record<string, unknown> = {}) => ({
  id: 'sub_1',
  topic: 'orders',
  protocol: 'http',
  endpoint: 'http://hooks.test/x',
  raw: false,
  deliveryPolicy: policy,
  deadLetterQueue: null,
  secret: 'whsec_c2VjcmV0',
  status: 'active',
  statusReason: null,
  createdAt: topic.createdAt,
  ...over,
});

describe('herald topics', () => {
  it('create sends PUT with the key and prints a line, or the JSON with --json', async () => {
    fake.routes.set('PUT /v1/topics/orders', { status: 201, json: topic });
    const human = await herald(['topics', 'create', 'orders']);
    expect(human).toEqual({ code: 0, stdout: 'topic orders\n', stderr: '' });
    const json = await herald(['--json', 'topics', 'create', 'orders']);
    expect(JSON.parse(json.stdout)).toEqual(topic);
    // Global options also work after the command.
    expect(JSON.parse((await herald(['topics', 'create', 'orders', '--json'])).stdout)).toEqual(topic);
    expect(fake.seen.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([
      ['PUT', '/v1/topics/orders', 'Bearer k1'],
      ['PUT', '/v1/topics/orders', 'Bearer k1'],
      ['PUT', '/v1/topics/orders', 'Bearer k1'],
    ]);
  });

  it('list prints a table and the cursor of the next page', async () => {
    fake.routes.set('GET /v1/topics', { json: { topics: [topic, { ...topic, name: 'payments' }], next: 'payments' } });
    const r = await herald(['topics', 'list', '--limit', '2', '--cursor', 'a']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'NAME      CREATEDAT',
      'orders    2024-05-01T10:00:00.000Z',
      'payments  2024-05-01T10:00:00.000Z',
      'more: --cursor payments',
      '',
    ]);
    expect(fake.seen[0].url).toBe('/v1/topics?limit=2&cursor=a');
  });

  it('get and delete', async () => {
    fake.routes.set('GET /v1/topics/a%2Fb', { json: { ...topic, name: 'a/b', subscriptions: 3 } });
    fake.routes.set('DELETE /v1/topics/a%2Fb', { status: 204 });
    expect((await herald(['topics', 'get', 'a/b'])).stdout).toMatch(/^a\/b {2}created .* {2}subscriptions 3\n$/);
    expect(await herald(['topics', 'delete', 'a/b'])).toEqual({ code: 0, stdout: 'deleted topic a/b\n', stderr: '' });
    expect(await herald(['--json', 'topics', 'delete', 'a/b'])).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('herald publish and send', () => {
  beforeEach(() => {
    fake.routes.set('POST /v1/topics/orders/messages', { status: 201, json: { id: 'msg_1' } });
    fake.routes.set('POST /v1/queues/jobs/messages', { status: 201, json: { id: 'msg_2', duplicate: true } });
  });

  it('builds the message from the body, repeated --attr, --delay and --idempotency-key', async () => {
    const r = await herald([
      'publish',
      'orders',
      '{"order":42}',
      '--attr',
      'kind=created',
      '-a',
      'query=a=b',
      '--attr',
      'kind=updated',
      '--delay',
      '5',
      '--idempotency-key',
      'order-42',
    ]);
    expect(r).toEqual({ code: 0, stdout: 'msg_1\n', stderr: '' });
    expect(fake.seen[0].headers['content-type']).toBe('application/json');
    expect(fake.seen[0].json).toEqual({
      body: '{"order":42}',
      attributes: { kind: 'updated', query: 'a=b' },
      delaySeconds: 5,
      idempotencyKey: 'order-42',
    });
  });

  it('reads the body from stdin when it is not a terminal, or from --file', async () => {
    expect((await herald(['publish', 'orders'], { stdin: 'from stdin\n' })).code).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'herald-cli-')), 'body.json');
    writeFileSync(file, '{"from":"file"}');
    expect((await herald(['send', 'jobs', '--file', file])).stdout).toBe('msg_2 (duplicate)\n');
    expect(fake.seen.map((r) => r.json)).toEqual([{ body: 'from stdin\n' }, { body: '{"from":"file"}' }]);
  });

  it('prints the id as JSON with --json', async () => {
    const r = await herald(['--json', 'send', 'jobs', 'x']);
    expect(JSON.parse(r.stdout)).toEqual({ id: 'msg_2', duplicate: true });
  });

  it('rejects a bad --attr, a bad --delay, a missing body and an unreadable file as usage errors', async () => {
    for (const [args, pattern] of [
      [['publish', 'orders', 'x', '--attr', 'novalue'], /--attr takes key=value, got "novalue"/],
      [['publish', 'orders', 'x', '--attr', '=v'], /--attr takes key=value/],
      [['publish', 'orders', 'x', '--delay', 'soon'], /--delay takes a number, got "soon"/],
      [['publish', 'orders', 'x', '--delay', '-1'], /--delay must be at least 0/],
      [['publish', 'orders'], /give the message body as an argument, with --file, or on stdin/],
      [['publish', 'orders', 'x', '--file', 'f'], /the body or --file, not both/],
      [['send', 'jobs', '--file', '/nonexistent/body'], /--file: cannot read \/nonexistent\/body/],
    ] as const) {
      const r = await herald([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stdout).toBe('');
    }
    expect(fake.seen).toHaveLength(0);
  });
});

describe('herald subscribe and subscriptions', () => {
  it('infers the protocol from the endpoint', () => {
    expect(inferProtocol('http://example.com/hook')).toBe('http');
    expect(inferProtocol('HTTPS://example.com/hook')).toBe('https');
    expect(inferProtocol('billing')).toBe('queue');
    expect(inferProtocol('httpqueue')).toBe('queue');
  });

  it('sends the inferred protocol, --raw, --dlq and the policy flags; prints the id and secret', async () => {
    fake.routes.set('POST /v1/topics/orders/subscriptions', (req) => ({
      status: 201,
      json: subscription(req.json as Record<string, unknown>),
    }));
    const r = await herald([
      'subscribe',
      'orders',
      'https://hooks.test/x',
      '--raw',
      '--dlq',
      'orders-dlq',
      '--max-attempts',
      '5',
      '--backoff-initial',
      '0.5',
      '--backoff-multiplier',
      '3',
      '--timeout',
      '10',
      '--max-per-second',
      '20',
      '--max-concurrency',
      '4',
    ]);
    expect(r.code).toBe(0);
    expect(fake.seen[0].json).toEqual({
      protocol: 'https',
      endpoint: 'https://hooks.test/x',
      raw: true,
      deadLetterQueue: 'orders-dlq',
      deliveryPolicy: {
        maxAttempts: 5,
        timeoutSeconds: 10,
        maxPerSecond: 20,
        maxConcurrency: 4,
        backoff: { initialSeconds: 0.5, multiplier: 3 },
      },
    });
    expect(r.stdout).toContain('subscription sub_1');
    expect(r.stdout).toContain('signing secret: whsec_c2VjcmV0');

    await herald(['subscribe', 'orders', 'billing']);
    await herald(['subscribe', 'orders', 'http://h.test/', '--protocol', 'https']);
    expect(fake.seen.slice(1).map((s) => s.json)).toEqual([
      { protocol: 'queue', endpoint: 'billing' },
      { protocol: 'https', endpoint: 'http://h.test/' },
    ]);
  });

  it('rejects a bad protocol and non-numeric policy flags, naming the flag', async () => {
    const bad = await herald(['subscribe', 'orders', 'x', '--protocol', 'ftp']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--protocol/);
    const num = await herald(['subscribe', 'orders', 'x', '--max-attempts', 'many']);
    expect(num.code).toBe(2);
    expect(num.stderr).toMatch(/--max-attempts takes a number, got "many"/);
    const whole = await herald(['subscribe', 'orders', 'x', '--max-attempts', '2.5']);
    expect(whole.stderr).toMatch(/--max-attempts takes a whole number/);
    expect(fake.seen).toHaveLength(0);
  });

  it('update sends only the flags given', async () => {
    fake.routes.set('PATCH /v1/subscriptions/sub_1', { json: subscription() });
    expect((await herald(['subscriptions', 'update', 'sub_1', '--no-raw', '--dlq', 'none', '--disable'])).code).toBe(0);
    await herald(['subscriptions', 'update', 'sub_1', '--raw', '--enable', '--backoff-max', '60']);
    await herald(['subscriptions', 'update', 'sub_1', '--endpoint', 'http://new.test/', '--dlq', 'd']);
    expect(fake.seen.map((s) => s.json)).toEqual([
      { raw: false, deadLetterQueue: null, status: 'disabled' },
      { raw: true, status: 'active', deliveryPolicy: { backoff: { maxSeconds: 60 } } },
      { endpoint: 'http://new.test/', deadLetterQueue: 'd' },
    ]);
  });

  it('update refuses --enable with --disable, and an update without flags', async () => {
    const both = await herald(['subscriptions', 'update', 'sub_1', '--enable', '--disable']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--enable.*cannot be used with.*--disable/);
    const none = await herald(['subscriptions', 'update', 'sub_1']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to change/);
    expect(fake.seen).toHaveLength(0);
  });

  it('list, get, delete, deliveries and retry-failed', async () => {
    fake.routes.set('GET /v1/topics/orders/subscriptions', {
      json: { subscriptions: [subscription(), subscription({ id: 'sub_2', protocol: 'queue', endpoint: 'q' })] },
    });
    fake.routes.set('GET /v1/subscriptions/sub_1', { json: subscription() });
    fake.routes.set('DELETE /v1/subscriptions/sub_1', { status: 204 });
    fake.routes.set('GET /v1/subscriptions/sub_1/deliveries', {
      json: {
        deliveries: [
          {
            id: 'd1',
            subscriptionId: 'sub_1',
            messageId: 'm1',
            state: 'failed',
            attempts: 10,
            nextAttemptAt: topic.createdAt,
            lastError: 'HTTP 500',
            createdAt: topic.createdAt,
          },
        ],
      },
    });
    fake.routes.set('POST /v1/subscriptions/sub_1/retry-failed', { json: { retried: 1 } });

    const list = await herald(['subscriptions', 'list', 'orders']);
    expect(list.stdout).toMatch(/^ID\s+PROTOCOL\s+ENDPOINT\s+RAW\s+STATUS\s+DEADLETTERQUEUE\n/);
    expect(list.stdout).toMatch(/sub_2\s+queue\s+q\s+false\s+active\s+-/);
    expect((await herald(['subscriptions', 'get', 'sub_1'])).stdout).toMatch(/policy: 10 attempts, backoff 1s x2/);
    expect((await herald(['subscriptions', 'delete', 'sub_1'])).stdout).toBe('deleted subscription sub_1\n');
    const deliveries = await herald(['subscriptions', 'deliveries', 'sub_1', '--state', 'failed', '--limit', '5']);
    expect(deliveries.stdout).toMatch(/d1\s+m1\s+failed\s+10\s+\S+\s+HTTP 500/);
    expect((await herald(['subscriptions', 'retry-failed', 'sub_1'])).stdout).toBe('retrying 1\n');
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v1/topics/orders/subscriptions',
      'GET /v1/subscriptions/sub_1',
      'DELETE /v1/subscriptions/sub_1',
      'GET /v1/subscriptions/sub_1/deliveries?state=failed&limit=5',
      'POST /v1/subscriptions/sub_1/retry-failed',
    ]);
    expect((await herald(['subscriptions', 'deliveries', 'sub_1', '--state', 'lost'])).code).toBe(2);
  });

  it('attempts prints the log as a table', async () => {
    fake.routes.set('GET /v1/subscriptions/sub_1/attempts', {
      json: {
        attempts: [
          {
            id: 2,
            subscriptionId: 'sub_1',
            messageId: 'm1',
            attempt: 2,
            at: '2024-05-01T10:00:02.000Z',
            status: 200,
            latencyMs: 12,
            ok: true,
            errorClass: null,
            error: null,
          },
          {
            id: 1,
            subscriptionId: 'sub_1',
            messageId: 'm1',
            attempt: 1,
            at: '2024-05-01T10:00:01.000Z',
            status: null,
            latencyMs: 15000,
            ok: false,
            errorClass: 'timeout',
            error: 'no answer within 15 s',
          },
        ],
        next: 'c2',
      },
    });
    const r = await herald(['attempts', 'sub_1', '--message', 'm1', '--limit', '2']);
    expect(r.stdout.split('\n')).toEqual([
      'TIME                      MESSAGEID  ATTEMPT  STATUS  LATENCY   RESULT   ERROR',
      '2024-05-01T10:00:02.000Z  m1         2        200     12 ms     ok       -',
      '2024-05-01T10:00:01.000Z  m1         1        -       15000 ms  timeout  no answer within 15 s',
      'more: --cursor c2',
      '',
    ]);
    expect(fake.seen[0].url).toBe('/v1/subscriptions/sub_1/attempts?messageId=m1&limit=2');
  });
});

describe('herald queues, receive, ack, redrive', () => {
  const message = {
    id: 'm1',
    body: 'hello',
    attributes: { kind: 'greeting' },
    receipt: 'rcpt-1',
    receiveCount: 2,
    sentAt: topic.createdAt,
  };

  it('queues create maps the flags to the queue config', async () => {
    fake.routes.set('PUT /v1/queues/jobs', { status: 201, json: { name: 'jobs' } });
    const r = await herald([
      'queues',
      'create',
      'jobs',
      '--visibility-timeout',
      '60',
      '--delay',
      '2',
      '--retention',
      '3600',
      '--max-receive-count',
      '5',
      '--dlq',
      'jobs-dlq',
    ]);
    expect(r).toEqual({ code: 0, stdout: 'queue jobs\n', stderr: '' });
    expect(fake.seen[0].json).toEqual({
      visibilityTimeoutSeconds: 60,
      delaySeconds: 2,
      retentionSeconds: 3600,
      maxReceiveCount: 5,
      deadLetterQueue: 'jobs-dlq',
    });
    expect((await herald(['queues', 'create', 'jobs', '--max-receive-count', 'x'])).code).toBe(2);
  });

  it('queues list, get, purge, delete', async () => {
    const q = {
      name: 'jobs',
      createdAt: topic.createdAt,
      visibilityTimeoutSeconds: 30,
      delaySeconds: 0,
      retentionSeconds: 345600,
      maxReceiveCount: 5,
      deadLetterQueue: 'jobs-dlq',
    };
    fake.routes.set('GET /v1/queues', { json: { queues: [q] } });
    fake.routes.set('GET /v1/queues/jobs', { json: { ...q, stats: { visible: 3, inFlight: 1, delayed: 0 } } });
    fake.routes.set('DELETE /v1/queues/jobs/messages', { json: { purged: 4 } });
    fake.routes.set('DELETE /v1/queues/jobs', { status: 204 });
    expect((await herald(['queues', 'list'])).stdout).toMatch(/jobs\s+30\s+0\s+5\s+jobs-dlq/);
    expect(JSON.parse((await herald(['--json', 'queues', 'list'])).stdout)).toEqual([q]);
    const get = await herald(['queues', 'get', 'jobs']);
    expect(get.stdout).toContain('jobs: 3 visible, 1 in flight, 0 delayed');
    expect(get.stdout).toContain('after 5 receives -> jobs-dlq');
    expect((await herald(['queues', 'purge', 'jobs'])).stdout).toBe('purged 4\n');
    expect((await herald(['queues', 'delete', 'jobs'])).stdout).toBe('deleted queue jobs\n');
  });

  it('receive passes --max/--wait/--visibility-timeout, prints the messages, and acks after printing', async () => {
    fake.routes.set('POST /v1/queues/jobs/receive', { json: { messages: [message] } });
    fake.routes.set('POST /v1/queues/jobs/ack', { json: { acked: 1, failed: [] } });
    const r = await herald(['receive', 'jobs', '--max', '10', '--wait', '1', '--visibility-timeout', '45', '--ack']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('m1  received 2x  receipt rcpt-1  kind=greeting\n  hello\n');
    expect(fake.seen.map((s) => [s.url, s.json])).toEqual([
      ['/v1/queues/jobs/receive', { max: 10, waitSeconds: 1, visibilityTimeoutSeconds: 45 }],
      ['/v1/queues/jobs/ack', { receipts: ['rcpt-1'] }],
    ]);
  });

  it('receive --json prints { messages } and does not ack without --ack', async () => {
    fake.routes.set('POST /v1/queues/jobs/receive', { json: { messages: [message] } });
    const r = await herald(['--json', 'receive', 'jobs']);
    expect(JSON.parse(r.stdout)).toEqual({ messages: [message] });
    expect(fake.seen).toHaveLength(1);
    fake.routes.set('POST /v1/queues/jobs/receive', { json: { messages: [] } });
    expect((await herald(['receive', 'jobs', '--ack'])).stdout).toBe('(no messages)\n');
    expect(fake.seen).toHaveLength(2);
  });

  it('ack reports receipts that failed and exits 1', async () => {
    fake.routes.set('POST /v1/queues/jobs/ack', {
      json: { acked: 1, failed: [{ receipt: 'old', error: { code: 'receipt_invalid', message: 'stale receipt' } }] },
    });
    const r = await herald(['ack', 'jobs', 'good', 'old']);
    expect(r).toEqual({
      code: 1,
      stdout: 'acked 1\n',
      stderr: 'error: not acked old: receipt_invalid: stale receipt\n',
    });
    expect(fake.seen[0].json).toEqual({ receipts: ['good', 'old'] });
  });

  it('redrive', async () => {
    fake.routes.set('POST /v1/queues/jobs-dlq/redrive', { json: { moved: 7 } });
    expect((await herald(['redrive', 'jobs-dlq', '--max', '100'])).stdout).toBe('moved 7\n');
    expect(fake.seen[0].json).toEqual({ max: 100 });
  });
});

describe('herald errors and usage', () => {
  it('prints a server error as "error: <code>: <message>" and exits 1', async () => {
    fake.routes.set('POST /v1/topics/nope/messages', {
      status: 404,
      json: { error: { code: 'topic_not_found', message: 'topic "nope" does not exist' } },
    });
    expect(await herald(['publish', 'nope', 'x'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: topic_not_found: topic "nope" does not exist\n',
    });
  });

  it('reports an unreachable server as connection_failed', async () => {
    let stderr = '';
    const code = await run(['--url', 'http://127.0.0.1:1', 'topics', 'list'], {
      io: { out: () => undefined, err: (s) => void (stderr += s), stdin: process.stdin },
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: connection_failed: .*connection refused\n$/);
  });

  it('exits 2 on usage errors, naming the flag', async () => {
    for (const [args, pattern] of [
      [['receive', 'jobs', '--max', 'lots'], /--max takes a number, got "lots"/],
      [['receive', 'jobs', '--max', '0'], /--max must be at least 1/],
      [['receive', 'jobs', '--wait', ''], /--wait takes a number/],
      [['no-such-command'], /unknown command 'no-such-command'/],
      [['topics', 'get'], /missing required argument 'name'/],
      [['topics', 'list', '--bogus'], /unknown option '--bogus'/],
      [['ack', 'jobs'], /missing required argument 'receipt'/],
      [['--url', 'not a url', 'topics', 'list'], /--url: not a URL/],
    ] as const) {
      const r = await herald([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
    expect(fake.seen).toHaveLength(0);
  });

  it('--help lists every command with examples; command help has examples too', async () => {
    const r = await herald(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of [
      'serve',
      'topics',
      'publish',
      'subscribe',
      'subscriptions',
      'attempts',
      'queues',
      'send',
      'receive',
      'ack',
      'redrive',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    }
    expect(r.stdout).toContain('Examples:');
    for (const args of [
      ['publish', '--help'],
      ['help', 'subscribe'],
      ['queues', 'create', '--help'],
    ]) {
      const sub = await herald(args);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain('Examples:');
    }
    expect((await herald(['-V'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('herald serve', () => {
  it('passes only the flags given, so environment variables still apply', async () => {
    const calls: ConfigOverrides[] = [];
    const serve = async (o: ConfigOverrides) => void calls.push(o);
    expect((await herald(['serve'], { serve })).code).toBe(0);
    const all = ['serve', '--port', '9000', '--host', '127.0.0.1', '--data-dir', '/tmp/h', '--role', 'api'];
    expect((await herald([...all, '--log-level', 'warn'], { serve })).code).toBe(0);
    const pg = 'postgres://herald@db:5432/herald?schema=h';
    expect((await herald(['serve', '--database-url', pg], { serve })).code).toBe(0);
    expect((await herald(['serve', '--aws-port', '9324'], { serve })).code).toBe(0);
    expect((await herald(['serve', '--aws-port', 'off'], { serve })).code).toBe(0);
    expect(calls).toEqual([
      {},
      { port: 9000, host: '127.0.0.1', dataDir: '/tmp/h', role: 'api', logLevel: 'warn' },
      { databaseUrl: pg },
      { aws: { port: 9324 } },
      { aws: { port: null } },
    ]);
    for (const bad of [
      ['serve', '--role', 'worker'],
      ['serve', '--port', 'http'],
      ['serve', '--port', '70000'],
      ['serve', '--aws-port', 'sqs'],
    ]) {
      expect((await herald(bad, { serve })).code).toBe(2);
    }
    expect(calls).toHaveLength(5);
  });

  it('reports a server that fails to start and exits 1', async () => {
    const r = await herald(['serve'], {
      serve: async () => {
        throw new Error('listen EADDRINUSE: address already in use 0.0.0.0:8080');
      },
    });
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: listen EADDRINUSE: address already in use 0.0.0.0:8080\n',
    });
  });
});

// The built binary, as a user runs it. Built into a private directory (not dist/, which the
// integration tests use) when the CLI or client sources are newer than the last build.
describe('herald binary', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const outDir = join(root, 'node_modules', '.cache', 'herald-cli-test');
  const bin = join(outDir, 'cli', 'main.js');

  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );

  beforeAll(async () => {
    const sources = Math.max(
      newest(join(root, 'src', 'cli')),
      newest(join(root, 'src', 'client')),
      statSync(join(root, 'src', 'types.ts')).mtimeMs,
    );
    if (existsSync(bin) && statSync(bin).mtimeMs > sources) return;
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // Errors in files others are editing must not stop the emit of ours: tsc emits anyway.
    await promisify(execFile)(
      process.execPath,
      [tsc, '-p', 'tsconfig.json', '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'],
      { cwd: root },
    ).catch(() => undefined);
    if (!existsSync(bin)) throw new Error(`building the CLI into ${outDir} failed`);
  }, 180_000);

  const exec = (args: string[], stdin?: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args], {
        env: { ...process.env, HERALD_URL: fake.url, HERALD_API_KEY: 'from-env' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin ?? '');
    });

  it('publishes from stdin with the URL and key from the environment', async () => {
    fake.routes.set('POST /v1/topics/orders/messages', { status: 201, json: { id: 'msg_9' } });
    const r = await exec(['publish', 'orders', '--attr', 'k=v'], 'piped body');
    expect(r).toEqual({ code: 0, stdout: 'msg_9\n', stderr: '' });
    expect(fake.seen[0].json).toEqual({ body: 'piped body', attributes: { k: 'v' } });
    expect(fake.seen[0].headers.authorization).toBe('Bearer from-env');
  });

  it('exits 1 on a server error without a stack trace, 2 on usage errors, 0 for --help', async () => {
    fake.routes.set('GET /v1/queues/jobs', {
      status: 401,
      json: { error: { code: 'unauthorized', message: 'missing or wrong API key' } },
    });
    const denied = await exec(['queues', 'get', 'jobs']);
    expect(denied).toEqual({ code: 1, stdout: '', stderr: 'error: unauthorized: missing or wrong API key\n' });
    const usage = await exec(['receive', 'jobs', '--max', 'lots']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--max takes a number/);
    expect(usage.stderr).not.toMatch(/\n\s+at /);
    const help = await exec(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('subscriptions');
  });

  it('prints --json output that parses', async () => {
    fake.routes.set('GET /v1/topics/orders', { json: { ...topic, subscriptions: 0 } });
    const r = await exec(['--json', 'topics', 'get', 'orders']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ...topic, subscriptions: 0 });
  });
});
