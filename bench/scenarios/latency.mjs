// Single-message durable publish (one HTTP request per message) paced open-loop at a fixed
// rate, with one raw webhook subscription to a receiver in another process:
// - publish latency, from each message's scheduled send time to its 201 (a late send is
//   charged to the system: no coordinated omission);
// - publish-to-webhook latency, arrival at the receiver minus the scheduled send time
//   carried in the body, on the same wall clock (performance.timeOrigin + performance.now()).
import { Agent, request } from 'undici';
import { cpuSeconds, now, percentile, sleep, startHerald, startReceiver, summarize } from '../lib/util.mjs';

/**
 * Unmeasured seconds at the same rate before the measured run. A server just started runs
 * its first seconds slower (V8 still compiling the hot paths, the WAL file still growing, so
 * every fsync also writes metadata): on a 2-core machine, one second of warm-up left the
 * first 1-2 measured seconds with 20-47 ms spikes, which alone made the p99 (35-74 ms against
 * 12-13 ms after 3 s; .scratch timeline probe, 2026-11-23). The target is about a running
 * service, so the warm-up is 3 s; the p99 of each measured second is reported as well.
 */
const WARMUP_SECONDS = 3;

/**
 * `lags` (optional) collects how late the load generator issued each request behind its
 * schedule: its own event loop's delays, counted in the publish latency (as they must be,
 * against coordinated omission) but not Herald's doing.
 */
export async function pacedPublishes(h, agent, rate, total, publish, counters, bySecond = null, lags = null) {
  const inflight = [];
  const start = now() + 20;
  const deadline = start + (total / rate) * 1000 + 30_000;
  // Open loop: every message has a scheduled send time; each timer tick sends all that are
  // due, whatever is still in flight.
  for (let i = 0; i < total;) {
    if (now() > deadline) throw new Error('publish-latency: pacing loop over its time limit');
    const t = now();
    for (; i < total && start + (i * 1000) / rate <= t; i++) {
      const due = start + (i * 1000) / rate;
      lags?.push(t - due);
      inflight.push(
        request(`${h.url}/v1/topics/lat/messages`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
          body: JSON.stringify({ body: `t=${due.toFixed(3)};${'x'.repeat(200)}` }),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        }).then(
          async (res) => {
            await res.body.dump();
            if (res.statusCode !== 201) {
              counters.errors++;
              counters.statuses[res.statusCode] = (counters.statuses[res.statusCode] ?? 0) + 1;
            }
            publish.push(now() - due);
            if (bySecond) (bySecond[Math.floor((due - start) / 1000)] ??= []).push(now() - due);
          },
          (err) => {
            counters.errors++;
            counters.statuses[err.code ?? err.message] = (counters.statuses[err.code ?? err.message] ?? 0) + 1;
          },
        ),
      );
    }
    await sleep(1);
  }
  await Promise.all(inflight);
}

/**
 * `subscribe: false` runs the same load on a topic without subscriptions: publish latency
 * with no delivery work beside it, to tell the two apart.
 */
export async function publishLatency({ rate, seconds, subscribe = true }) {
  const { rx, h, agent, close } = await openPublishTarget({ subscribe });
  try {
    // Unmeasured seconds at the same rate first: connections, JIT and caches warm up.
    // The same code path as the measured run (per-second samples included), so the load
    // generator does not meet a branch for the first time, and deoptimize, as measuring starts.
    await pacedPublishes(h, agent, rate, rate * WARMUP_SECONDS, [], { errors: 0, statuses: {} }, []);
    if (subscribe) await rx.waitFor(rate * WARMUP_SECONDS, 20_000, 'publish-latency warm-up');
    await sleep(200);
    await rx.reset();
    const total = rate * seconds;
    const publish = [];
    const counters = { errors: 0, statuses: {} };
    const bySecond = [];
    const lags = [];
    const cpu0 = cpuSeconds(h.pid);
    const started = now();
    await pacedPublishes(h, agent, rate, total, publish, counters, bySecond, lags);
    const elapsed = (now() - started) / 1000;
    const achievedRate = total / elapsed;
    const deadline = now() + 10_000;
    let s;
    while (subscribe && (s = await rx.stats()).count < total && now() < deadline) await sleep(20);
    // Server CPU, percent of one core, over the paced run and the delivery tail.
    const serverCpuPercent = (100 * (cpuSeconds(h.pid) - cpu0)) / ((now() - started) / 1000);
    s = await rx.stats({ latencies: true });
    return {
      rate,
      subscribe,
      achievedRate,
      serverCpuPercent,
      publish: summarize(publish),
      warmupSeconds: WARMUP_SECONDS,
      /** Publish p99 of each measured second, in order. */
      publishP99BySecond: bySecond.map((xs) =>
        percentile(
          [...xs].sort((a, b) => a - b),
          99,
        ),
      ),
      /** How late the load generator issued requests behind schedule (see run). */
      sendLag: summarize(lags),
      toWebhook: summarize(s.latencies),
      delivered: s.count,
      total,
      errors: counters.errors,
      statuses: counters.statuses,
    };
  } finally {
    await close();
  }
}

/**
 * A fresh server with topic `lat` (and, with `subscribe`, one raw webhook subscription to a
 * receiver), the receiver and the publishers' connection pool; `close` ends all three.
 */
export async function openPublishTarget({ subscribe }) {
  const rx = await startReceiver();
  const h = await startHerald();
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const close = async () => {
    await agent.close();
    await h.stop();
    await rx.stop();
  };
  try {
    await h.api('PUT', '/v1/topics/lat');
    if (subscribe) {
      await h.api('POST', '/v1/topics/lat/subscriptions', { protocol: 'http', endpoint: `${rx.url}/hook`, raw: true });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { rx, h, agent, close };
}
