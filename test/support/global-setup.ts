/**
 * Once per test run: create the `herald_test` database when PostgreSQL is in use, and at
 * the end drop the schemas this run's integration servers used (`itr_<run>_*`). Contract-test
 * schemas (`t_*`) are dropped by their tests, and kept when a test failed, for inspection.
 *
 * The run id keeps concurrent runs on one PostgreSQL server (several checkouts, CI jobs) from
 * dropping each other's schemas while their tests still use them. (`itr_`, not `it_`: runs of
 * older checkouts drop every `it_*` schema at their end.)
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { admin, ensureTestDatabase, STORES } from './stores.js';

declare module 'vitest' {
  export interface ProvidedContext {
    heraldRunId: string;
  }
}

const runId = randomBytes(3).toString('hex');

const usesPostgres = () => STORES.includes('postgres') || process.env.HERALD_TEST_STORE === 'postgres';

export async function setup(project: TestProject): Promise<void> {
  project.provide('heraldRunId', runId);
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
    [`itr\\_${runId}\\_%`],
    'herald_test',
  );
  for (const { nspname } of rows) await admin(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`, [], 'herald_test');
}
