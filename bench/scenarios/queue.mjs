// Durable queue end to end: N x 256 B, batch send, batch receive + ack; Herald vs RabbitMQ
// (classic durable queue, persistent messages, publisher confirms, manual acks), same run.
import amqp from 'amqplib';
import { now, startHerald, summarize } from '../lib/util.mjs';

const body = (t) => {
  const head = `t=${t.toFixed(3)};`;
  return head + 'x'.repeat(256 - head.length);
};

// Same shape for both systems: one producer sending windows of `window` messages and waiting
// for each to be acknowledged (a batch answer / publisher confirms), and two consumers.
export const SHAPE = { window: 250, consumers: 2 };

export async function heraldQueue({ n, batch = SHAPE.window, producers = 1, consumers = SHAPE.consumers }) {
  const h = await startHerald();
  try {
    await h.api('PUT', '/v1/queues/bench', { visibilityTimeoutSeconds: 60 });
    const latencies = [];
    let received = 0;
    let finished = 0;
    const started = now();
    let sent = 0;
    const produce = async () => {
      while (sent < n) {
        const k = Math.min(batch, n - sent);
        sent += k;
        const t = now();
        const messages = Array.from({ length: k }, () => ({ body: body(t) }));
        await h.api('POST', '/v1/queues/bench/messages/batch', { messages });
      }
    };
    const consume = async () => {
      while (received < n) {
        const { messages } = await h.api('POST', '/v1/queues/bench/receive', { max: 1000, waitSeconds: 1 });
        if (messages.length === 0) continue;
        const at = now();
        for (const m of messages) latencies.push(at - Number(m.body.slice(2, m.body.indexOf(';'))));
        received += messages.length;
        await h.api('POST', '/v1/queues/bench/ack', { receipts: messages.map((m) => m.receipt) });
        if (received >= n && !finished) finished = now();
      }
    };
    await Promise.all([...Array.from({ length: producers }, produce), ...Array.from({ length: consumers }, consume)]);
    // Idle consumers end their last long poll after the work is done; that wait is not work.
    const seconds = (finished - started) / 1000;
    return { system: 'Herald', msgsPerSec: n / seconds, latency: summarize(latencies) };
  } finally {
    await h.stop();
  }
}

export async function rabbitQueue({ n, window = SHAPE.window, prefetch = 1000, consumers = SHAPE.consumers }) {
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    const pub = await conn.createConfirmChannel();
    const q = 'herald-bench';
    await pub.deleteQueue(q).catch(() => {});
    await pub.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    const latencies = [];
    let received = 0;
    let resolveDone;
    const done = new Promise((resolve) => (resolveDone = resolve));
    const subs = [];
    for (let c = 0; c < consumers; c++) {
      const sub = await conn.createChannel();
      await sub.prefetch(prefetch);
      let unacked = 0;
      let last = null;
      // Acknowledge in groups (multiple=true) as Herald acks a received batch at once, and
      // flush the remainder when the channel goes quiet.
      const flush = () => {
        if (last && unacked > 0) sub.ack(last, true);
        unacked = 0;
      };
      const { consumerTag } = await sub.consume(q, (msg) => {
        if (!msg) return; // consumer cancelled
        const s = msg.content.toString();
        latencies.push(now() - Number(s.slice(2, s.indexOf(';'))));
        received++;
        unacked++;
        last = msg;
        if (unacked >= 100) flush();
        else setImmediate(flush);
        if (received === n) resolveDone();
      }, { noAck: false });
      subs.push({ sub, consumerTag });
    }
    const started = now();
    for (let sent = 0; sent < n; ) {
      const k = Math.min(window, n - sent);
      const t = now();
      for (let i = 0; i < k; i++) pub.sendToQueue(q, Buffer.from(body(t)), { persistent: true });
      sent += k;
      await pub.waitForConfirms();
    }
    await done;
    const seconds = (now() - started) / 1000;
    for (const { sub, consumerTag } of subs) await sub.cancel(consumerTag);
    await pub.deleteQueue(q);
    return { system: 'RabbitMQ', msgsPerSec: n / seconds, latency: summarize(latencies) };
  } finally {
    await conn.close();
  }
}
