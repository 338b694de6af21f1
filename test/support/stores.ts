/**
 * Stores under test. `HERALD_TEST_STORES` (comma list, default `sqlite,postgres`) narrows
 * the contract suite; every test gets a fresh SQLite temp directory or a fresh PostgreSQL
 * schema in the `herald_test` database (created on first use). A schema is dropped only when
 * its test passed, so a failure can be inspected (pg-boss does the same).
 *
 * PostgreSQL is found at `HERALD_TEST_DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/postgres, used to create `herald_test`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

export type StoreKind = 'sqlite' | 'postgres';

export const STORES = (process.env.HERALD_TEST_STORES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is StoreKind => {
    if (s === 'sqlite' || s === 'postgres') return true;
    if (s) throw new Error(`HERALD_TEST_STORES: unknown store "${s}" (sqlite, postgres)`);
    return false;
  });

export const ADMIN_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** URL of database `name` on the test server. */
export function databaseUrl(name: string, schema?: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  if (schema) url.searchParams.set('schema', schema);
  return url.toString();
}

/** Run statements as the admin user against `database` (default: the admin URL's). */
export async function admin<T = any>(sql: string, values: unknown[] = [], database?: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database ? databaseUrl(database) : ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

let testDatabase: Promise<void> | null = null;

/** Create `herald_test` once per worker; several workers racing is fine. */
export function ensureTestDatabase(): Promise<void> {
  return (testDatabase ??= admin("SELECT 1 FROM pg_database WHERE datname = 'herald_test'").then(async (rows) => {
    if (rows.length > 0) return;
    await admin('CREATE DATABASE herald_test').catch((error: { code?: string }) => {
      if (error.code !== '42P04' && error.code !== '23505') throw error; // created by another worker
    });
  }));
}

export const randomName = (prefix: string) => `${prefix}${randomBytes(6).toString('hex')}`;

/** A fresh, empty schema's URL in `herald_test` (the store creates the schema on open). */
export async function freshPostgresUrl(prefix = 't_'): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  await ensureTestDatabase();
  const schema = randomName(prefix);
  return {
    url: databaseUrl('herald_test', schema),
    schema,
    drop: async () => void (await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, [], 'herald_test')),
  };
}

export interface TestStore {
  kind: StoreKind;
  store: Store;
  /** SQLite only: the data directory (herald.db and its WAL). */
  dataDir?: string;
  /** Close the store; remove its data when `keep` is false. */
  close(keep?: boolean): Promise<void>;
}

export async function openTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
    const store = new SqliteStore({ dataDir: dir });
    await store.open();
    return {
      kind,
      store,
      dataDir: dir,
      async close(keep = false) {
        await store.close();
        if (!keep) rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const db = await freshPostgresUrl();
  const store = new PostgresStore({ url: db.url, poolSize: 4 });
  await store.open();
  return {
    kind,
    store,
    async close(keep = false) {
      await store.close();
      if (!keep) await db.drop();
    },
  };
}
