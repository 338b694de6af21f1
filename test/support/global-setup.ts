/**
 * Once per test run: create the `herald_test` database when PostgreSQL is in use, and at
 * the end drop the schemas this run's integration servers used (`it_<run>_*`). Another run
 * on the same server (a second checkout, a parallel CI job) keeps its schemas: dropping
 * every `it_*` would pull the tables from under its running servers. Contract-test schemas
 * (`t_*`) are dropped by their tests, and kept when a test failed, for inspection.
 */
import { randomBytes } from 'node:crypto';
import { admin, ensureTestDatabase, STORES } from './stores.js';

// Set before the workers start, so they inherit it (test/support/herald.ts names schemas with it).
process.env.HERALD_TEST_RUN ??= randomBytes(4).toString('hex');
const RUN = process.env.HERALD_TEST_RUN;

const usesPostgres = () => STORES.includes('postgres') || process.env.HERALD_TEST_STORE === 'postgres';

export async function setup(): Promise<void> {
  if (!usesPostgres()) return;
  try {
    await ensureTestDatabase();
  } catch (error) {
    throw new Error(
      `the PostgreSQL tests need a server at HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres): ${String(error)}; HERALD_TEST_STORES=sqlite runs without it`,
    );
  }
}

export async function teardown(): Promise<void> {
  if (!usesPostgres()) return;
  const rows = await admin<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
    [`it\\_${RUN}\\_%`],
    'herald_test',
  );
  for (const { nspname } of rows) await admin(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`, [], 'herald_test');
}
