/**
 * Several real Herald nodes (child processes of the built CLI) sharing one fresh
 * PostgreSQL database and, optionally, the machine's Redis under a private prefix.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { freePort, spawnHerald, type HeraldChild } from './child.js';
import { tempDir } from './herald.js';
import { SHARED_REDIS_URL, uniquePrefix } from './redis.js';

const run = promisify(execFile);

export const PG_ADMIN_URL = process.env.HERALD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Run one SQL statement as the admin user; returns psql's unaligned output. */
export async function psql(sql: string, database = 'postgres'): Promise<string> {
  const admin = new URL(PG_ADMIN_URL);
  const { stdout } = await run('psql', [
    '-h',
    admin.hostname,
    '-p',
    admin.port || '5432',
    '-U',
    decodeURIComponent(admin.username || 'postgres'),
    '-d',
    database,
    '-v',
    'ON_ERROR_STOP=1',
    '-qAtc',
    sql,
  ]);
  return stdout.trim();
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Drop it (after the nodes using it are gone). */
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<TestDatabase> {
  const name = `herald_test_${randomBytes(6).toString('hex')}`;
  await psql(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Cut every connection Herald holds to `database` (as a PostgreSQL restart would). */
export async function terminateConnections(database: string): Promise<number> {
  const out = await psql(
    `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`,
  );
  return Number(out);
}

export interface ClusterNode extends HeraldChild {
  port: number;
  index: number;
}

export interface Cluster {
  db: TestDatabase;
  apiKey: string;
  redisPrefix: string | null;
  nodes: ClusterNode[];
  /** Start one more node (or restart one) on the same database. */
  start(index: number, role?: 'all' | 'api' | 'delivery'): Promise<ClusterNode>;
  close(): Promise<void>;
}

export async function startCluster(opts: {
  nodes: number;
  redis?: boolean;
  env?: Record<string, string>;
}): Promise<Cluster> {
  const db = await createDatabase();
  const apiKey = 'cluster-key';
  const redisPrefix = opts.redis === false ? null : uniquePrefix();
  const cluster: Cluster = {
    db,
    apiKey,
    redisPrefix,
    nodes: [],
    async start(index, role = 'all') {
      const port = await freePort();
      const child = await spawnHerald({
        dataDir: tempDir('herald-node-'),
        port,
        apiKey,
        env: {
          HERALD_DATABASE_URL: db.url,
          HERALD_ROLE: role,
          HERALD_POLL_INTERVAL_MS: '100',
          ...(redisPrefix ? { HERALD_REDIS_URL: SHARED_REDIS_URL, HERALD_REDIS_PREFIX: redisPrefix } : {}),
          ...opts.env,
        },
      });
      const node: ClusterNode = { ...child, port, index };
      cluster.nodes[index] = node;
      return node;
    },
    async close() {
      await Promise.all(
        cluster.nodes.map(async (n) => {
          if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
          n.proc.kill('SIGKILL');
          await n.exited;
        }),
      );
      await db.drop();
    },
  };
  // The first node migrates; the others start at once to show concurrent starts are safe.
  await Promise.all(Array.from({ length: opts.nodes }, (_, i) => cluster.start(i)));
  return cluster;
}
