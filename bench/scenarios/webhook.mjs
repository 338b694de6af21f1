// Webhook push vs the raw rate at which undici can POST the same payload to the same kind of
// receiver (another process, answers 200 at once) with the same concurrency.
// - raw: N undici Pool POSTs, `concurrency` in flight.
// - Herald end to end (the measure): one raw http subscription with
//   maxConcurrency = `concurrency`; N messages published with the batch API (1,000 per call);
//   time from the first publish to the receiver having counted all N.
// - Herald from a backlog (extra): N deliveries published to a disabled subscription, then
//   released by enabling it; time to the last arrival (push alone, no publishing beside it).
import { Pool } from 'undici';
import { cpuSeconds, now, sleep, startHerald, startReceiver } from '../lib/util.mjs';

const payload = 'x'.repeat(256);
/** Requests (or deliveries) made before measuring, so both sides run with warm connections and JIT. */
const WARMUP = 2000;
const LIMIT_MS = 120_000;

export async function rawPost({ n, concurrency }) {
  const rx = await startReceiver();
  const pool = new Pool(rx.url, { connections: concurrency, keepAliveTimeout: 30_000 });
  try {
    let next = 0;
    let limit = WARMUP;
    let errors = 0;
    const worker = async () => {
      while (next < limit) {
        next++;
        const res = await pool.request({
          path: '/hook',
          method: 'POST',
          headers: {
            'content-type': 'text/plain',
            'webhook-id': 'msg_01a2075b-a014-7333-847f-56e3a5adbf33',
            'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
            'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
          },
          body: payload,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up, not measured
    await rx.reset();
    next = 0;
    limit = n;
    const cpu0 = process.cpuUsage();
    const started = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s = await rx.stats();
    // The sending process's CPU per request: what the HTTP client alone costs, beside
    // Herald's server CPU per delivery.
    return {
      msgsPerSec: n / seconds,
      received: s.count,
      errors,
      clientCpuMicrosPerRequest: (cpu.user + cpu.system) / n,
    };
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
    if (!sub?.id || typeof sub.secret !== 'string') throw new Error(`subscription answer: ${JSON.stringify(sub)}`);
    const publish = async (count) => {
      for (let sent = 0; sent < count; sent += 1000) {
        const messages = Array.from({ length: Math.min(1000, count - sent) }, () => ({ body: payload }));
        const { results } = await h.api('POST', '/v1/topics/hooks/messages/batch', { messages });
        const failed = results.filter((r) => !r.id);
        if (failed.length) throw new Error(`publish batch: ${failed.length} failed: ${JSON.stringify(failed[0])}`);
      }
    };
    // Warm-up: connections, JIT, caches.
    await publish(WARMUP);
    await rx.waitFor(WARMUP, LIMIT_MS, 'webhook warm-up');
    await rx.reset();

    // End to end: publishing (batches of 1,000, one after another) and delivering at once.
    let cpu0 = cpuSeconds(h.pid);
    let started = now();
    await publish(n);
    const publishedAt = now();
    let s = await rx.waitFor(n, LIMIT_MS, 'webhook end to end');
    const endToEnd = {
      msgsPerSec: n / ((s.last - started) / 1000),
      publishSeconds: (publishedAt - started) / 1000,
      seconds: (s.last - started) / 1000,
      serverCpuMicrosPerMsg: ((cpuSeconds(h.pid) - cpu0) * 1e6) / n,
    };
    await sleep(300); // anything arriving beyond n (a duplicate) shows up in the count
    const extra = (await rx.stats()).count - n;

    // From a backlog: n deliveries owed to a disabled subscription, released at once.
    await rx.reset();
    await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'disabled' });
    await publish(n);
    cpu0 = cpuSeconds(h.pid);
    started = now();
    await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'active' });
    s = await rx.waitFor(n, LIMIT_MS, 'webhook backlog release');
    const backlog = {
      msgsPerSec: n / ((s.last - started) / 1000),
      serverCpuMicrosPerMsg: ((cpuSeconds(h.pid) - cpu0) * 1e6) / n,
    };
    await sleep(300);
    return { endToEnd, backlog, duplicates: extra + ((await rx.stats()).count - n) };
  } finally {
    await h.stop();
    await rx.stop();
  }
}
