/**
 * The two webhook senders behind the delivery engine, held to one contract against real
 * receivers on 127.0.0.1: HttpSender (requests from the event loop) and ThreadedSender
 * (requests from worker threads). Status, Retry-After, fault classification, timeouts and
 * shutdown must read the same from either; the threaded one also survives a thread dying.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { ThreadedSender, type WebhookSender } from '../../src/delivery/threaded-sender.js';
import { concurrencyProbe, startReceiver, type Receiver } from '../support/receiver.js';

const senders: Array<[string, () => WebhookSender]> = [
  ['HttpSender (event loop)', () => new HttpSender({ connectionsPerOrigin: 8 })],
  ['ThreadedSender, 1 thread', () => new ThreadedSender({ threads: 1, connectionsPerOrigin: 8 })],
  ['ThreadedSender, 2 threads', () => new ThreadedSender({ threads: 2, connectionsPerOrigin: 8 })],
];

/** A port that accepts connections and never answers (for timeouts). */
async function silentServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A sender thread module of the test's own (`lines`), in a temporary directory. */
function threadModule(lines: string[]): { entry: URL; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-sender-'));
  const file = join(dir, 'thread.mjs');
  writeFileSync(file, lines.join('\n') + '\n');
  return { entry: pathToFileURL(file), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe.each(senders)('%s', (_name, make) => {
  let sender: WebhookSender;
  let rx: Receiver;

  beforeEach(async () => {
    sender = make();
    await sender.ready();
    rx = await startReceiver();
  });

  afterEach(async () => {
    await sender.destroy();
    await rx.close();
  });

  it('POSTs the body and headers as given and reads a 2xx as delivered', async () => {
    const result = await sender.send({ origin: rx.url, path: '/hook?x=1' }, '{"a":1}', { 'webhook-id': 'msg_1' }, 5000);
    expect(result).toMatchObject({ ok: true, status: 200, errorClass: null, error: null, endpointFault: false });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(rx.requests).toHaveLength(1);
    const [req] = rx.requests;
    expect(req.path).toBe('/hook?x=1');
    expect(req.body).toBe('{"a":1}');
    expect(req.headers['webhook-id']).toBe('msg_1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toMatch(/^Herald-Webhooks\//);
  });

  it('sends a given content-type or user-agent instead of the default, once, and every other header', async () => {
    const headers = {
      'content-type': 'text/plain; charset=utf-8',
      'user-agent': 'Custom/1',
      'webhook-id': 'msg_2',
      'x-herald-attr-colour': 'blue',
    };
    const result = await sender.send({ origin: rx.url, path: '/' }, 'plain', headers, 5000);
    expect(result.ok).toBe(true);
    const raw = rx.requests[0].rawHeaders;
    const sent: Record<string, string[]> = {};
    for (let i = 0; i < raw.length; i += 2) (sent[raw[i].toLowerCase()] ??= []).push(raw[i + 1]);
    expect(sent['content-type']).toEqual(['text/plain; charset=utf-8']);
    expect(sent['user-agent']).toEqual(['Custom/1']);
    expect(sent['webhook-id']).toEqual(['msg_2']);
    expect(sent['x-herald-attr-colour']).toEqual(['blue']);
    expect(rx.requests[0].body).toBe('plain');
  });

  it('carries many concurrent requests, each answered with its own result', async () => {
    rx.respond = (r) => (r.body.endsWith('7') ? 500 : 204);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sender.send({ origin: rx.url, path: '/hook' }, `m${i}`, {}, 5000)),
    );
    expect(rx.requests).toHaveLength(200);
    results.forEach((r, i) => expect(r.status).toBe(String(i).endsWith('7') ? 500 : 204));
  });

  it('reads Retry-After on 503 and 429, and only 5xx as an endpoint fault', async () => {
    rx.respond = (_r, n) => (n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : 429);
    const unavailable = await sender.send({ origin: rx.url, path: '/' }, 'x', {}, 5000);
    expect(unavailable).toMatchObject({ ok: false, status: 503, errorClass: 'http_5xx', endpointFault: true });
    expect(unavailable.retryAfterMs).toBeGreaterThan(1900);
    expect(unavailable.retryAfterMs).toBeLessThanOrEqual(2000);
    const throttled = await sender.send({ origin: rx.url, path: '/' }, 'x', {}, 5000);
    expect(throttled).toMatchObject({ ok: false, status: 429, errorClass: 'http_4xx', endpointFault: false });
    expect(throttled.error).toBe('endpoint answered HTTP 429');
  });

  it('classifies a refused connection and a timeout', async () => {
    const refused = await sender.send({ origin: await closedPort(), path: '/' }, 'x', {}, 5000);
    expect(refused).toMatchObject({ ok: false, status: null, errorClass: 'connection_refused', endpointFault: true });
    const silent = await silentServer();
    try {
      const started = Date.now();
      const timedOut = await sender.send({ origin: silent.origin, path: '/' }, 'x', {}, 300);
      expect(timedOut).toMatchObject({ ok: false, status: null, errorClass: 'timeout', endpointFault: true });
      expect(timedOut.error).toBe('no answer within 300 ms');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
  });

  it('cuts off an answer still trickling in past its timeout, taking its status', async () => {
    // Headers at once, then a byte every 50 ms for 3 s: undici's idle timeouts never fire.
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url === '/ok' ? 200 : 503, { 'retry-after': '7' });
        const tick = setInterval(() => res.write('.'), 50);
        setTimeout(() => {
          clearInterval(tick);
          res.end();
        }, 3000);
        res.on('close', () => clearInterval(tick));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      const [ok, unavailable] = await Promise.all([
        sender.send({ origin, path: '/ok' }, 'x', {}, 300),
        sender.send({ origin, path: '/busy' }, 'x', {}, 300),
      ]);
      // The status came before the deadline: that is the endpoint's answer.
      expect(ok).toMatchObject({ ok: true, status: 200 });
      expect(unavailable).toMatchObject({ ok: false, status: 503, errorClass: 'http_5xx' });
      expect(unavailable.retryAfterMs).toBeGreaterThan(6000);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(ok.latencyMs).toBeGreaterThanOrEqual(290);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers a request still in flight when destroyed, as a failure', async () => {
    const silent = await silentServer();
    try {
      const pending = sender.send({ origin: silent.origin, path: '/' }, 'x', {}, 30_000);
      await new Promise((r) => setTimeout(r, 100));
      await sender.destroy();
      const result = await pending;
      expect(result.ok).toBe(false);
      expect(result.status).toBeNull();
    } finally {
      await silent.close();
    }
  });

  it("sends a lane's requests when handed over, or holds them to the lane's limit, as it says", async () => {
    const probe = concurrencyProbe(50);
    rx.respond = probe.respond;
    const lane = { key: 'sub_1', limit: 2 };
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sender.send({ origin: rx.url, path: '/' }, `m${i}`, {}, 5000, lane)),
    );
    expect(results.every((r) => r.ok && typeof r.startedAtMs === 'number')).toBe(true);
    // A sender that queues keeps the limit; one that does not leaves it to the engine.
    expect(probe.peak()).toBe(sender.queues ? 2 : 6);
  });

  it('waits for requests in flight on close', async () => {
    rx.respond = () => ({ status: 200, delayMs: 200 });
    const pending = sender.send({ origin: rx.url, path: '/' }, 'x', {}, 5000);
    await new Promise((r) => setTimeout(r, 50));
    await sender.close();
    expect(await pending).toMatchObject({ ok: true, status: 200 });
  });
});

describe('ThreadedSender', () => {
  it('answers the requests of a thread that dies as not sent, and replaces the thread', async () => {
    const errors: Error[] = [];
    const sender = new ThreadedSender({ threads: 1, connectionsPerOrigin: 4, onThreadError: (e) => errors.push(e) });
    await sender.ready();
    const silent = await silentServer();
    const rx = await startReceiver();
    try {
      // Let the thread live past the crash-loop guard, so it is replaced at once.
      await new Promise((r) => setTimeout(r, 1100));
      const [first] = sender.workers();
      const pending = sender.send({ origin: silent.origin, path: '/' }, 'x', {}, 30_000);
      await new Promise((r) => setTimeout(r, 100));
      await first.terminate();
      const lost = await pending;
      // Herald's failure, not the endpoint's: no breaker fault, and the engine spends no attempt.
      expect(lost).toMatchObject({ ok: false, status: null, notSent: true, endpointFault: false });
      expect(lost.error).toMatch(/sender thread exited/);
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/1 requests to send again/)]);
      expect(sender.workers()[0]).not.toBe(first);
      expect(await sender.send({ origin: rx.url, path: '/' }, 'y', {}, 5000)).toMatchObject({ ok: true });
      expect(rx.requests.map((r) => r.body)).toEqual(['y']);
    } finally {
      await sender.destroy();
      await silent.close();
      await rx.close();
    }
  });

  it('fails ready() when a thread cannot start, and still shuts down', async () => {
    const broken = threadModule(["throw new Error('cannot load the HTTP client');"]);
    const sender = new ThreadedSender({ threads: 2, connectionsPerOrigin: 4, entry: broken.entry });
    try {
      await expect(sender.ready()).rejects.toThrow(/exited \(code 1\) before it started: cannot load the HTTP client/);
      // Answered at once as not sent (by a thread on its way out, or by none left), never hanging.
      const answer = await sender.send({ origin: 'http://127.0.0.1:9', path: '/' }, 'x', {}, 1000);
      expect(answer).toMatchObject({ notSent: true, endpointFault: false });
      expect(answer.error).toMatch(/sender thread/);
    } finally {
      await sender.destroy();
      broken.remove();
    }
  });

  it('answers a request its thread holds past the deadline as not sent', async () => {
    // Starts, takes requests, never answers them (alive but stuck).
    const stuck = threadModule([
      "import { parentPort } from 'node:worker_threads';",
      "parentPort.postMessage({ kind: 'ready' });",
      "parentPort.on('message', (m) => { if (m.kind !== 'send') parentPort.postMessage({ kind: 'closed' }); });",
    ]);
    const errors: Error[] = [];
    const sender = new ThreadedSender({
      threads: 1,
      connectionsPerOrigin: 4,
      entry: stuck.entry,
      answerMarginMs: 200,
      onThreadError: (e) => errors.push(e),
    });
    try {
      await sender.ready();
      const started = Date.now();
      const answer = await sender.send({ origin: 'http://127.0.0.1:9', path: '/' }, 'x', {}, 100);
      expect(answer).toMatchObject({ ok: false, notSent: true, error: 'the sender thread did not answer in time' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/did not answer 1 requests in time/)]);
    } finally {
      await sender.destroy();
      stuck.remove();
    }
  });

  it("withdraws a lane's waiting requests in the thread when it answers them as overdue", async () => {
    // Takes requests, never answers them, and reports the withdrawals it gets.
    const stuck = threadModule([
      "import { parentPort } from 'node:worker_threads';",
      "parentPort.postMessage({ kind: 'ready' });",
      "parentPort.on('message', (m) => { if (m.kind === 'cancel') parentPort.postMessage({ kind: 'seen', m }); });",
    ]);
    const sender = new ThreadedSender({
      threads: 1,
      connectionsPerOrigin: 4,
      entry: stuck.entry,
      answerMarginMs: 100,
    });
    try {
      await sender.ready();
      const seen: unknown[] = [];
      sender.workers()[0].on('message', (m: { kind: string; m?: unknown }) => m.kind === 'seen' && seen.push(m.m));
      const lane = { key: 'sub_stuck', limit: 1 };
      const answers = await Promise.all([
        sender.send({ origin: 'http://127.0.0.1:9', path: '/' }, 'x', {}, 100, lane),
        sender.send({ origin: 'http://127.0.0.1:9', path: '/' }, 'y', {}, 100, lane),
      ]);
      expect(answers.every((a) => a.notSent === true)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      // Had the thread held the lane after a late failure, nothing would ever resume it.
      expect(seen).toEqual([{ kind: 'cancel', key: 'sub_stuck' }]);
    } finally {
      await sender.destroy();
      stuck.remove();
    }
  });

  it('stops once, whichever of close() and destroy() comes first, and answers later sends as not sent', async () => {
    const sender = new ThreadedSender({ threads: 1, connectionsPerOrigin: 4 });
    await sender.ready();
    const first = sender.destroy();
    expect(sender.close()).toBe(first);
    await first;
    await sender.destroy();
    expect(await sender.send({ origin: 'http://127.0.0.1:9', path: '/' }, 'x', {}, 1000)).toMatchObject({
      notSent: true,
      error: 'the sender is closed',
    });
  });

  it('spreads concurrent requests over its threads, each with its own connections', async () => {
    // One connection per thread: requests that all went to one thread would share one socket.
    const sender = new ThreadedSender({ threads: 2, connectionsPerOrigin: 2 });
    const ports: number[] = [];
    const server = createHttpServer((req, res) => {
      ports.push(req.socket.remotePort!);
      req.resume();
      req.on('end', () => setTimeout(() => res.end(), 50));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, () => sender.send({ origin, path: '/' }, 'x', {}, 5000)),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      expect(ports).toHaveLength(8);
      expect(new Set(ports).size).toBe(2);
    } finally {
      await sender.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('lanes', () => {
    let sender: ThreadedSender;
    let rx: Receiver;
    let probe: ReturnType<typeof concurrencyProbe>;
    const peak = () => probe.peak();

    beforeEach(async () => {
      sender = new ThreadedSender({ threads: 2, connectionsPerOrigin: 16 });
      await sender.ready();
      probe = concurrencyProbe(60);
      rx = await startReceiver(probe.respond);
    });

    afterEach(async () => {
      await sender.destroy();
      await rx.close();
    });

    const send = (body: string, key = 'sub_a', limit = 2) =>
      sender.send({ origin: rx.url, path: '/' }, body, {}, 5000, { key, limit });

    it('starts at most `limit` of a lane at once, the rest in order as slots free, on one thread', async () => {
      expect(sender.queues).toBe(true);
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => send(`m${i}`)));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(peak()).toBe(2);
      // Every one arrived; they left in order (two of a round, on two connections, may arrive
      // either way round: the receiver's order alone failed under load).
      expect(rx.requests.map((r) => r.body).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
      const left = results.map((r) => r.startedAtMs!);
      expect(left).toEqual([...left].sort((a, b) => a - b));
      // Four rounds of two, not one round of eight (nor eight of one).
      expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 55);
      // Each answer says when its request left: the queued ones later than the first.
      expect(results[7].startedAtMs! - results[0].startedAtMs!).toBeGreaterThanOrEqual(3 * 55);
    });

    it('keeps lanes apart: one lane at its limit does not hold up another', async () => {
      const a = Array.from({ length: 6 }, (_, i) => send(`a${i}`, 'sub_a', 1));
      const b = await Promise.all([send('b0', 'sub_b', 1), send('b1', 'sub_b', 1)]);
      expect(b.every((r) => r.ok)).toBe(true);
      // b's two went out while a was still on its first few of six.
      expect(rx.requests.filter((r) => r.body.startsWith('a')).length).toBeLessThanOrEqual(4);
      await Promise.all(a);
      expect(peak()).toBe(2);
    });

    it('takes a lowered limit from the newest request', async () => {
      const first = Array.from({ length: 4 }, (_, i) => send(`x${i}`, 'sub_a', 4));
      await Promise.all(first);
      expect(peak()).toBe(4);
      probe.reset();
      await Promise.all(Array.from({ length: 4 }, (_, i) => send(`y${i}`, 'sub_a', 1)));
      expect(peak()).toBe(1);
    });

    it('withdraws waiting requests of a lane, or to an origin, as not sent; started ones finish', async () => {
      const byLane = Array.from({ length: 5 }, (_, i) => send(`k${i}`, 'sub_a', 1));
      const other = send('other', 'sub_b', 1);
      await new Promise((r) => setTimeout(r, 20));
      sender.cancelQueued({ key: 'sub_a' });
      const answers = await Promise.all(byLane);
      expect(answers[0]).toMatchObject({ ok: true });
      for (const a of answers.slice(1)) {
        expect(a).toMatchObject({ ok: false, notSent: true, endpointFault: false });
        expect(a.error).toBe('withdrawn before it was sent');
      }
      expect(await other).toMatchObject({ ok: true });

      const byOrigin = Array.from({ length: 3 }, (_, i) => send(`o${i}`, 'sub_c', 1));
      await new Promise((r) => setTimeout(r, 20));
      sender.cancelQueued({ origin: 'http://127.0.0.1:1' }); // another origin: nothing withdrawn
      sender.cancelQueued({ origin: rx.url });
      expect((await Promise.all(byOrigin)).map((a) => a.ok)).toEqual([true, false, false]);
      // Withdrawn requests never reached the endpoint.
      expect(rx.requests.map((r) => r.body).sort()).toEqual(['k0', 'o0', 'other']);
    });

    it('holds a lane after a failure that counts for the breaker until the engine resumes or withdraws it', async () => {
      rx.respond = (r) => (r.body === 'fail' ? 500 : r.body === 'busy' ? 429 : 200);
      // A 429 is the endpoint alive and saying so: nothing is held.
      const throttled = await Promise.all([send('busy', 'sub_a', 1), send('next', 'sub_a', 1)]);
      expect(throttled.map((r) => r.status)).toEqual([429, 200]);
      // A 500 holds what waits behind it...
      const [failed, ...held] = [send('fail', 'sub_a', 1), send('h1', 'sub_a', 1), send('h2', 'sub_a', 1)];
      expect(await failed).toMatchObject({ status: 500, endpointFault: true });
      await new Promise((r) => setTimeout(r, 200));
      expect(rx.requests.map((r) => r.body)).toEqual(['busy', 'next', 'fail']);
      // ...until the engine has judged it and the breaker is still closed.
      sender.resumeLane('sub_a');
      expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
      // Or withdrawn, when the breaker opened; the lane then takes new requests at once.
      const [again, ...withdrawn] = [send('fail', 'sub_a', 1), send('w1', 'sub_a', 1)];
      await again;
      await new Promise((r) => setTimeout(r, 100));
      sender.cancelQueued({ origin: rx.url });
      expect((await Promise.all(withdrawn)).map((r) => r.notSent)).toEqual([true]);
      expect(await send('fresh', 'sub_a', 1)).toMatchObject({ ok: true });
      expect(rx.requests.map((r) => r.body)).toEqual(['busy', 'next', 'fail', 'h1', 'h2', 'fail', 'fresh']);
    });

    it("sends a re-pointed lane on once its old endpoint's failure is judged", async () => {
      const other = await startReceiver();
      try {
        rx.respond = () => ({ status: 500, delayMs: 50 });
        const toOther = (body: string) =>
          sender.send({ origin: other.url, path: '/' }, body, {}, 5000, { key: 'sub_a', limit: 1 });
        // A request to the old endpoint fails while the lane's next ones, to the new one, wait.
        const failed = send('old', 'sub_a', 1);
        const moved = [toOther('new1'), toOther('new2')];
        expect(await failed).toMatchObject({ status: 500 });
        await new Promise((r) => setTimeout(r, 100));
        expect(other.requests).toHaveLength(0);
        // The old endpoint's breaker opened: what waits for it is withdrawn (nothing does), and
        // the lane goes on to the new endpoint.
        sender.cancelQueued({ origin: rx.url });
        sender.resumeLane('sub_a');
        expect((await Promise.all(moved)).map((r) => r.status)).toEqual([200, 200]);
        expect(other.requests.map((r) => r.body)).toEqual(['new1', 'new2']);
      } finally {
        await other.close();
      }
    });

    it('withdraws what waits when closing, and finishes what started', async () => {
      const pending = Array.from({ length: 3 }, (_, i) => send(`c${i}`, 'sub_a', 1));
      await new Promise((r) => setTimeout(r, 20));
      await sender.close();
      const answers = await Promise.all(pending);
      expect(answers[0]).toMatchObject({ ok: true, status: 200 });
      expect(answers.slice(1).map((a) => [a.notSent, a.error])).toEqual([
        [true, 'the sender is closing'],
        [true, 'the sender is closing'],
      ]);
      expect(rx.requests).toHaveLength(1);
    });

    it("answers a lane's waiting and started requests as not sent when its thread dies", async () => {
      await new Promise((r) => setTimeout(r, 1100)); // past the crash-loop guard: replaced at once
      const pending = Array.from({ length: 3 }, (_, i) => send(`d${i}`, 'sub_a', 1));
      await new Promise((r) => setTimeout(r, 20));
      const holding = sender.workers().filter((w) => w !== undefined);
      await Promise.all(holding.map((w) => w.terminate()));
      const answers = await Promise.all(pending);
      expect(answers.every((a) => a.notSent === true)).toBe(true);
      // The lane is served again by a new thread.
      expect(await send('after')).toMatchObject({ ok: true });
    });
  });

  it('refuses to start without a thread', () => {
    expect(() => new ThreadedSender({ threads: 0, connectionsPerOrigin: 8 })).toThrow(/at least one thread/);
  });
});
