// A deep queue: fill it (batch send, 1,000 per call, several senders), read the server's
// memory, and compare receive+ack throughput on the deep queue with the same on a
// near-empty queue (a separate queue holding only the messages drained, measured first on
// an empty database). Three drains of `sample` each; the medians are compared. Each drain
// starts once the server is idle after the fill before it.
import { checkDeadline, cpuSeconds, now, rssMiB, sleep, startHerald } from '../lib/util.mjs';

const body = 'x'.repeat(256);
const LIMIT_MS = 20 * 60_000;
const ROUNDS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function fill(h, queue, n, senders = 4) {
  const deadline = now() + LIMIT_MS;
  let sent = 0;
  const started = now();
  const sender = async () => {
    while (sent < n) {
      checkDeadline(deadline, `fill ${queue} (${sent}/${n})`);
      const k = Math.min(1000, n - sent);
      sent += k;
      const { results } = await h.api('POST', `/v1/queues/${queue}/messages/batch`, {
        messages: Array.from({ length: k }, () => ({ body })),
      });
      if (results.length !== k || results.some((r) => !r.id)) {
        throw new Error(`fill ${queue}: batch answer ${JSON.stringify(results.find((r) => !r.id) ?? results.length)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  return n / ((now() - started) / 1000);
}

/**
 * Waits until the server has been idle (under 5% of a core for 500 ms) after a fill, so a
 * drain does not share the CPU with the checkpoint of what was just written; at most 30 s.
 */
async function settle(h) {
  const started = now();
  for (;;) {
    const c0 = cpuSeconds(h.pid);
    await sleep(500);
    const busy = (cpuSeconds(h.pid) - c0) / 0.5;
    if (busy < 0.05 || now() - started > 30_000) return (now() - started) / 1000;
  }
}

/** Receives (up to 1,000 at a time) and acks `n` messages with `consumers` workers. */
async function drain(h, queue, n, consumers = 4) {
  const deadline = now() + LIMIT_MS;
  let got = 0;
  let empties = 0;
  const started = now();
  const consumer = async () => {
    while (got < n) {
      checkDeadline(deadline, `drain ${queue} (${got}/${n})`);
      const max = Math.min(1000, n - got);
      const { messages } = await h.api('POST', `/v1/queues/${queue}/receive`, { max });
      if (messages.length === 0) {
        if (++empties > 20) throw new Error(`drain ${queue}: queue empty after ${got}/${n}`);
        continue;
      }
      got += messages.length;
      const r = await h.api('POST', `/v1/queues/${queue}/ack`, { receipts: messages.map((m) => m.receipt) });
      if (r.acked !== messages.length) throw new Error(`ack ${queue}: ${JSON.stringify(r).slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: consumers }, consumer));
  return got / ((now() - started) / 1000);
}

export async function backlog({ depth, sample }) {
  const h = await startHerald();
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(h.pid));
    } catch {}
  }, 200);
  try {
    const rssIdle = rssMiB(h.pid);
    await h.api('PUT', '/v1/queues/shallow');
    await h.api('PUT', '/v1/queues/deep');
    // Each drain of `sample` takes about a second; three rounds each, medians compared.
    const shallowRates = [];
    const settleSeconds = [];
    for (let r = 0; r < ROUNDS; r++) {
      await fill(h, 'shallow', sample);
      settleSeconds.push(await settle(h));
      shallowRates.push(await drain(h, 'shallow', sample));
    }
    const fillRate = await fill(h, 'deep', depth);
    const rssAfterFill = rssMiB(h.pid);
    const stats = await h.api('GET', '/v1/queues/deep').catch((e) => ({ error: e.message }));
    settleSeconds.push(await settle(h));
    const deepRates = [];
    for (let r = 0; r < ROUNDS; r++) deepRates.push(await drain(h, 'deep', sample));
    const shallowRate = median(shallowRates);
    const deepRate = median(deepRates);
    const rssAfterDrain = rssMiB(h.pid);
    peak = Math.max(peak, rssAfterDrain);
    return {
      depth,
      sample,
      fillRate,
      shallowRate,
      deepRate,
      shallowRates,
      deepRates,
      settleSeconds,
      rssIdle,
      rssAfterFill,
      rssAfterDrain,
      peakRss: peak,
      queueAfterFill: stats,
    };
  } finally {
    clearInterval(sampler);
    await h.stop();
  }
}
