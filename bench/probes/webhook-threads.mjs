// CPU per webhook delivery, thread by thread: the `webhook` scenario's two measures (end to
// end while publishing, and from a backlog), twice on one server, with the server's CPU
// read per thread from /proc (main = the event loop; other = the checkpointer, libuv's
// thread pool, GC helpers), the receiver's and this process's (the publisher's). CPU time
// survives a busy machine far better than rates do.
//   node bench/probes/webhook-threads.mjs            (N=20000 by default)
//   HERALD_BENCH_CLI=/other/build/dist/cli/main.js node bench/probes/webhook-threads.mjs
import {
  batchBody,
  cpuSeconds,
  killChildren,
  now,
  startHerald,
  startReceiver,
  threadCpuSeconds as threadSeconds,
} from '../lib/util.mjs';

const N = Number(process.env.N ?? 20_000);
const CONCURRENCY = 128;
const payload = 'x'.repeat(256);

function perDelivery(before, after, pid) {
  let main = 0;
  let other = 0;
  for (const [tid, s] of Object.entries(after)) {
    const us = ((s - (before[tid] ?? 0)) * 1e6) / N;
    if (tid === String(pid)) main += us;
    else other += us;
  }
  return `server main ${main.toFixed(1)} µs, other threads ${other.toFixed(1)} µs`;
}

const rx = await startReceiver();
const h = await startHerald();
try {
  await h.api('PUT', '/v1/topics/hooks');
  const sub = await h.api('POST', '/v1/topics/hooks/subscriptions', {
    protocol: 'http',
    endpoint: `${rx.url}/hook`,
    raw: true,
    deliveryPolicy: { maxConcurrency: CONCURRENCY },
  });
  const fullBatch = batchBody(1000, payload);
  const publish = async (count) => {
    for (let sent = 0; sent < count; sent += 1000) {
      const k = Math.min(1000, count - sent);
      await h.api('POST', '/v1/topics/hooks/messages/batch', k === 1000 ? fullBatch : batchBody(k, payload));
    }
  };
  await publish(2000);
  await rx.waitFor(2000, 60_000, 'warm-up');
  await rx.reset();
  for (const round of [1, 2]) {
    let t0 = threadSeconds(h.pid);
    let rx0 = cpuSeconds(rx.pid);
    const pub0 = process.cpuUsage();
    let started = now();
    await publish(N);
    let s = await rx.waitFor(N, 120_000, 'end to end');
    const pub = process.cpuUsage(pub0);
    console.log(
      `round ${round} end to end: ${Math.round(N / ((s.last - started) / 1000))}/s; ${perDelivery(t0, threadSeconds(h.pid), h.pid)}; ` +
        `receiver ${(((cpuSeconds(rx.pid) - rx0) * 1e6) / N).toFixed(1)} µs; publisher ${((pub.user + pub.system) / N).toFixed(1)} µs`,
    );
    await rx.reset();
    await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'disabled' });
    await publish(N);
    t0 = threadSeconds(h.pid);
    rx0 = cpuSeconds(rx.pid);
    started = now();
    await h.api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'active' });
    s = await rx.waitFor(N, 120_000, 'backlog');
    console.log(
      `round ${round} backlog:    ${Math.round(N / ((s.last - started) / 1000))}/s; ${perDelivery(t0, threadSeconds(h.pid), h.pid)}; ` +
        `receiver ${(((cpuSeconds(rx.pid) - rx0) * 1e6) / N).toFixed(1)} µs`,
    );
    await rx.reset();
  }
} finally {
  await h.stop();
  await rx.stop();
  killChildren();
}
