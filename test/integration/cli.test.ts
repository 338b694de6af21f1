/** The `herald` binary against a real server: the newcomer's tour, JSON output, exit codes. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERALD_BIN } from '../support/child.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestHerald, waitFor, type TestHerald } from '../support/herald.js';

const exec = promisify(execFile);

describe('herald CLI', () => {
  let h: TestHerald;
  let rx: Receiver;

  const herald = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [HERALD_BIN, ...args], {
        env: { ...process.env, HERALD_URL: h.url, HERALD_API_KEY: h.apiKey },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    h = await startTestHerald();
    rx = await startReceiver();
  });
  afterAll(async () => {
    await h.close();
    await rx.close();
  });

  it('walks the README tour: topic, queue, webhook, publish, receive --ack, attempts', async () => {
    expect((await herald('topics', 'create', 'orders')).stdout).toMatch(/topic orders/);
    await herald('queues', 'create', 'billing');
    const q = await herald('subscribe', 'orders', 'billing');
    expect(q.stdout).toMatch(/queue billing/);
    const web = await herald('--json', 'subscribe', 'orders', `${rx.url}/hook`, '--max-attempts', '3', '--raw');
    const sub = JSON.parse(web.stdout);
    expect(sub).toMatchObject({ protocol: 'http', raw: true, deliveryPolicy: { maxAttempts: 3 } });
    expect(sub.secret).toMatch(/^whsec_/);

    const pub = await herald('publish', 'orders', '{"order":42}', '--attr', 'kind=created', '--attr', 'region=eu');
    const id = pub.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => rx.requests.length === 1);
    expect(rx.requests[0].body).toBe('{"order":42}');
    expect(rx.requests[0].headers['x-herald-attr-kind']).toBe('created');

    const received = JSON.parse((await herald('--json', 'receive', 'billing', '--max', '10', '--ack')).stdout);
    expect(received.messages).toHaveLength(1);
    expect(JSON.parse(received.messages[0].body)).toMatchObject({
      id,
      body: '{"order":42}',
      attributes: { kind: 'created', region: 'eu' },
    });
    expect((await h.client.getQueue('billing')).stats).toEqual({ visible: 0, inFlight: 0, delayed: 0 });

    const attempts = JSON.parse((await herald('--json', 'attempts', sub.id)).stdout);
    expect(attempts.attempts[0]).toMatchObject({ messageId: id, ok: true, status: 200 });
    expect((await herald('attempts', sub.id)).stdout).toMatch(/MESSAGEID[\s\S]*ok/);
  });

  it('reads the body from stdin-less --file and lists in tables', async () => {
    const list = await herald('topics', 'list');
    expect(list.stdout).toMatch(/NAME\s+CREATEDAT/);
    expect(list.stdout).toMatch(/orders/);
    const queues = await herald('queues', 'get', 'billing');
    expect(queues.stdout).toMatch(/billing: 0 visible, 0 in flight, 0 delayed/);
  });

  it('reports server errors with the error code and exit 1', async () => {
    const r = await herald('publish', 'missing-topic', 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: topic_not_found: topic "missing-topic" does not exist/);
  });

  it('exits 2 on usage errors, naming the flag', async () => {
    const r = await herald('receive', 'billing', '--max', 'lots');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max takes a number/);
    expect((await herald('no-such-command')).code).toBe(2);
  });

  it('prints help listing every command', async () => {
    const r = await herald('--help');
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
      expect(r.stdout).toContain(cmd);
    }
  });

  it('fails cleanly when the key is wrong', async () => {
    const { stderr, code } = await exec(process.execPath, [HERALD_BIN, 'topics', 'list'], {
      env: { ...process.env, HERALD_URL: h.url, HERALD_API_KEY: 'wrong' },
    }).then(
      (r) => ({ ...r, code: 0 }),
      (e) => e,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/unauthorized/);
  });
});
