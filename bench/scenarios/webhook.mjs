// Webhook push throughput vs the raw rate at which undici can POST to the same receiver
// with the same concurrency. Push rate is measured on a backlog (published to a paused
// subscription, then released), so publishing does not share the measurement; the
// end-to-end rate (publishing while delivering) is reported beside it.
import { Pool } from 'undici';
import { now, startHerald, startReceiver } from '../lib/util.mjs';

const payload = 'x'.repeat(256);
/** Requests (or deliveries) made before measuring, so both sides run with warm connections and JIT. */
const WARMUP = 2000;

export async function rawPost({ n, concurrency }) {
  const rx = await startReceiver();
  const pool = new Pool(rx.url, { connections: concurrency, keepAliveTimeout: 30_000 });
  try {
    let next = 0;
    let limit = WARMUP;
    const worker = async () => {
      while (next < limit) {
        next++;
        const res = await pool.request({
          path: '/hook',
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'webhook-id': 'x',
            'webhook-timestamp': '1',
            'webhook-signature': 'v1,x',
          },
          body: payload,
        });
        await res.body.dump();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up, not measured
    next = 0;
    limit = n;
    const started = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { msgsPerSec: n / ((now() - started) / 1000) };
  } finally {
    await pool.close();
    await rx.stop();
  }
}

export async function heraldWebhook({ n, concurrency }) {
  const rx = await startReceiver();
  const h = await startHerald();
  try {
    await h.api('PUT', '/v1/topics/hooks');
    const sub = await h.api('POST', '/v1/topics/hooks/subscriptions', {
      protocol: 'http',
      endpoint: `${rx.url}/hook`,
      raw: true,
      deliveryPolicy: { maxConcurrency: concurrency },
    });
    const publish = async (count) => {
      for (let sent = 0; sent < count; sent += 1000) {
        const messages = Array.from({ length: Math.min(1000, count - sent) }, () => ({ body: payload }));
        await h.api('POST', '/v1/topics/hooks/messages/batch', { messages });
      }
    };
    const waitAll = async (started, target) => {
      for (;;) {
        const s = await rx.stats();
        if (s.count >= target) return (s.last - started) / 1000;
        if (now() - started > 120_000) throw new Error(`only ${s.count}/${target} delivered after 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let started = now();
    await publish(WARMUP);
    await waitAll(started, WARMUP);
    await rx.reset();
    // Push rate: a backlog of n deliveries, released at once by enabling the subscription.
    await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'disabled' });
    await publish(n);
    started = now();
    await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'active' });
    const pushSeconds = await waitAll(started, n);
    // End to end: publishing (batches of 1,000) and delivering at the same time.
    started = now();
    await publish(n);
    const endToEndSeconds = await waitAll(started, 2 * n);
    return { msgsPerSec: n / pushSeconds, endToEndPerSec: n / endToEndSeconds };
  } finally {
    await h.stop();
    await rx.stop();
  }
}
