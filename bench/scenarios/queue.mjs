// Durable queue end to end: N x 256 B, batch send, batch receive + ack; Herald vs RabbitMQ
// (classic durable queue, persistent messages, publisher confirms, manual acks), same run.
import amqp from 'amqplib';
import { now, startHerald, summarize } from '../lib/util.mjs';

const body = (t) => {
  const head = `t=${t.toFixed(3)};`;
  return head + 'x'.repeat(256 - head.length);
};

// Same shape for both systems: one producer sending windows of `window` messages and waiting
// for each to be acknowledged (a batch answer / publisher confirms), and two consumers that
// take up to `take` messages at a time (Herald: receive max; RabbitMQ: prefetch).
export const SHAPE = { window: 250, consumers: 2, take: 250 };

/** Unmeasured round first (same for both systems): connections, JIT and caches warm up. */
const WARMUP = 4000;

export async function heraldQueue(opts) {
  const h = await startHerald();
  try {
    await h.api('PUT', '/v1/queues/bench', { visibilityTimeoutSeconds: 60 });
    await heraldRound(h, { ...opts, n: WARMUP });
    return await heraldRound(h, opts);
  } finally {
    await h.stop();
  }
}

async function heraldRound(
  h,
  { n, batch = SHAPE.window, producers = 1, consumers = SHAPE.consumers, receiveMax = SHAPE.take },
) {
  {
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
    // Acks go out without holding up the next receive, as RabbitMQ's consumer acks
    // asynchronously; the run ends when the last ack is confirmed.
    const acks = [];
    const consume = async () => {
      while (received < n) {
        const { messages } = await h.api('POST', '/v1/queues/bench/receive', { max: receiveMax, waitSeconds: 1 });
        if (messages.length === 0) continue;
        const at = now();
        for (const m of messages) latencies.push(at - Number(m.body.slice(2, m.body.indexOf(';'))));
        received += messages.length;
        acks.push(h.api('POST', '/v1/queues/bench/ack', { receipts: messages.map((m) => m.receipt) }));
        if (received >= n && !finished) {
          await Promise.all(acks);
          finished = now();
        }
      }
    };
    await Promise.all([...Array.from({ length: producers }, produce), ...Array.from({ length: consumers }, consume)]);
    // Idle consumers end their last long poll after the work is done; that wait is not work.
    const seconds = (finished - started) / 1000;
    return { system: 'Herald', msgsPerSec: n / seconds, latency: summarize(latencies) };
  }
}

export async function rabbitQueue(opts) {
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    await rabbitRound(conn, { ...opts, n: WARMUP });
    return await rabbitRound(conn, opts);
  } finally {
    await conn.close();
  }
}

async function rabbitRound(conn, { n, window = SHAPE.window, prefetch = SHAPE.take, consumers = SHAPE.consumers }) {
  {
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
      const { consumerTag } = await sub.consume(
        q,
        (msg) => {
          if (!msg) return; // consumer cancelled
          const s = msg.content.toString();
          latencies.push(now() - Number(s.slice(2, s.indexOf(';'))));
          received++;
          unacked++;
          last = msg;
          if (unacked >= 100) flush();
          else setImmediate(flush);
          if (received === n) resolveDone();
        },
        { noAck: false },
      );
      subs.push({ sub, consumerTag });
    }
    const started = now();
    for (let sent = 0; sent < n;) {
      const k = Math.min(window, n - sent);
      const t = now();
      for (let i = 0; i < k; i++) pub.sendToQueue(q, Buffer.from(body(t)), { persistent: true });
      sent += k;
      await pub.waitForConfirms();
    }
    await done;
    const seconds = (now() - started) / 1000;
    for (const { sub, consumerTag } of subs) {
      await sub.cancel(consumerTag);
      await sub.close();
    }
    await pub.deleteQueue(q);
    await pub.close();
    return { system: 'RabbitMQ', msgsPerSec: n / seconds, latency: summarize(latencies) };
  }
}
