// CPU per message at a modest rate: single durable publishes (one request each) paced at
// RATE a second, as in the publish-latency scenario, to a topic with one raw webhook
// subscription and then to one without subscriptions, each on a fresh server. Nothing
// batches at this rate, so what every publish, lease, hand-off and outcome costs on its own
// shows here; the difference between the two lines is what a delivery costs.
// Prints the server's CPU µs per message by thread (main = the event loop; busiest other =
// the sender thread when there is a subscription), the receiver's and the load generator's.
//   node bench/probes/low-rate.mjs                 (RATE=1000 SECONDS=6 by default)
//   HERALD_BENCH_CLI=/other/build/dist/cli/main.js node bench/probes/low-rate.mjs
import { pacedPublishes, openPublishTarget } from '../scenarios/latency.mjs';
import { cpuSeconds, killChildren, sleep, threadCpuSeconds } from '../lib/util.mjs';

const RATE = Number(process.env.RATE ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? 6);
const WARMUP_SECONDS = 3;

/** `total` publishes at RATE a second, open loop (the publish-latency scenario's loop). */
async function paced(h, agent, total) {
  const counters = { errors: 0, statuses: {} };
  await pacedPublishes(h, agent, RATE, total, [], counters);
  if (counters.errors > 0)
    throw new Error(`low-rate: ${counters.errors} publishes failed: ${JSON.stringify(counters.statuses)}`);
}

async function measure(subscribe) {
  const { rx, h, agent, close } = await openPublishTarget({ subscribe });
  try {
    await paced(h, agent, RATE * WARMUP_SECONDS);
    await sleep(300);
    const total = RATE * SECONDS;
    const before = threadCpuSeconds(h.pid);
    const rx0 = cpuSeconds(rx.pid);
    const self0 = process.cpuUsage();
    await rx.reset();
    await paced(h, agent, total);
    if (subscribe) await rx.waitFor(total, 20_000, 'low-rate deliveries');
    const after = threadCpuSeconds(h.pid);
    const self = process.cpuUsage(self0);
    const us = (seconds) => ((seconds * 1e6) / total).toFixed(0);
    let main = 0;
    const others = [];
    for (const [tid, s] of Object.entries(after)) {
      const used = s - (before[tid] ?? 0);
      if (tid === String(h.pid)) main = used;
      else others.push(used);
    }
    others.sort((a, b) => b - a);
    const rest = others.slice(1).reduce((a, b) => a + b, 0);
    console.log(
      `${subscribe ? 'one webhook      ' : 'no subscriptions '} server main ${us(main)}, busiest other thread ${us(others[0] ?? 0)}, ` +
        `the other threads ${us(rest)} µs per message; receiver ${us(cpuSeconds(rx.pid) - rx0)}; ` +
        `load generator ${us((self.user + self.system) / 1e6)}`,
    );
  } finally {
    await close();
  }
}

try {
  await measure(true);
  await measure(false);
} finally {
  killChildren();
}
