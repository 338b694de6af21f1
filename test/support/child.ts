/**
 * Run the real `herald serve` binary as a child process (for crash and shutdown tests).
 * With HERALD_TEST_STORE=postgres it gets the data directory's PostgreSQL schema too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { testDatabaseUrl } from './herald.js';

export const HERALD_BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface HeraldChild {
  proc: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnHerald(opts: {
  dataDir: string;
  port: number;
  apiKey?: string;
  env?: Record<string, string>;
}): Promise<HeraldChild> {
  const databaseUrl = await testDatabaseUrl(opts.dataDir);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    HERALD_LOG_LEVEL: 'warn',
    HERALD_AWS_PORT: '0', // a free port: children of parallel tests must not collide on 4566
    ...(databaseUrl ? { HERALD_DATABASE_URL: databaseUrl } : {}),
    ...opts.env,
  };
  if (opts.apiKey) env.HERALD_API_KEY = opts.apiKey;
  else delete env.HERALD_API_KEY;
  const proc = spawn(
    process.execPath,
    [HERALD_BIN, 'serve', '--host', '127.0.0.1', '--port', String(opts.port), '--data-dir', opts.dataDir],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`herald exited during start:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`herald did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, url, output: () => out, exited };
}
