// A webhook receiver for the benchmarks, in its own process so it does not share an event
// loop with the load it measures. Answers 200 at once; counts requests, distinct paths, and
// (when the body starts with "t=<ms>;") the latency from that send time to arrival.
import { createServer } from 'node:http';

let count = 0;
let paths = new Set();
let latencies = [];
let first = 0;
let last = 0;

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    count++;
    if (!first) first = at;
    last = at;
    paths.add(req.url);
    const body = Buffer.concat(chunks).toString();
    const m = /^t=(\d+(?:\.\d+)?);/.exec(body) ?? /"body":"t=(\d+(?:\.\d+)?);/.exec(body);
    if (m) latencies.push(at - Number(m[1]));
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (msg) => {
  if (msg.cmd === 'stats') process.send({ count, distinctPaths: paths.size, latencies, first, last });
  if (msg.cmd === 'reset') {
    count = 0;
    paths = new Set();
    latencies = [];
    first = last = 0;
    process.send({ ok: true });
  }
});
process.on('disconnect', () => process.exit(0));
