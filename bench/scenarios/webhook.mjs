// Webhook push vs the raw rate at which undici can POST the same payload to the same kind of
// receiver (another process, answers 200 at once) with the same concurrency.
// - raw: N undici Pool POSTs, `concurrency` in flight.
// - Herald end to end (the measure): one raw http subscription with
//   maxConcurrency = `concurrency`; N messages published with the batch API (1,000 per call);
//   time from the first publish to the receiver having counted all N.
// - Herald from a backlog (extra): N deliveries published to a disabled subscription, then
//   released by enabling it; time to the last arrival (push alone, no publishing beside it).
// Both sides warm up with two unmeasured rounds of N (connections, JIT, the heap's and the
// database file's growth), then run `rounds` measured rounds alternating raw, end to end and
// backlog, so a change in the machine's speed lands on both sides; medians are reported.
// Before each raw round the server is left to go idle, so nothing it still does slows it.
import { Pool } from 'undici';
import { batchBody, cpuSeconds, now, sleep, startHerald, startReceiver } from '../lib/util.mjs';

const payload = 'x'.repeat(256);
const LIMIT_MS = 120_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The raw side: a receiver and an undici Pool POSTing to it, `concurrency` in flight. */
async function openRaw({ concurrency }) {
  const rx = await startReceiver();
  const pool = new Pool(rx.url, { connections: concurrency, keepAliveTimeout: 30_000 });
  const post = async (n) => {
    let next = 0;
    let errors = 0;
    const worker = async () => {
      while (next < n) {
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
    await Promise.all(Array.from({ length: concurrency }, worker));
    return errors;
  };
  return {
    /** One measured round of n POSTs. */
    async round(n) {
      await rx.reset();
      const cpu0 = process.cpuUsage();
      const started = now();
      const errors = await post(n);
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
    },
    warm: (n) => post(n),
    async close() {
      await pool.close();
      await rx.stop();
    },
  };
}

/** Herald's side: a server, a receiver and one raw http subscription to it. */
async function openHerald({ concurrency }) {
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
    const fullBatch = batchBody(1000, payload);
    const publish = async (count) => {
      for (let sent = 0; sent < count; sent += 1000) {
        const k = Math.min(1000, count - sent);
        const { results } = await h.api(
          'POST',
          '/v1/topics/hooks/messages/batch',
          k === 1000 ? fullBatch : batchBody(k, payload),
        );
        const failed = results.filter((r) => !r.id);
        if (failed.length) throw new Error(`publish batch: ${failed.length} failed: ${JSON.stringify(failed[0])}`);
      }
    };
    let duplicates = 0;
    /** Anything arriving beyond n (a duplicate) shows up in the count a moment later. */
    const countExtra = async (n) => {
      await sleep(300);
      duplicates += (await rx.stats()).count - n;
    };
    return {
      /** End to end: publishing (batches of 1,000, one after another) and delivering at once. */
      async endToEnd(n) {
        await rx.reset();
        const cpu0 = cpuSeconds(h.pid);
        const started = now();
        await publish(n);
        const publishedAt = now();
        const s = await rx.waitFor(n, LIMIT_MS, 'webhook end to end');
        const result = {
          msgsPerSec: n / ((s.last - started) / 1000),
          publishSeconds: (publishedAt - started) / 1000,
          seconds: (s.last - started) / 1000,
          serverCpuMicrosPerMsg: ((cpuSeconds(h.pid) - cpu0) * 1e6) / n,
        };
        await countExtra(n);
        return result;
      },
      /** From a backlog: n deliveries owed to a disabled subscription, released at once. */
      async backlog(n) {
        await rx.reset();
        await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'disabled' });
        await publish(n);
        const cpu0 = cpuSeconds(h.pid);
        const started = now();
        await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'active' });
        const s = await rx.waitFor(n, LIMIT_MS, 'webhook backlog release');
        const result = {
          msgsPerSec: n / ((s.last - started) / 1000),
          serverCpuMicrosPerMsg: ((cpuSeconds(h.pid) - cpu0) * 1e6) / n,
        };
        await countExtra(n);
        return result;
      },
      duplicates: () => duplicates,
      /**
       * Waits (up to 3 s) until the server is idle: what a round leaves behind (checkpoints of
       * its WAL, the attempt log's sweep) must not run during the raw round and slow it.
       */
      async quiet() {
        for (let i = 0; i < 30; i++) {
          const c0 = cpuSeconds(h.pid);
          await sleep(100);
          if (cpuSeconds(h.pid) - c0 <= 0.002) return;
        }
      },
      async close() {
        await h.stop();
        await rx.stop();
      },
    };
  } catch (error) {
    await h.stop();
    await rx.stop();
    throw error;
  }
}

/** Raw POSTs alone (the `raw-http` scenario): one warm-up round, then one measured. */
export async function rawPost({ n, concurrency }) {
  const raw = await openRaw({ concurrency });
  try {
    await raw.warm(n);
    return await raw.round(n);
  } finally {
    await raw.close();
  }
}

/** The `webhook` scenario: raw POSTs and Herald side by side, `rounds` alternating rounds. */
export async function compareWebhooks({ n, concurrency, rounds }) {
  const raw = await openRaw({ concurrency });
  try {
    const herald = await openHerald({ concurrency });
    try {
      // Warm-ups, not measured: one round of n left the raw side's first measured round about
      // a third slower than its later ones (client and receiver CPU per request both higher),
      // which flattered that round's ratio; two rounds each side leave the rounds level.
      await raw.warm(n);
      await raw.warm(n);
      await herald.endToEnd(n);
      await herald.backlog(n);
      const rows = [];
      for (let i = 0; i < rounds; i++) {
        await herald.quiet();
        const r = await raw.round(n);
        const endToEnd = await herald.endToEnd(n);
        const backlog = await herald.backlog(n);
        rows.push({ raw: r, endToEnd, backlog });
      }
      const mid = (pick) => median(rows.map(pick));
      return {
        rounds: rows,
        roundRatios: rows.map((x) => x.endToEnd.msgsPerSec / x.raw.msgsPerSec),
        raw: {
          msgsPerSec: mid((x) => x.raw.msgsPerSec),
          clientCpuMicrosPerRequest: mid((x) => x.raw.clientCpuMicrosPerRequest),
          errors: rows.reduce((sum, x) => sum + x.raw.errors, 0),
        },
        endToEnd: {
          msgsPerSec: mid((x) => x.endToEnd.msgsPerSec),
          serverCpuMicrosPerMsg: mid((x) => x.endToEnd.serverCpuMicrosPerMsg),
        },
        backlog: {
          msgsPerSec: mid((x) => x.backlog.msgsPerSec),
          serverCpuMicrosPerMsg: mid((x) => x.backlog.serverCpuMicrosPerMsg),
        },
        duplicates: herald.duplicates(),
      };
    } finally {
      await herald.close();
    }
  } finally {
    await raw.close();
  }
}
