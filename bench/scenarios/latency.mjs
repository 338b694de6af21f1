// Single-message durable publish paced open-loop at a fixed rate: publish latency (from the
// scheduled send time, so queueing delay counts) and publish-to-webhook latency.
import { Agent, request } from 'undici';
import { now, sleep, startHerald, startReceiver, summarize } from '../lib/util.mjs';

async function run(h, agent, rate, total, publish, counters) {
  const inflight = [];
  const start = now() + 20;
  // Open loop: every message has a scheduled send time; each timer tick sends all that are
  // due. Latency counts from the scheduled time, so a late send is charged to the system
  // (no coordinated omission), and the loop never spins on its own event loop.
  for (let i = 0; i < total;) {
    const t = now();
    for (; i < total && start + (i * 1000) / rate <= t; i++) {
      const due = start + (i * 1000) / rate;
      inflight.push(
        request(`${h.url}/v1/topics/lat/messages`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
          body: JSON.stringify({ body: `t=${due.toFixed(3)};${'x'.repeat(200)}` }),
        }).then(async (res) => {
          await res.body.dump();
          if (res.statusCode !== 201) counters.errors++;
          publish.push(now() - due);
        }),
      );
    }
    await sleep(1);
  }
  await Promise.all(inflight);
}

export async function publishLatency({ rate, seconds }) {
  const rx = await startReceiver();
  const h = await startHerald();
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  try {
    await h.api('PUT', '/v1/topics/lat');
    await h.api('POST', '/v1/topics/lat/subscriptions', { protocol: 'http', endpoint: `${rx.url}/hook`, raw: true });
    // One unmeasured second at the same rate first: connections, JIT and caches warm up.
    await run(h, agent, rate, rate, [], { errors: 0 });
    await sleep(200);
    await rx.reset();
    const total = rate * seconds;
    const publish = [];
    const counters = { errors: 0 };
    await run(h, agent, rate, total, publish, counters);
    const errors = counters.errors;
    const deadline = now() + 10_000;
    let s;
    while ((s = await rx.stats()).count < total && now() < deadline) await sleep(20);
    return { publish: summarize(publish), toWebhook: summarize(s.latencies), delivered: s.count, total, errors };
  } finally {
    await agent.close();
    await h.stop();
    await rx.stop();
  }
}
