// Durable queue end to end: N x 256 B, batch send, batch receive + ack; Herald vs RabbitMQ
// (classic durable queue, persistent messages, publisher confirms, manual acks), same run,
// same shape. Throughput counts from the first send to the last confirmed ack; latency is
// from the moment a send window is built (its timestamp is in every body) to the moment a
// consumer holds the message. Three measured rounds each, alternating between the systems;
// medians reported.
import { execSync } from 'node:child_process';
import amqp from 'amqplib';
import { checkDeadline, cpuSeconds, now, startHerald, summarize, withTimeout } from '../lib/util.mjs';

const SIZE = 256;
const body = (t, seq) => {
  const head = `t=${t.toFixed(3)};${seq};`;
  return head + 'x'.repeat(SIZE - head.length);
};
const parse = (s) => {
  const a = s.indexOf(';');
  const b = s.indexOf(';', a + 1);
  return { t: Number(s.slice(2, a)), seq: Number(s.slice(a + 1, b)) };
};

// Same shape for both systems: `producers` concurrent senders, each sending windows of
// `window` messages and waiting for each window to be acknowledged (Herald: the batch
// answer, after its commit; RabbitMQ: publisher confirms), and `consumers` consumers taking
// up to `take` messages at a time (Herald: receive max with long polling; RabbitMQ: prefetch).
export const SHAPE = { producers: 2, window: 250, consumers: 2, take: 250 };

/** Unmeasured round first (same for both systems): connections, JIT and caches warm up. */
const WARMUP = 4000;
/** A round that has not finished in this time is abandoned (an error, not a number). */
const ROUND_LIMIT_MS = 120_000;

/** Tracks which sequence numbers arrived: lost and duplicated messages are reported. */
function tracker(n) {
  const seen = new Uint8Array(n);
  let duplicates = 0;
  return {
    add(seq) {
      if (seq >= 0 && seq < n) {
        if (seen[seq]) duplicates++;
        seen[seq] = 1;
      }
    },
    result() {
      let missing = 0;
      for (let i = 0; i < n; i++) if (!seen[i]) missing++;
      return { missing, duplicates };
    },
  };
}

/** Opens a fresh Herald server with the bench queue; `round(opts)` measures one round. */
async function openHerald() {
  const h = await startHerald();
  await h.api('PUT', '/v1/queues/bench', { visibilityTimeoutSeconds: 60 });
  return {
    async round(opts) {
      const cpu0 = cpuSeconds(h.pid);
      const r = await heraldRound(h, opts);
      r.serverCpuMicrosPerMsg = ((cpuSeconds(h.pid) - cpu0) * 1e6) / opts.n;
      return r;
    },
    close: () => h.stop(),
  };
}

async function heraldRound(h, { n, shape = SHAPE }) {
  const { producers, window, consumers, take } = shape;
  const deadline = now() + ROUND_LIMIT_MS;
  const latencies = [];
  const seen = tracker(n);
  let received = 0;
  let finished = 0;
  let sent = 0;
  const started = now();
  const produce = async () => {
    while (sent < n) {
      checkDeadline(deadline, 'herald queue send');
      const k = Math.min(window, n - sent);
      const from = sent;
      sent += k;
      const t = now();
      const messages = Array.from({ length: k }, (_, i) => ({ body: body(t, from + i) }));
      const { results } = await h.api('POST', '/v1/queues/bench/messages/batch', { messages });
      const failed = results.filter((r) => !r.id);
      if (failed.length) throw new Error(`batch send: ${failed.length} of ${k} failed: ${JSON.stringify(failed[0])}`);
    }
  };
  // Acks go out without holding up the next receive, as RabbitMQ's consumer acks
  // asynchronously; the run ends when the last ack is confirmed.
  const acks = [];
  const consume = async () => {
    while (received < n) {
      checkDeadline(deadline, `herald queue receive (${received}/${n} received)`);
      const { messages } = await h.api('POST', '/v1/queues/bench/receive', { max: take, waitSeconds: 1 });
      if (messages.length === 0) continue;
      const at = now();
      for (const m of messages) {
        const { t, seq } = parse(m.body);
        latencies.push(at - t);
        seen.add(seq);
      }
      received += messages.length;
      acks.push(
        h.api('POST', '/v1/queues/bench/ack', { receipts: messages.map((m) => m.receipt) }).then((r) => {
          if (r.acked !== messages.length) throw new Error(`ack: ${JSON.stringify(r).slice(0, 300)}`);
        }),
      );
      if (received >= n && !finished) {
        await Promise.all(acks);
        finished = now();
      }
    }
  };
  await Promise.all([...Array.from({ length: producers }, produce), ...Array.from({ length: consumers }, consume)]);
  // Idle consumers end their last long poll after the work is done; that wait is not work.
  const seconds = (finished - started) / 1000;
  return { system: 'Herald', n, shape, msgsPerSec: n / seconds, latency: summarize(latencies), ...seen.result() };
}

function rabbitPid() {
  try {
    return Number(execSync('pidof beam.smp', { encoding: 'utf8', timeout: 5000 }).trim().split(' ')[0]) || null;
  } catch {
    return null;
  }
}

/** Opens a RabbitMQ connection; `round(opts)` measures one round on a fresh queue. */
async function openRabbit() {
  const conn = await withTimeout(amqp.connect('amqp://guest:guest@127.0.0.1:5672'), 10_000, 'RabbitMQ connect');
  const pid = rabbitPid();
  return {
    async round(opts) {
      const cpu0 = pid ? cpuSeconds(pid) : NaN;
      const r = await rabbitRound(conn, opts);
      r.serverCpuMicrosPerMsg = pid ? ((cpuSeconds(pid) - cpu0) * 1e6) / opts.n : NaN;
      return r;
    },
    close: () => conn.close().catch(() => {}),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians over rounds of every figure (each figure on its own), with the rounds kept. */
function summary(system, rounds) {
  return {
    system,
    n: rounds[0].n,
    shape: rounds[0].shape,
    msgsPerSec: median(rounds.map((r) => r.msgsPerSec)),
    latency: {
      p50: median(rounds.map((r) => r.latency.p50)),
      p99: median(rounds.map((r) => r.latency.p99)),
      max: Math.max(...rounds.map((r) => r.latency.max)),
    },
    serverCpuMicrosPerMsg: median(rounds.map((r) => r.serverCpuMicrosPerMsg)),
    missing: rounds.reduce((a, r) => a + r.missing, 0),
    duplicates: rounds.reduce((a, r) => a + r.duplicates, 0),
    rounds: rounds.map((r) => ({
      msgsPerSec: r.msgsPerSec,
      p50: r.latency.p50,
      p99: r.latency.p99,
      max: r.latency.max,
      serverCpuMicrosPerMsg: r.serverCpuMicrosPerMsg,
    })),
  };
}

/**
 * Herald and RabbitMQ in alternating rounds (Herald, RabbitMQ, Herald, ...) after a warm-up
 * round of each, so a drift in the machine's speed hits both; medians are reported.
 * `systems` picks one or both.
 */
export async function compareQueues({ n, rounds = 3, systems = ['herald', 'rabbit'] }) {
  const open = { herald: openHerald, rabbit: openRabbit };
  const handles = {};
  try {
    for (const sys of systems) handles[sys] = await open[sys]();
    for (const sys of systems) await handles[sys].round({ n: WARMUP });
    const results = Object.fromEntries(systems.map((sys) => [sys, []]));
    for (let r = 0; r < rounds; r++) {
      for (const sys of systems) results[sys].push(await handles[sys].round({ n }));
    }
    return {
      herald: results.herald && summary('Herald', results.herald),
      rabbit: results.rabbit && summary('RabbitMQ', results.rabbit),
      roundRatios:
        results.herald && results.rabbit
          ? results.herald.map((h, i) => h.msgsPerSec / results.rabbit[i].msgsPerSec)
          : undefined,
    };
  } finally {
    for (const hd of Object.values(handles)) await hd.close();
  }
}

async function rabbitRound(conn, { n, shape = SHAPE }) {
  const { producers, window, consumers, take } = shape;
  const deadline = now() + ROUND_LIMIT_MS;
  const q = 'herald-bench';
  const admin = await conn.createChannel();
  await admin.deleteQueue(q).catch(() => {});
  await admin.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  const latencies = [];
  const seen = tracker(n);
  let received = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const subs = [];
  for (let c = 0; c < consumers; c++) {
    const sub = await conn.createChannel();
    await sub.prefetch(take);
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
        const { t, seq } = parse(msg.content.toString());
        latencies.push(now() - t);
        seen.add(seq);
        received++;
        unacked++;
        last = msg;
        if (unacked >= 100) flush();
        else setImmediate(flush);
        if (received === n) resolveDone();
      },
      { noAck: false },
    );
    subs.push({ sub, consumerTag, flush });
  }
  const pubs = [];
  for (let p = 0; p < producers; p++) pubs.push(await conn.createConfirmChannel());
  let sent = 0;
  const started = now();
  const produce = async (pub) => {
    while (sent < n) {
      checkDeadline(deadline, 'RabbitMQ send');
      const k = Math.min(window, n - sent);
      const from = sent;
      sent += k;
      const t = now();
      for (let i = 0; i < k; i++) pub.sendToQueue(q, Buffer.from(body(t, from + i)), { persistent: true });
      await pub.waitForConfirms();
    }
  };
  await Promise.all(pubs.map(produce));
  await withTimeout(done, Math.max(1000, deadline - now()), `RabbitMQ consume (${received}/${n})`);
  // Send the outstanding acks, then a round trip on each consumer channel (a cancel is
  // synchronous in AMQP and frames on a channel are processed in order): the broker has
  // processed the last ack when it answers, as Herald's last ack answer ends its round.
  for (const { sub, consumerTag, flush } of subs) {
    flush();
    await sub.cancel(consumerTag);
  }
  const seconds = (now() - started) / 1000;
  for (const { sub } of subs) await sub.close();
  for (const pub of pubs) await pub.close();
  await admin.deleteQueue(q);
  await admin.close();
  return { system: 'RabbitMQ', n, shape, msgsPerSec: n / seconds, latency: summarize(latencies), ...seen.result() };
}
