// Shared bench helpers: percentiles, a Herald child process, a receiver child process, a free
// port, /proc readings, tables. Every wait here has a deadline: a bench never hangs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Wall clock in ms with sub-ms resolution, comparable across processes on this machine. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const API_KEY = 'bench-key';
/** The access key bench servers accept on their AWS front door. */
export const AWS_KEY = { accessKeyId: 'AKIAHERALDBENCH', secretAccessKey: 'bench-secret' };

/** Exact nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** p50 / p99 / max (exact: sorts every sample). */
export function summarize(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : NaN };
}

/** Throws when `deadline` (ms, from now()) has passed: every bench loop calls it. */
export function checkDeadline(deadline, what) {
  if (now() > deadline) throw new Error(`${what}: gave up after its time limit`);
}

/** Races a promise against a time limit. */
export async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resident memory of a process, MiB (VmRSS from /proc). */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}

/** CPU seconds (user + system) in a /proc stat line: utime and stime, fields 14 and 15. */
function statCpuSeconds(stat) {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the fields after the command name
  return (Number(rest[11]) + Number(rest[12])) / 100; // USER_HZ is 100 on Linux
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU seconds per thread of a process so far, by thread id (/proc/<pid>/task/<tid>/stat); the
 * thread whose id is the pid is the main thread (in Node, the event loop).
 */
export function threadCpuSeconds(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out[tid] = statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

// Every child process this bench starts, so an aborted run still ends them.
const children = new Set();
// CPU seconds used by children that have been stopped (read just before they were stopped).
let stoppedChildrenCpu = 0;

/** CPU seconds used so far by this process, its children (live and stopped) and RabbitMQ. */
export function ownCpuSeconds(extraPids = []) {
  const self = process.cpuUsage();
  let total = (self.user + self.system) / 1e6 + stoppedChildrenCpu;
  for (const proc of children) {
    try {
      total += cpuSeconds(proc.pid);
    } catch {}
  }
  for (const pid of extraPids) {
    try {
      total += cpuSeconds(pid);
    } catch {}
  }
  return total;
}
export function killChildren() {
  for (const proc of children) {
    try {
      proc.kill('SIGKILL');
    } catch {}
  }
  children.clear();
}

// A script that dies of an uncaught error (a probe whose stdout closed, say) must not leave
// a server running to load the machine under later measurements.
process.on('exit', killChildren);

function track(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

function exited(proc) {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
async function stopProcess(proc, graceMs = 5000) {
  if (exited(proc)) return { graceful: true };
  try {
    stoppedChildrenCpu += cpuSeconds(proc.pid);
  } catch {}
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  let killed = false;
  const t = setTimeout(() => {
    killed = true;
    proc.kill('SIGKILL');
  }, graceMs);
  await withTimeout(gone, graceMs + 5000, 'child process exit');
  clearTimeout(t);
  return { graceful: !killed };
}

/**
 * The JSON of a publish batch of `count` messages with the same body, serialized once: a
 * load generator sends a fixed body (JSON.stringify of a 280 KB batch per call cost the
 * publisher, which shares the machine with the server, about 2 µs per message).
 */
export const batchBody = (count, body) =>
  Buffer.from(JSON.stringify({ messages: Array.from({ length: count }, () => ({ body })) }));

/**
 * A fresh Herald server as a child process (`herald serve`) on a temporary data directory,
 * with its own event loop; resolves once GET /healthz answers 200. `api(method, path, body)`
 * calls it with the bench key and throws on a status >= 400.
 */
export async function startHerald({ env = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const port = await freePort();
  const awsPort = await freePort();
  const proc = track(
    spawn(
      process.execPath,
      [
        ...(process.env.HERALD_BENCH_NODE_ARGS ? process.env.HERALD_BENCH_NODE_ARGS.split(' ') : []),
        // HERALD_BENCH_CLI: another build's dist/cli/main.js, to compare builds with one harness.
        process.env.HERALD_BENCH_CLI || join(ROOT, 'dist/cli/main.js'),
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--data-dir',
        dataDir,
      ],
      {
        env: {
          ...process.env,
          HERALD_API_KEY: API_KEY,
          HERALD_LOG_LEVEL: 'warn',
          HERALD_AWS_PORT: String(awsPort),
          HERALD_AWS_ACCESS_KEY_ID: AWS_KEY.accessKeyId,
          HERALD_AWS_SECRET_ACCESS_KEY: AWS_KEY.secretAccessKey,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  // Whatever the server logs (warn and above) is passed through and its tail kept for errors.
  let tail = '';
  const keep = (chunk) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = now() + 20_000;
  for (;;) {
    if (exited(proc)) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`herald serve exited during start-up (code ${proc.exitCode}): ${tail.trim().slice(-1000)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {}
    if (now() > deadline) {
      await stopProcess(proc);
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`herald serve: GET /healthz did not answer 200 within 20 s: ${tail.trim().slice(-1000)}`);
    }
    await sleep(50);
  }
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
  const api = async (method, path, body) => {
    if (exited(proc)) throw new Error(`herald serve has exited (code ${proc.exitCode}): ${tail.trim().slice(-1000)}`);
    const res = await request(url + path, {
      method,
      dispatcher: agent,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      // A Buffer is sent as it is (JSON the caller serialized once, see the webhook scenario).
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 400) throw new Error(`${method} ${path} -> ${res.statusCode} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    /** The AWS front door (SQS), signed with AWS_KEY. */
    awsUrl: `http://127.0.0.1:${awsPort}`,
    pid: proc.pid,
    api,
    agent,
    /** The last few KiB the server wrote to stdout/stderr. */
    logTail: () => tail,
    alive: () => !exited(proc),
    async stop() {
      await agent.close().catch(() => {});
      const { graceful } = await stopProcess(proc);
      rmSync(dataDir, { recursive: true, force: true });
      if (!graceful) process.stderr.write('[bench] herald serve ignored SIGTERM for 5 s; killed\n');
      return { graceful };
    },
  };
}

/**
 * A webhook receiver in its own process (bench/lib/receiver.mjs): answers 200 at once,
 * counts requests and distinct paths, records arrival minus the send time in the body.
 */
export async function startReceiver() {
  const proc = track(
    spawn(process.execPath, [join(ROOT, 'bench/lib/receiver.mjs')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const port = await withTimeout(
    new Promise((resolve) => proc.once('message', (m) => resolve(m.port))),
    10_000,
    'receiver start',
  );
  const url = `http://127.0.0.1:${port}`;
  // Each answer names the command it answers (`re`), so a stats call made while a wait is
  // pending gets its own answer.
  const call = (msg, ms = 10_000) =>
    new Promise((resolve, reject) => {
      const on = (m) => {
        if (m.re !== msg.cmd) return;
        done();
        resolve(m);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`receiver ${msg.cmd}: gave up after ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        proc.off('message', on);
      };
      proc.on('message', on);
      proc.send(msg);
    });
  return {
    url,
    pid: proc.pid,
    /** { count, distinctPaths, first, last } (+ latencies when asked with { latencies: true }). */
    stats: (opts = {}) => call({ cmd: 'stats', latencies: !!opts.latencies }),
    reset: () => call({ cmd: 'reset' }),
    /**
     * Resolves with the stats once the receiver has counted `target` requests (it says so
     * itself, see receiver.mjs); throws after `timeoutMs`.
     */
    async waitFor(target, timeoutMs, what = 'receiver') {
      try {
        return await call({ cmd: 'waitFor', target }, timeoutMs);
      } catch (error) {
        if (exited(proc)) throw error;
        await call({ cmd: 'cancelWait' });
        const s = await call({ cmd: 'stats', latencies: false });
        if (s.count >= target) return s;
        throw new Error(`${what}: ${s.count}/${target} arrived after ${timeoutMs / 1000} s`);
      }
    },
    async stop() {
      await stopProcess(proc, 1000);
    },
  };
}

export function table(rows) {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (v) => '| ' + v.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
  return [line(cols), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

export const fmt = (n, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n);

/** Machine-wide busy CPU seconds (all cores) so far, from /proc/stat. */
export function machineBusySeconds() {
  const t = cpuTimes();
  return (t.total - t.idle - t.steal) / 100;
}

/** CPU seconds (all cores) the hypervisor has given to other guests so far (steal). */
export function stealSeconds() {
  return cpuTimes().steal / 100;
}

function cpuTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] || 0); // idle + iowait
  // guest time is already counted in user; steal is time the hypervisor gave to other guests.
  return { idle, steal: v[7] || 0, total: v.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/**
 * How busy the machine is while this bench is idle (between scenarios, its children stopped):
 * percent of all cores' time used by other processes over `ms`. A high figure means the
 * numbers that follow were taken under contention.
 */
export async function hostBusyPercent(ms = 1000) {
  try {
    const a = cpuTimes();
    await sleep(ms);
    const b = cpuTimes();
    return (100 * (b.total - b.idle - (a.total - a.idle))) / Math.max(1, b.total - a.total);
  } catch {
    return NaN;
  }
}
