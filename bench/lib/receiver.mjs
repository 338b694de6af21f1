// A webhook receiver for the benchmarks, in its own process so it does not share an event
// loop with the load it measures. Answers 200 at once; counts requests and distinct paths,
// and (when the body starts with "t=<ms>;", raw or inside a JSON envelope) records the
// latency from that send time to arrival, on the same wall clock as the sender
// (performance.timeOrigin + performance.now()). Reports over IPC; exits with its parent.
// A wait for a count is answered by the receiver when the count is reached, not polled for:
// polling every few ms cost about 8% of a core across the two processes, CPU taken from
// the server under measurement (the raw side's rounds never polled).
import { createServer } from 'node:http';

let count = 0;
let paths = new Set();
let latencies = [];
let first = 0;
let last = 0;
/** A pending `waitFor`: the count that answers it. */
let waitTarget = 0;

const snapshot = (latenciesToo) => ({
  count,
  distinctPaths: paths.size,
  first,
  last,
  ...(latenciesToo ? { latencies } : {}),
});

function checkWait() {
  if (waitTarget > 0 && count >= waitTarget) {
    waitTarget = 0;
    process.send({ re: 'waitFor', ...snapshot(false) });
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    count++;
    if (!first) first = at;
    last = at;
    paths.add(req.url);
    if (chunks.length) {
      const head = Buffer.concat(chunks).subarray(0, 400).toString();
      const m = /^t=(\d+(?:\.\d+)?);/.exec(head) ?? /"body":"t=(\d+(?:\.\d+)?);/.exec(head);
      if (m) latencies.push(at - Number(m[1]));
    }
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    checkWait();
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (msg) => {
  if (msg.cmd === 'stats') process.send({ re: 'stats', ...snapshot(msg.latencies) });
  if (msg.cmd === 'waitFor') {
    waitTarget = msg.target;
    checkWait();
  }
  if (msg.cmd === 'cancelWait') {
    waitTarget = 0;
    process.send({ re: 'cancelWait' });
  }
  if (msg.cmd === 'reset') {
    count = 0;
    paths = new Set();
    latencies = [];
    first = last = 0;
    waitTarget = 0;
    process.send({ re: 'reset', ok: true });
  }
});
process.on('disconnect', () => process.exit(0));
