// Shared bench helpers: percentiles, a Herald child process, a free port, tables.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
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

export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}

/** A fresh Herald server as a child process on a temporary data directory. */
export async function startHerald({ env = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const port = await freePort();
  const apiKey = 'bench-key';
  const proc = spawn(
    process.execPath,
    [
      ...(process.env.HERALD_BENCH_NODE_ARGS ? process.env.HERALD_BENCH_NODE_ARGS.split(' ') : []),
      join(ROOT, 'dist/cli/main.js'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
    ],
    {
      env: { ...process.env, HERALD_API_KEY: apiKey, HERALD_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('herald did not start');
    await sleep(50);
  }
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, pipelining: 1 });
  const api = async (method, path, body) => {
    const res = await request(url + path, {
      method,
      dispatcher: agent,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 400) throw new Error(`${method} ${path} -> ${res.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    pid: proc.pid,
    api,
    async stop() {
      await agent.close();
      proc.kill('SIGTERM');
      const exited = new Promise((r) => proc.once('exit', r));
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A webhook receiver in its own process: answers 200, counts, records arrival times on request. */
export async function startReceiver() {
  const proc = spawn(process.execPath, [join(ROOT, 'bench/lib/receiver.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve) => proc.once('message', (m) => resolve(m.port)));
  const url = `http://127.0.0.1:${port}`;
  const call = (msg) =>
    new Promise((resolve) => {
      proc.once('message', resolve);
      proc.send(msg);
    });
  return {
    url,
    stats: () => call({ cmd: 'stats' }),
    reset: () => call({ cmd: 'reset' }),
    async stop() {
      proc.kill('SIGKILL');
    },
  };
}

export function table(rows) {
  const cols = Object.keys(rows[0]);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (v) => '| ' + v.map((x, i) => x.padEnd(widths[i])).join(' | ') + ' |';
  return [line(cols), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.map(line)].join('\n');
}

export const fmt = (n, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n);
