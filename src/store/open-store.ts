/**
 * Which store a Herald uses: PostgreSQL when `databaseUrl` is a `postgres://` or
 * `postgresql://` URL (several nodes may share it), otherwise the embedded SQLite store in
 * `dataDir` (one process per directory, enforced by its lock file).
 */
import type { HeraldConfig } from '../config.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function createStore(config: Pick<HeraldConfig, 'databaseUrl' | 'databasePoolSize' | 'dataDir'>): Store {
  if (config.databaseUrl) {
    if (!isPostgresUrl(config.databaseUrl)) {
      throw new Error('HERALD_DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for SQLite)');
    }
    return new PostgresStore({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  }
  return new SqliteStore({ dataDir: config.dataDir });
}
