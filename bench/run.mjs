// Herald benchmarks, side by side with peers and raw limits in one run.
//   npm run bench                          every scenario, full size
//   npm run bench -- --quick               smaller counts (a smoke run, about a minute)
//   npm run bench -- --only queue,webhook  a subset (names below; --list prints them)
//   node bench/run.mjs --only baselines    the peers and raw limits alone, no Herald server
// Prints a Markdown table and writes bench/results/latest.{json,md} (a full run), or
// quick.* / partial.* for --quick and --only runs. Herald scenarios need `npm run build`
// first (npm run bench does it). A scenario that fails is reported in the table and the run
// goes on; the exit code is 1 when any failed, 2 when the whole run hit its time limit.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  fmt,
  hostBusyPercent,
  killChildren,
  machineBusySeconds,
  ownCpuSeconds,
  ROOT,
  stealSeconds,
  table,
} from './lib/util.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.indexOf('--only');
if (onlyArg >= 0 && !args[onlyArg + 1]) {
  process.stderr.write('--only needs a comma-separated list of scenario names (see --list)\n');
  process.exit(64);
}

// name -> what it measures. Groups expand to several names.
const SCENARIOS = {
  queue: 'durable queue end to end, Herald vs RabbitMQ (same run, same shape)',
  webhook: 'webhook push vs raw undici POSTs to the same receiver',
  'publish-latency': 'single publishes paced at 1,000/s: publish and publish-to-webhook latency',
  fanout: 'one message to 1,000 webhook subscriptions, 5 rounds',
  backlog: '1,000,000 queued messages: RSS, deep vs near-empty receive+ack',
  'sqlite-raw': "fsync'd SQLite commits (1 row, 1,000 rows) beside Herald's durable publish rates",
  engine: 'delivery engine alone, HTTP stubbed (in-process): deliveries/s, CPU per delivery',
  cluster:
    'PostgreSQL: publish throughput on SQLite x1 / PostgreSQL x1 / x3 nodes; cross-node publish-to-webhook latency with and without Redis',
  'aws-sqs': 'SQS API through the AWS SDK v3 vs the native API, same server: batches of 10 send, receive + delete',
  rabbit: 'RabbitMQ queue alone (the peer of `queue`)',
  'raw-http': 'raw undici POSTs alone (the peer of `webhook`)',
  'sqlite-raw-only': "fsync'd SQLite commits alone, no Herald",
};
const GROUPS = {
  all: ['queue', 'webhook', 'publish-latency', 'fanout', 'backlog', 'sqlite-raw', 'engine', 'aws-sqs', 'cluster'],
  baselines: ['rabbit', 'raw-http', 'sqlite-raw-only'],
  'rabbit-baseline': ['rabbit'],
  latency: ['publish-latency'],
  raw: ['sqlite-raw'],
};
if (args.includes('--list') || args.includes('--help')) {
  for (const [k, v] of Object.entries(SCENARIOS)) process.stdout.write(`${k.padEnd(16)} ${v}\n`);
  process.stdout.write(
    `\ngroups: ${Object.entries(GROUPS)
      .map(([k, v]) => `${k} = ${v.join(',')}`)
      .join('; ')}\n`,
  );
  process.stdout.write('flags: --quick (smaller counts), --only <names>\n');
  process.exit(0);
}
const requested = onlyArg >= 0 ? args[onlyArg + 1].split(',').map((s) => s.trim()) : ['all'];
const selected = new Set();
for (const name of requested) {
  if (GROUPS[name]) GROUPS[name].forEach((n) => selected.add(n));
  else if (SCENARIOS[name]) selected.add(name);
  else {
    process.stderr.write(
      `unknown scenario "${name}"; known: ${[...Object.keys(SCENARIOS), ...Object.keys(GROUPS)].join(', ')}\n`,
    );
    process.exit(64);
  }
}
const want = (name) => selected.has(name);

const rows = [];
const raw = { errors: {}, hostBusyPercentBefore: {}, foreignCpuPercentDuring: {}, stealPercentDuring: {} };
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
/** A row with no target: a figure to read beside the others. */
const info = (scenario, measure, herald, peer = '', ratio = '') =>
  add(scenario, measure, herald, peer, ratio, '', undefined);
const log = (s) => process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${s}\n`);
const pct = (x) => `${fmt(x * 100)}%`;
const times = (x) => `${fmt(x, 2)}x`;

const env = {
  date: new Date().toISOString(),
  node: process.version,
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? '?',
  loadAvgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
  commit: (() => {
    try {
      const sha = execSync('git rev-parse --short HEAD', { cwd: ROOT, encoding: 'utf8', timeout: 5000 }).trim();
      const dirty = execSync('git status --porcelain -- src', { cwd: ROOT, encoding: 'utf8', timeout: 5000 }).trim();
      return dirty ? `${sha} (src modified)` : sha;
    } catch {
      return 'unknown';
    }
  })(),
  rabbitmq: (() => {
    try {
      return execSync('rabbitmqctl version 2>/dev/null', { encoding: 'utf8', timeout: 15_000 }).trim() || 'unknown';
    } catch {
      return 'unknown';
    }
  })(),
  quick,
  scenarios: [...selected],
};

function rabbitPid() {
  try {
    return Number(execSync('pidof beam.smp', { encoding: 'utf8', timeout: 5000 }).trim().split(' ')[0]) || null;
  } catch {
    return null;
  }
}

let failed = 0;
/** Runs one scenario; a failure becomes a row (and raw.errors) and the run goes on. */
/** Percent of the machine used by others above which a scenario waits, and counts as contended. */
const BUSY_LIMIT = 10;
const QUIET_WAIT_MS = (quick ? 10 : 90) * 1000;
const contended = [];

/** Waits (within QUIET_WAIT_MS) for 3 consecutive 1 s probes (1 with --quick) with the host under BUSY_LIMIT. */
async function waitQuiet(name) {
  const waitStarted = Date.now();
  let quiet = 0;
  let busy = NaN;
  while (quiet < (quick ? 1 : 3)) {
    busy = await hostBusyPercent(1000);
    quiet = busy > BUSY_LIMIT ? 0 : quiet + 1;
    if (busy > BUSY_LIMIT) {
      if (Date.now() - waitStarted > QUIET_WAIT_MS) {
        log(`${name}: WARNING: the host is still ${fmt(busy)}% busy with other work; starting anyway`);
        break;
      }
      log(`${name}: the host is ${fmt(busy)}% busy with other work; waiting for it to calm down`);
    }
  }
  return busy;
}

/**
 * Runs one scenario; a failure becomes a row (and raw.errors) and the run goes on. A run
 * disturbed by other work on the machine is repeated once (full runs) after waiting for quiet.
 */
async function scenario(name, fn) {
  if (!want(name)) return;
  const attempts = quick ? 1 : 2;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const firstRow = rows.length;
    // Other work on the machine skews every number: measure it and wait for quiet first.
    const busy = await waitQuiet(name);
    raw.hostBusyPercentBefore[name] = Number(busy.toFixed(1));
    const started = Date.now();
    // CPU the machine spent during the scenario on anything but this bench, its children and
    // RabbitMQ (other people's work), and CPU steal, as percents of all cores.
    const beam = rabbitPid();
    const own0 = ownCpuSeconds(beam ? [beam] : []);
    const busy0 = machineBusySeconds();
    const steal0 = stealSeconds();
    try {
      await fn();
    } catch (err) {
      failed++;
      const msg = (err?.stack ?? String(err)).split('\n').slice(0, 4).join(' | ');
      raw.errors[name] = msg;
      log(`${name}: FAILED after ${fmt((Date.now() - started) / 1000, 1)} s: ${msg}`);
      const oneLine = String(err?.message ?? err)
        .replace(/[\r\n|]+/g, ' ')
        .replace(/\s+/g, ' ');
      add(name, 'FAILED', oneLine.slice(0, 200), '', '', '', false);
      killChildren();
      return;
    }
    const secs = (Date.now() - started) / 1000;
    const foreign = machineBusySeconds() - busy0 - (ownCpuSeconds(beam ? [beam] : []) - own0);
    const foreignPct = Math.max(0, (100 * foreign) / (secs * cpus().length));
    const stealPct = (100 * (stealSeconds() - steal0)) / (secs * cpus().length);
    raw.foreignCpuPercentDuring[name] = Number(foreignPct.toFixed(1));
    raw.stealPercentDuring[name] = Number(stealPct.toFixed(1));
    log(`${name}: done in ${fmt(secs, 1)} s`);
    if (foreignPct <= BUSY_LIMIT && stealPct <= 5) return;
    const what = `${name} (others ${fmt(foreignPct)}%, steal ${fmt(stealPct, 1)}%)`;
    log(`${name}: WARNING: other processes used ${fmt(foreignPct)}% of the machine, steal ${fmt(stealPct, 1)}%`);
    if (attempt < attempts) {
      log(`${name}: repeating it once`);
      (raw.repeated ??= []).push(what);
      rows.splice(firstRow);
    } else {
      contended.push(what);
    }
  }
}

function finish(code) {
  env.loadAvgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  env.seconds = Math.round((Date.now() - Date.parse(env.date)) / 1000);
  const head =
    `Run ${env.date} on ${env.nproc} x ${env.cpu}, Node ${env.node}, RabbitMQ ${env.rabbitmq}, ` +
    `commit ${env.commit}, load average ${env.loadAvgAtStart.join(' ')} at start` +
    `${quick ? ' (--quick)' : ''}${onlyArg >= 0 ? ` (--only ${requested.join(',')})` : ''}`;
  const busy = Object.entries(raw.hostBusyPercentBefore)
    .map(([k, v]) => `${k} ${fmt(v)}%`)
    .join(', ');
  const during = Object.entries(raw.foreignCpuPercentDuring)
    .map(([k, v]) => `${k} ${fmt(v)}%`)
    .join(', ');
  raw.contended = contended;
  const warn = contended.length
    ? `\n\n**Taken under contention** (other work on the machine during these scenarios; ` +
      `their numbers are not comparable): ${contended.join(', ')}`
    : '';
  const md =
    `${head}${warn}\n\n${table(rows)}\n\n` +
    `Machine CPU used by other processes (not this bench, its children or RabbitMQ): just before each scenario ${busy}; during it ${during}. ` +
    `CPU steal (hypervisor) during each: ${Object.entries(raw.stealPercentDuring)
      .map(([k, v]) => `${k} ${fmt(v, 1)}%`)
      .join(', ')}\n`;
  process.stdout.write(`\n${md}`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  // Only a complete full run replaces latest.*: the figures docs/benchmarks.md quotes.
  const name = quick ? 'quick' : onlyArg >= 0 || code !== 0 ? 'partial' : 'latest';
  writeFileSync(
    join(dir, `${name}.json`),
    JSON.stringify({ env, rows, raw }, (k, v) => (k === 'latencies' ? undefined : v), 2) + '\n',
  );
  writeFileSync(join(dir, `${name}.md`), md);
  log(`wrote bench/results/${name}.json and ${name}.md`);
  killChildren();
  process.exit(code);
}

// The whole run stops itself: past this limit it reports what it has and exits.
const RUN_LIMIT_MS = (quick ? 6 : 40) * 60_000;
setTimeout(() => {
  log(`run limit of ${RUN_LIMIT_MS / 60_000} min reached; stopping`);
  raw.errors.run = 'run time limit reached';
  finish(2);
}, RUN_LIMIT_MS).unref();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

const QUEUE_N = quick ? 5000 : 20_000;
const QUEUE_ROUNDS = quick ? 1 : 3;
const WEBHOOK_N = quick ? 5000 : 20_000;
const WEBHOOK_ROUNDS = quick ? 1 : 3;
const CONCURRENCY = 128;

await scenario('queue', async () => {
  const { compareQueues, SHAPE } = await import('./scenarios/queue.mjs');
  log(
    `queue: ${QUEUE_N} x 256 B, Herald and RabbitMQ alternating, ${QUEUE_ROUNDS} rounds, shape ${JSON.stringify(SHAPE)}`,
  );
  const { herald: h, rabbit: r, roundRatios } = await compareQueues({ n: QUEUE_N, rounds: QUEUE_ROUNDS });
  raw.queue = { herald: h, rabbit: r, roundRatios };
  const ratio = h.msgsPerSec / r.msgsPerSec;
  add(
    'queue e2e',
    `msgs/s, ${fmt(QUEUE_N)} x 256 B (send+receive+ack), median of ${QUEUE_ROUNDS}`,
    fmt(h.msgsPerSec),
    `RabbitMQ ${fmt(r.msgsPerSec)}`,
    times(ratio),
    '>= 1x (aim 2x)',
    ratio >= 1 && h.missing === 0 && h.duplicates === 0,
  );
  info('queue e2e', 'msgs/s ratio in each round', '', '', roundRatios.map((x) => fmt(x, 2)).join(', '));
  info(
    'queue e2e',
    'publish-to-receive p50 ms (median)',
    fmt(h.latency.p50, 1),
    `RabbitMQ ${fmt(r.latency.p50, 1)}`,
    times(h.latency.p50 / r.latency.p50),
  );
  add(
    'queue e2e',
    'publish-to-receive p99 ms (median)',
    fmt(h.latency.p99, 1),
    `RabbitMQ ${fmt(r.latency.p99, 1)}`,
    times(h.latency.p99 / r.latency.p99),
    'lower than RabbitMQ',
    h.latency.p99 < r.latency.p99,
  );
  info(
    'queue e2e',
    'publish-to-receive max ms (all rounds)',
    fmt(h.latency.max, 1),
    `RabbitMQ ${fmt(r.latency.max, 1)}`,
  );
  info(
    'queue e2e',
    'server CPU µs per message (median)',
    fmt(h.serverCpuMicrosPerMsg, 1),
    `RabbitMQ ${fmt(r.serverCpuMicrosPerMsg, 1)}`,
    times(h.serverCpuMicrosPerMsg / r.serverCpuMicrosPerMsg),
  );
  if (h.missing || h.duplicates || r.missing || r.duplicates) {
    add(
      'queue e2e',
      'lost / duplicated',
      `${h.missing} / ${h.duplicates}`,
      `RabbitMQ ${r.missing} / ${r.duplicates}`,
      '',
      '0 / 0',
      false,
    );
  }
});

await scenario('rabbit', async () => {
  const { compareQueues, SHAPE } = await import('./scenarios/queue.mjs');
  log(`rabbit: ${QUEUE_N} x 256 B, RabbitMQ alone, ${QUEUE_ROUNDS} rounds, shape ${JSON.stringify(SHAPE)}`);
  const { rabbit: r } = await compareQueues({ n: QUEUE_N, rounds: QUEUE_ROUNDS, systems: ['rabbit'] });
  raw.rabbit = r;
  info(
    'RabbitMQ queue',
    `msgs/s, ${fmt(QUEUE_N)} x 256 B (send+receive+ack), median of ${QUEUE_ROUNDS}`,
    '',
    fmt(r.msgsPerSec),
  );
  info(
    'RabbitMQ queue',
    'publish-to-receive p50 / p99 (medians) / max ms',
    '',
    `${fmt(r.latency.p50, 1)} / ${fmt(r.latency.p99, 1)} / ${fmt(r.latency.max, 1)}`,
  );
});

await scenario('raw-http', async () => {
  const { rawPost } = await import('./scenarios/webhook.mjs');
  log(`raw-http: ${WEBHOOK_N} undici POSTs, ${CONCURRENCY} in flight`);
  const r = await rawPost({ n: WEBHOOK_N, concurrency: CONCURRENCY });
  raw.rawHttp = r;
  info('raw HTTP', `undici POSTs/s, 256 B, ${CONCURRENCY} in flight`, '', fmt(r.msgsPerSec));
});

await scenario('webhook', async () => {
  const { compareWebhooks } = await import('./scenarios/webhook.mjs');
  log(
    `webhook: ${WEBHOOK_N} pushes, raw undici POSTs and Herald alternating, ${WEBHOOK_ROUNDS} rounds, ${CONCURRENCY} in flight`,
  );
  const w = await compareWebhooks({ n: WEBHOOK_N, concurrency: CONCURRENCY, rounds: WEBHOOK_ROUNDS });
  raw.webhook = w;
  const ratio = w.endToEnd.msgsPerSec / w.raw.msgsPerSec;
  add(
    'webhook push',
    `deliveries/s, first publish to last arrival (${fmt(WEBHOOK_N)}), median of ${WEBHOOK_ROUNDS}`,
    fmt(w.endToEnd.msgsPerSec),
    `raw POST ${fmt(w.raw.msgsPerSec)}`,
    pct(ratio),
    '>= 70%',
    ratio >= 0.7 && w.duplicates === 0 && w.raw.errors === 0,
  );
  info('webhook push', 'end to end / raw POSTs in each round', '', '', w.roundRatios.map((x) => pct(x)).join(', '));
  info(
    'webhook push',
    'deliveries/s from a backlog (subscription enabled after publishing), median',
    fmt(w.backlog.msgsPerSec),
    `raw POST ${fmt(w.raw.msgsPerSec)}`,
    pct(w.backlog.msgsPerSec / w.raw.msgsPerSec),
  );
  info(
    'webhook push',
    'server CPU µs per delivery (end to end / backlog), median',
    `${fmt(w.endToEnd.serverCpuMicrosPerMsg, 1)} / ${fmt(w.backlog.serverCpuMicrosPerMsg, 1)}`,
    `raw POST client ${fmt(w.raw.clientCpuMicrosPerRequest, 1)}`,
  );
  if (w.duplicates) add('webhook push', 'deliveries beyond N (duplicates)', String(w.duplicates), '', '', '0', false);
});

await scenario('publish-latency', async () => {
  const { publishLatency } = await import('./scenarios/latency.mjs');
  const seconds = quick ? 3 : 10;
  log(`publish-latency: 1,000 single publishes/s for ${seconds} s`);
  const l = await publishLatency({ rate: 1000, seconds });
  raw.publishLatency = l;
  log('publish-latency: the same load on a topic without subscriptions (no delivery work)');
  const bare = await publishLatency({ rate: 1000, seconds, subscribe: false });
  raw.publishLatencyNoSubscription = bare;
  add(
    'publish @1k/s',
    `publish p50 / p99 / max ms (${fmt(l.total)} requests)`,
    `${fmt(l.publish.p50, 2)} / ${fmt(l.publish.p99, 2)} / ${fmt(l.publish.max, 1)}`,
    l.errors ? `${l.errors} errors ${JSON.stringify(l.statuses)}` : '0 errors',
    '',
    'p99 < 10',
    l.publish.p99 < 10 && l.errors === 0,
  );
  const bySecond = [...l.publishP99BySecond];
  const sortedSeconds = [...bySecond].sort((a, b) => a - b);
  info(
    'publish @1k/s',
    `publish p99 of each measured second (after ${l.warmupSeconds} s warm-up): first / median / worst ms`,
    `${fmt(bySecond[0], 1)} / ${fmt(sortedSeconds[Math.floor(sortedSeconds.length / 2)], 1)} / ${fmt(sortedSeconds[sortedSeconds.length - 1], 1)}`,
  );
  info(
    'publish @1k/s',
    "load generator's own lag behind schedule (in the latencies above): p99 / max ms, with the webhook / without",
    `${fmt(l.sendLag.p99, 2)} / ${fmt(l.sendLag.max, 1)}; ${fmt(bare.sendLag.p99, 2)} / ${fmt(bare.sendLag.max, 1)}`,
  );
  info(
    'publish @1k/s',
    'same, topic without subscriptions: publish p50 / p99 / max ms',
    `${fmt(bare.publish.p50, 2)} / ${fmt(bare.publish.p99, 2)} / ${fmt(bare.publish.max, 1)}`,
    bare.errors ? `${bare.errors} errors ${JSON.stringify(bare.statuses)}` : '0 errors',
  );
  info(
    'publish @1k/s',
    'server CPU, % of one core: with the webhook / without subscriptions',
    `${fmt(l.serverCpuPercent)}% / ${fmt(bare.serverCpuPercent)}%`,
  );
  add('publish @1k/s', 'publish-to-webhook p50 ms', fmt(l.toWebhook.p50, 2), '', '', '< 5', l.toWebhook.p50 < 5);
  add(
    'publish @1k/s',
    'publish-to-webhook p99 / max ms',
    `${fmt(l.toWebhook.p99, 2)} / ${fmt(l.toWebhook.max, 1)}`,
    `${l.delivered}/${l.total} delivered`,
    '',
    'p99 < 25',
    l.toWebhook.p99 < 25 && l.delivered === l.total,
  );
});

await scenario('fanout', async () => {
  const { fanout } = await import('./scenarios/fanout.mjs');
  const subscriptions = 1000;
  log(`fanout: 1 message to ${subscriptions} webhook subscriptions, 5 rounds`);
  const f = await fanout({ subscriptions, rounds: 5 });
  raw.fanout = f;
  const worst = Math.max(...f.rounds.map((x) => x.ms));
  add(
    'fanout x1000',
    'publish to last of 1,000 deliveries, ms: 5 rounds (max)',
    `${f.rounds.map((x) => fmt(x.ms)).join(', ')} (${fmt(worst)})`,
    `${f.rounds.map((x) => x.distinct).join('/')} distinct`,
    '',
    '< 1000 each',
    worst < 1000 && f.rounds.every((x) => x.distinct === subscriptions && x.count === subscriptions),
  );
});

await scenario('backlog', async () => {
  const { backlog } = await import('./scenarios/backlog.mjs');
  const depth = quick ? 100_000 : 1_000_000;
  const sample = quick ? 20_000 : 50_000;
  log(`backlog: ${fmt(depth)} queued messages, ${fmt(sample)} drained from deep and near-empty queues`);
  const b = await backlog({ depth, sample });
  raw.backlog = b;
  add(
    'backlog',
    `server RSS MiB: idle / ${fmt(depth)} queued (peak)`,
    `${fmt(b.rssIdle)} / ${fmt(b.rssAfterFill)} (${fmt(b.peakRss)})`,
    '',
    '',
    '< 300',
    b.peakRss < 300,
  );
  add(
    'backlog',
    `receive+ack msgs/s, median of 3 x ${fmt(sample)}, deep vs near-empty queue`,
    fmt(b.deepRate),
    `near-empty ${fmt(b.shallowRate)}`,
    pct(b.deepRate / b.shallowRate),
    '>= 80%',
    b.deepRate / b.shallowRate >= 0.8,
  );
  info('backlog', 'fill rate msgs/s (batches of 1,000, 4 senders)', fmt(b.fillRate));
});

async function sqliteRows(s) {
  info('sqlite-raw', "SQLite WAL synchronous=FULL: 1-row fsync'd commits/s", '', fmt(s.singleCommitsPerSec));
  info(
    'sqlite-raw',
    "SQLite 1-row fsync'd commit latency p50 / p99 / max ms",
    '',
    `${fmt(s.singleCommitMs.p50, 2)} / ${fmt(s.singleCommitMs.p99, 2)} / ${fmt(s.singleCommitMs.max, 1)}`,
  );
  info('sqlite-raw', 'SQLite WAL synchronous=FULL: rows/s in 1,000-row commits', '', fmt(s.batchedRowsPerSec));
}

await scenario('sqlite-raw', async () => {
  const { sqliteRaw, publishThroughput } = await import('./scenarios/raw-limits.mjs');
  log("sqlite-raw: fsync'd SQLite commits, then Herald's durable publish rates");
  const s = sqliteRaw();
  raw.sqliteRaw = { sqlite: s };
  await sqliteRows(s);
  const p = await publishThroughput({ concurrency: 64, seconds: quick ? 3 : 5, batches: quick ? 30 : 100 });
  raw.sqliteRaw.herald = p;
  add(
    'sqlite-raw',
    'Herald single-message publishes/s, 64 clients (each acked after fsync)',
    fmt(p.singlePerSec),
    `1-row commits ${fmt(s.singleCommitsPerSec)}`,
    times(p.singlePerSec / s.singleCommitsPerSec),
    '',
    p.errors === 0 ? undefined : false,
  );
  info(
    'sqlite-raw',
    'Herald batch publish msgs/s (1,000 per request, 1 client)',
    fmt(p.batchedPerSec),
    `1,000-row commits ${fmt(s.batchedRowsPerSec)}`,
    pct(p.batchedPerSec / s.batchedRowsPerSec),
  );
});

await scenario('sqlite-raw-only', async () => {
  const { sqliteRaw } = await import('./scenarios/raw-limits.mjs');
  log("sqlite-raw-only: fsync'd SQLite commits");
  const s = sqliteRaw();
  raw.sqliteRaw = { sqlite: s };
  await sqliteRows(s);
});

await scenario('aws-sqs', async () => {
  const { compareSqsPaths, sdkCeiling, SHAPE } = await import('./scenarios/aws-sqs.mjs');
  const n = quick ? 5000 : 20_000;
  const rounds = quick ? 1 : 3;
  log(
    `aws-sqs: ${n} x 256 B per round, native and AWS SDK alternating, ${rounds} rounds, shape ${JSON.stringify(SHAPE)}`,
  );
  const { native, aws } = await compareSqsPaths({ n, rounds });
  log('aws-sqs: the AWS SDK client alone, against a stub endpoint that answers at once');
  const ceiling = await sdkCeiling({ n, rounds });
  raw['aws-sqs'] = { native, aws, sdkCeiling: ceiling };
  const ratio = aws.msgsPerSec / native.msgsPerSec;
  add(
    'aws-sqs',
    `msgs/s, ${fmt(n)} x 256 B (batch 10 send, receive 10 + delete batch), median of ${rounds}`,
    fmt(aws.msgsPerSec),
    `native ${fmt(native.msgsPerSec)}`,
    times(ratio),
    '>= 0.5x native',
    ratio >= 0.5 && aws.duplicates === 0 && native.duplicates === 0,
  );
  info(
    'aws-sqs',
    'the AWS SDK client alone, same loop against a stub that answers at once: msgs/s (median)',
    fmt(aws.msgsPerSec),
    `SDK ceiling ${fmt(ceiling.msgsPerSec)}`,
    `${fmt((100 * aws.msgsPerSec) / ceiling.msgsPerSec)}%`,
  );
  info(
    'aws-sqs',
    'server CPU µs per message (median)',
    fmt(aws.serverCpuMicrosPerMsg, 1),
    `native ${fmt(native.serverCpuMicrosPerMsg, 1)}`,
    times(aws.serverCpuMicrosPerMsg / native.serverCpuMicrosPerMsg),
  );
});

await scenario('engine', async () => {
  const { engineOnly } = await import('./scenarios/engine.mjs');
  const n = quick ? 20_000 : 100_000;
  log(`engine: ${fmt(n)} deliveries, HTTP stubbed, in-process`);
  const e = await engineOnly({ n });
  raw.engine = e;
  info(
    'engine alone',
    `deliveries/s, HTTP stubbed (${fmt(n)} backlog) (CPU µs each)`,
    `${fmt(e.deliveriesPerSec)} (${fmt(e.cpuMicrosPerDelivery, 1)})`,
  );
});

await scenario('cluster', async () => {
  const { clusterThroughput, crossNodeLatency } = await import('./scenarios/cluster.mjs');
  const seconds = quick ? 3 : 8;
  log(`cluster: 64 clients publishing for ${seconds} s on SQLite x1, PostgreSQL x1, PostgreSQL x3`);
  const t = await clusterThroughput({ seconds });
  raw.cluster = { throughput: t };
  const base = t['sqlite x1'];
  const pg1 = t['postgres x1'];
  for (const [name, r] of Object.entries(t)) {
    add(
      'cluster',
      `${name}: durable publishes/s (queue copy + webhook each); webhook deliveries/s`,
      `${fmt(r.publishedPerSec)}; ${fmt(r.deliveredPerSec)}`,
      r.errors ? `${r.errors} errors` : `${r.published} published, ${r.delivered} delivered`,
      name === 'sqlite x1' ? '' : times(r.publishedPerSec / (name === 'postgres x3' ? pg1 : base).publishedPerSec),
      '',
      r.delivered >= r.published && r.errors === 0 ? undefined : false,
    );
  }
  log('cluster: publish-to-webhook across nodes (api node -> delivery node), 200/s, with and without Redis');
  const withRedis = await crossNodeLatency({ redis: true, seconds: quick ? 3 : 5 });
  const withoutRedis = await crossNodeLatency({ redis: false, seconds: quick ? 3 : 5 });
  raw.cluster.latency = { withRedis, withoutRedis };
  for (const [name, l] of [
    ['with Redis', withRedis],
    ['without Redis', withoutRedis],
  ]) {
    info(
      'cluster',
      `cross-node publish-to-webhook p50 / p99 ms, ${name}`,
      `${fmt(l.toWebhook.p50, 2)} / ${fmt(l.toWebhook.p99, 2)}`,
      `publish p99 ${fmt(l.publish.p99, 2)} ms`,
    );
  }
});

finish(failed ? 1 : 0);
