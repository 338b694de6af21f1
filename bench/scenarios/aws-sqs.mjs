// The SQS front door next to the native API, same server, same workload: N x 256 B sent in
// batches of 10 (SendMessageBatch / POST .../messages), received 10 at a time with long
// polling and deleted as a batch (ReceiveMessage + DeleteMessageBatch / receive + ack).
// The AWS path goes through the real AWS SDK v3 client (@aws-sdk/client-sqs: JSON protocol,
// SigV4 signing on every request, MD5 checks on every answer). Rounds alternate between the
// two paths on one server; medians reported. The issue asks for the AWS path to reach at
// least half of the native throughput.
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { fork } from 'node:child_process';
import { AWS_KEY, checkDeadline, cpuSeconds, now, startHerald } from '../lib/util.mjs';

const SIZE = 256;
const BATCH = 10;
/** Concurrent senders and receivers, the same on both paths. */
export const SHAPE = { producers: 8, consumers: 8, batch: BATCH };
const ROUND_LIMIT_MS = 120_000;

const body = (seq) => {
  const head = `${seq};`;
  return head + 'x'.repeat(SIZE - head.length);
};

/**
 * Runs producers and consumers until `n` messages are sent and deleted. The time is taken
 * when the last message is deleted: consumers still in a long poll then wait out its second
 * with nothing to receive, which is not work.
 */
async function round(n, send, receiveAndDelete, { anyBody = false } = {}) {
  const deadline = now() + ROUND_LIMIT_MS;
  const seen = new Uint8Array(n);
  let sent = 0;
  let done = 0;
  let duplicates = 0;
  let finished = 0;
  const started = now();
  const produce = async () => {
    while (sent < n) {
      checkDeadline(deadline, 'send');
      const from = sent;
      const k = Math.min(BATCH, n - from);
      sent += k;
      await send(Array.from({ length: k }, (_, i) => body(from + i)));
    }
  };
  const consume = async () => {
    while (done < n) {
      checkDeadline(deadline, 'receive');
      const bodies = await receiveAndDelete();
      if (anyBody) done += bodies.length;
      else {
        for (const b of bodies) {
          const seq = Number(b.slice(0, b.indexOf(';')));
          if (seen[seq]) duplicates++;
          else {
            seen[seq] = 1;
            done++;
          }
        }
      }
      if (done >= n && !finished) finished = now();
    }
  };
  await Promise.all([
    ...Array.from({ length: SHAPE.producers }, produce),
    ...Array.from({ length: SHAPE.consumers }, consume),
  ]);
  const seconds = (finished - started) / 1000;
  return { msgsPerSec: n / seconds, duplicates };
}

function nativePath(h, queue) {
  return {
    send: (bodies) =>
      h.api('POST', `/v1/queues/${queue}/messages/batch`, { messages: bodies.map((b) => ({ body: b })) }),
    async receiveAndDelete() {
      const { messages } = await h.api('POST', `/v1/queues/${queue}/receive`, { max: BATCH, waitSeconds: 1 });
      if (messages.length > 0)
        await h.api('POST', `/v1/queues/${queue}/ack`, { receipts: messages.map((m) => m.receipt) });
      return messages.map((m) => m.body);
    },
  };
}

function awsPath(sqs, url) {
  return {
    send: (bodies) =>
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.map((b, i) => ({ Id: `m${i}`, MessageBody: b })),
        }),
      ),
    async receiveAndDelete() {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 1 }),
      );
      if (Messages.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
      return Messages.map((m) => m.Body);
    },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The AWS SDK client alone: the same rounds against a stub endpoint in another process that
 * answers at once (bench/lib/sqs-stub.mjs). On a 2-core machine this is the ceiling of any
 * server's AWS path in this bench, since the SDK's own CPU per message (several times the
 * native client's) sits on one Node thread.
 */
export async function sdkCeiling({ n, rounds }) {
  const stub = fork(new URL('../lib/sqs-stub.mjs', import.meta.url), [], { stdio: 'ignore' });
  try {
    const port = await new Promise((resolve, reject) => {
      stub.once('message', resolve);
      stub.once('error', reject);
      stub.once('exit', (code) => reject(new Error(`sqs-stub exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: url, credentials: AWS_KEY, maxAttempts: 1 });
    try {
      const list = [];
      const path = awsPath(sqs, `${url}/1/stub`);
      for (let r = 0; r <= rounds; r++) {
        const result = await round(r === 0 ? Math.min(n, 2000) : n, path.send, path.receiveAndDelete, {
          anyBody: true,
        });
        if (r > 0) list.push(result.msgsPerSec);
      }
      return { msgsPerSec: median(list), rounds: list };
    } finally {
      sqs.destroy();
    }
  } finally {
    stub.kill();
  }
}

/** `rounds` measured rounds per path after one warm-up round each, alternating. */
export async function compareSqsPaths({ n, rounds }) {
  const h = await startHerald();
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: h.awsUrl,
    credentials: AWS_KEY,
    maxAttempts: 1, // the SDK's default handler keeps connections alive
  });
  try {
    const results = { native: [], aws: [] };
    for (let r = 0; r <= rounds; r++) {
      for (const kind of ['native', 'aws']) {
        const queue = `bench-${kind}-${r}`;
        let path;
        if (kind === 'native') {
          await h.api('PUT', `/v1/queues/${queue}`, { visibilityTimeoutSeconds: 60 });
          path = nativePath(h, queue);
        } else {
          const { QueueUrl } = await sqs.send(
            new CreateQueueCommand({ QueueName: queue, Attributes: { VisibilityTimeout: '60' } }),
          );
          path = awsPath(sqs, QueueUrl);
        }
        const cpu0 = cpuSeconds(h.pid);
        const result = await round(r === 0 ? Math.min(n, 2000) : n, path.send, path.receiveAndDelete);
        result.serverCpuMicrosPerMsg = ((cpuSeconds(h.pid) - cpu0) * 1e6) / n;
        if (r > 0) results[kind].push(result); // round 0 warms both paths up
      }
    }
    const summary = (list) => ({
      msgsPerSec: median(list.map((x) => x.msgsPerSec)),
      serverCpuMicrosPerMsg: median(list.map((x) => x.serverCpuMicrosPerMsg)),
      duplicates: list.reduce((a, x) => a + x.duplicates, 0),
      rounds: list.map((x) => x.msgsPerSec),
    });
    return { native: summary(results.native), aws: summary(results.aws) };
  } finally {
    sqs.destroy();
    await h.stop();
  }
}
