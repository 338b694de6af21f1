/** Choosing the store from the configuration, and the PostgreSQL URL's `?schema=`. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createStore, isPostgresUrl } from '../../src/store/open-store.js';
import { parseDatabaseUrl, PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

describe('store selection', () => {
  it('reads the database URL, pool size and lease margin from the environment', () => {
    const config = loadConfig(
      {},
      {
        HERALD_DATABASE_URL: 'postgres://h@db/herald',
        HERALD_DATABASE_POOL_SIZE: '4',
        HERALD_LEASE_MARGIN_MS: '2500',
      },
    );
    expect(config).toMatchObject({ databaseUrl: 'postgres://h@db/herald', databasePoolSize: 4 });
    expect(config.delivery.leaseMarginMs).toBe(2500);
    const defaults = loadConfig({}, {});
    expect(defaults).toMatchObject({ databaseUrl: '', databasePoolSize: 10 });
    expect(defaults.delivery.leaseMarginMs).toBe(30_000);
    expect(() => loadConfig({}, { HERALD_DATABASE_POOL_SIZE: '0' })).toThrow(/HERALD_DATABASE_POOL_SIZE/);
  });

  it('uses PostgreSQL for postgres:// and postgresql:// URLs, SQLite otherwise', () => {
    expect(isPostgresUrl('postgres://h@db/x')).toBe(true);
    expect(isPostgresUrl('postgresql://h@db/x')).toBe(true);
    expect(isPostgresUrl('mysql://h@db/x')).toBe(false);
    const base = { dataDir: '/nonexistent', databasePoolSize: 3 };
    expect(createStore({ ...base, databaseUrl: '' })).toBeInstanceOf(SqliteStore);
    expect(createStore({ ...base, databaseUrl: 'postgresql://h@127.0.0.1/x' })).toBeInstanceOf(PostgresStore);
    expect(() => createStore({ ...base, databaseUrl: 'mysql://h@db/x' })).toThrow(/postgres:\/\//);
  });

  it('takes the schema from ?schema= and passes other parameters on', () => {
    expect(parseDatabaseUrl('postgres://h@db:5432/herald?schema=tenant_1&sslmode=require')).toEqual({
      connectionString: 'postgres://h@db:5432/herald?sslmode=require',
      schema: 'tenant_1',
    });
    expect(parseDatabaseUrl('postgres://h@db/herald').schema).toBe('public');
    expect(() => parseDatabaseUrl('postgres://h@db/herald?schema=Bad-Name')).toThrow(/schema "Bad-Name"/);
  });
});
