// Herald benchmarks, side by side with peers and raw limits in one run.
//   npm run bench                     every scenario, full size
//   npm run bench -- --quick          smaller counts (a smoke run, about a minute)
//   npm run bench -- --only queue,webhook
// Prints a Markdown table and writes bench/results/latest.{json,md} (a full run), or
// quick.* / partial.* for --quick and --only runs.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fmt, ROOT, table } from './lib/util.mjs';
import { backlog } from './scenarios/backlog.mjs';
import { engineOnly } from './scenarios/engine.mjs';
import { fanout } from './scenarios/fanout.mjs';
import { publishLatency } from './scenarios/latency.mjs';
import { heraldQueue, rabbitQueue } from './scenarios/queue.mjs';
import { publishThroughput, sqliteRaw } from './scenarios/raw-limits.mjs';
import { heraldWebhook, rawPost } from './scenarios/webhook.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : null;
const want = (name) => !only || only.has(name);

const rows = [];
const raw = {};
const add = (scenario, measure, herald, peer, ratio, target, pass) =>
  rows.push({
    scenario,
    measure,
    herald,
    'peer / limit': peer,
    ratio,
    target,
    met: pass === undefined ? '' : pass ? 'yes' : 'NO',
  });
const log = (s) => process.stderr.write(`[bench] ${s}\n`);

if (want('queue')) {
  const n = quick ? 5000 : 20_000;
  log(`queue: ${n} x 256 B, Herald then RabbitMQ`);
  const h = await heraldQueue({ n });
  const r = await rabbitQueue({ n });
  raw.queue = { herald: h, rabbit: r };
  const ratio = h.msgsPerSec / r.msgsPerSec;
  add(
    'queue e2e',
    'msgs/s (send+receive+ack)',
    fmt(h.msgsPerSec),
    `RabbitMQ ${fmt(r.msgsPerSec)}`,
    `${fmt(ratio, 2)}x`,
    '>= 1x (aim 2x)',
    ratio >= 1,
  );
  add(
    'queue e2e',
    'publish-to-receive p50 ms',
    fmt(h.latency.p50, 1),
    `RabbitMQ ${fmt(r.latency.p50, 1)}`,
    '',
    '',
    undefined,
  );
  add(
    'queue e2e',
    'publish-to-receive p99 ms',
    fmt(h.latency.p99, 1),
    `RabbitMQ ${fmt(r.latency.p99, 1)}`,
    `${fmt(h.latency.p99 / r.latency.p99, 2)}x`,
    'lower than RabbitMQ',
    h.latency.p99 < r.latency.p99,
  );
}

if (want('webhook')) {
  const n = quick ? 5000 : 20_000;
  const concurrency = 128;
  log(`webhook: ${n} pushes, raw undici POST then Herald`);
  const rawRate = await rawPost({ n, concurrency });
  const h = await heraldWebhook({ n, concurrency });
  raw.webhook = { raw: rawRate, herald: h };
  const ratio = h.msgsPerSec / rawRate.msgsPerSec;
  add(
    'webhook push',
    'deliveries/s (backlog)',
    fmt(h.msgsPerSec),
    `raw POST ${fmt(rawRate.msgsPerSec)}`,
    `${fmt(ratio * 100)}%`,
    '>= 70%',
    ratio >= 0.7,
  );
  const e = await engineOnly({ n: quick ? 20_000 : 100_000 });
  raw.engine = e;
  add(
    'webhook push',
    'engine alone, HTTP stubbed: deliveries/s (CPU µs each)',
    `${fmt(e.deliveriesPerSec)} (${fmt(e.cpuMicrosPerDelivery, 1)})`,
    '',
    '',
    '',
    undefined,
  );
  add(
    'webhook push',
    'publish+deliver msgs/s (end to end)',
    fmt(h.endToEndPerSec),
    `raw POST ${fmt(rawRate.msgsPerSec)}`,
    `${fmt((h.endToEndPerSec / rawRate.msgsPerSec) * 100)}%`,
    '',
    undefined,
  );
}

if (want('latency')) {
  const seconds = quick ? 3 : 10;
  log(`latency: 1,000 single publishes/s for ${seconds} s`);
  const l = await publishLatency({ rate: 1000, seconds });
  raw.latency = l;
  add(
    'publish @1k/s',
    'publish p50 / p99 / max ms',
    `${fmt(l.publish.p50, 2)} / ${fmt(l.publish.p99, 2)} / ${fmt(l.publish.max, 1)}`,
    '',
    '',
    'p99 < 10',
    l.publish.p99 < 10 && l.errors === 0,
  );
  add('publish @1k/s', 'publish-to-webhook p50 ms', fmt(l.toWebhook.p50, 2), '', '', '< 5', l.toWebhook.p50 < 5);
  add(
    'publish @1k/s',
    'publish-to-webhook p99 ms',
    fmt(l.toWebhook.p99, 2),
    `${l.delivered}/${l.total} delivered`,
    '',
    '< 25',
    l.toWebhook.p99 < 25 && l.delivered === l.total,
  );
}

if (want('fanout')) {
  const subscriptions = 1000;
  log(`fanout: 1 message to ${subscriptions} webhook subscriptions, 5 rounds`);
  const f = await fanout({ subscriptions, rounds: 5 });
  raw.fanout = f;
  const worst = Math.max(...f.map((x) => x.ms));
  add(
    'fanout x1000',
    'all delivered, ms (5 rounds)',
    f.map((x) => fmt(x.ms)).join(', '),
    '',
    '',
    '< 1000 each',
    worst < 1000 && f.every((x) => x.distinct === subscriptions),
  );
}

if (want('backlog')) {
  const depth = quick ? 100_000 : 1_000_000;
  log(`backlog: ${depth} queued messages`);
  const b = await backlog({ depth, sample: 50_000 });
  raw.backlog = b;
  add(
    'backlog',
    `server RSS, ${fmt(depth)} queued (peak) MiB`,
    `${fmt(b.rssAfterFill)} (${fmt(b.peakRss)})`,
    '',
    '',
    '< 300',
    b.peakRss < 300,
  );
  add(
    'backlog',
    'receive+ack msgs/s deep vs shallow',
    fmt(b.deepRate),
    `shallow ${fmt(b.shallowRate)}`,
    `${fmt((b.deepRate / b.shallowRate) * 100)}%`,
    '>= 80%',
    b.deepRate / b.shallowRate >= 0.8,
  );
  add('backlog', 'fill rate msgs/s (batch send)', fmt(b.fillRate), '', '', '', undefined);
}

if (want('raw')) {
  log("raw limits: fsync'd SQLite, durable single publish under concurrency");
  const s = sqliteRaw({});
  const p = await publishThroughput({ concurrency: 64, seconds: quick ? 3 : 5 });
  raw.rawLimits = { sqlite: s, publish: p };
  add(
    'durable publish',
    'single-message publishes/s, 64 clients',
    fmt(p.msgsPerSec),
    `SQLite 1-row fsync'd commits ${fmt(s.singleCommitsPerSec)}`,
    `${fmt(p.msgsPerSec / s.singleCommitsPerSec, 2)}x`,
    '',
    undefined,
  );
  add('durable publish', 'SQLite batched insert rows/s (limit)', '', fmt(s.batchedRowsPerSec), '', '', undefined);
}

const env = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  rabbitmq: (() => {
    try {
      return execSync('rabbitmqctl version 2>/dev/null', { encoding: 'utf8', timeout: 15_000 }).trim();
    } catch {
      return 'unknown';
    }
  })(),
  quick,
};
const md = `Run ${env.date} on ${env.cpus}, Node ${env.node}, RabbitMQ ${env.rabbitmq}${quick ? ' (--quick)' : ''}\n\n${table(rows)}\n`;
process.stdout.write(`\n${md}`);
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
// Only a full run replaces latest.*: the figures docs/benchmarks.md quotes.
const name = quick ? 'quick' : only ? 'partial' : 'latest';
writeFileSync(
  join(dir, `${name}.json`),
  JSON.stringify({ env, rows, raw }, (k, v) => (k === 'latencies' ? undefined : v), 2),
);
writeFileSync(join(dir, `${name}.md`), md);
