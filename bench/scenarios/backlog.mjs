// A deep queue: fill it, read the server's memory, and compare receive+ack throughput on
// the deep queue with the same on a queue holding only what is drained (measured first,
// on an empty database).
import { now, rssMiB, startHerald } from '../lib/util.mjs';

const body = 'x'.repeat(256);

async function fill(h, queue, n, senders = 4) {
  let sent = 0;
  const started = now();
  const sender = async () => {
    while (sent < n) {
      const k = Math.min(1000, n - sent);
      sent += k;
      await h.api('POST', `/v1/queues/${queue}/messages/batch`, {
        messages: Array.from({ length: k }, () => ({ body })),
      });
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  return n / ((now() - started) / 1000);
}

async function drain(h, queue, n, consumers = 4) {
  let got = 0;
  const started = now();
  const consumer = async () => {
    while (got < n) {
      const { messages } = await h.api('POST', `/v1/queues/${queue}/receive`, { max: 1000 });
      if (messages.length === 0) break;
      got += messages.length;
      await h.api('POST', `/v1/queues/${queue}/ack`, { receipts: messages.map((m) => m.receipt) });
    }
  };
  await Promise.all(Array.from({ length: consumers }, consumer));
  return got / ((now() - started) / 1000);
}

export async function backlog({ depth, sample }) {
  const h = await startHerald();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(h.pid))), 200);
  try {
    await h.api('PUT', '/v1/queues/shallow');
    await h.api('PUT', '/v1/queues/deep');
    await fill(h, 'shallow', sample);
    const shallowRate = await drain(h, 'shallow', sample);
    const fillRate = await fill(h, 'deep', depth);
    const rssAfterFill = rssMiB(h.pid);
    const deepRate = await drain(h, 'deep', sample);
    const rssAfterDrain = rssMiB(h.pid);
    peak = Math.max(peak, rssAfterDrain);
    return { depth, sample, fillRate, shallowRate, deepRate, rssAfterFill, rssAfterDrain, peakRss: peak };
  } finally {
    clearInterval(sampler);
    await h.stop();
  }
}
