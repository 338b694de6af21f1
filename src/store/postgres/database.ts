/**
 * The connection side of the PostgreSQL store: a `pg.Pool`, transactions, health, and the
 * translation of driver failures into `HeraldError`s. Nothing here knows Herald's tables.
 *
 * Faults. PostgreSQL can restart, fail over or terminate a backend at any time. The pool
 * reconnects by itself; what this module adds is that a client whose connection broke is
 * discarded rather than returned to the pool (`release(error)`), that an idle client dying
 * (the pool's 'error' event) never crashes the process, that every connection failure
 * reaches callers as `HeraldError('unavailable')` (503, "retry"), and that `healthy()` is
 * false while the database cannot be reached: set on the first connection failure, and
 * cleared by a successful query or by the periodic check.
 *
 * A COMMIT whose connection dies mid-flight has an unknown outcome; it is reported as
 * unavailable too, never as success, and the client's retry (with an idempotency key)
 * settles it.
 */
import pg from 'pg';
import { HeraldError } from '../../errors.js';

export type Client = pg.PoolClient;
/** A query as pg takes it; `name` makes it a prepared statement on each connection. */
export type Query = pg.QueryConfig;

export interface DatabaseOptions {
  connectionString: string;
  schema: string;
  poolSize: number;
  /** How often the health check runs while the store is open. */
  healthCheckMs: number;
}

// BIGINT columns hold epoch milliseconds and row ids, all below 2^53: read them as numbers.
// Passed per pool, so other pg users in the same process keep the default parsers.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as typeof pg.types.getTypeParser,
};

/** Transient conflicts PostgreSQL asks the client to retry (deadlock, serialization). */
const RETRYABLE = new Set(['40P01', '40001']);

/** Socket-level failures Node reports while reaching or talking to the server. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
/** pg's own messages for a connection that broke or could not be made (no code attached). */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|connection error|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed/i;

/**
 * True when the error means "the database could not be reached or the connection broke"
 * rather than "this statement is wrong": socket errors, pg's own connection errors, and
 * the SQLSTATE classes for connections (08), resources (53) and operator intervention
 * (57: shutdown, terminated backend).
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof HeraldError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || code.startsWith('53') || code.startsWith('57');
  }
  return PG_CONNECTION_MESSAGES.test(error.message);
}

const unavailable = (cause: unknown) =>
  new HeraldError('unavailable', 'the database cannot be reached right now; retry shortly', { cause });

export class Database {
  private readonly pool: pg.Pool;
  /**
   * Connections that commit without waiting for the WAL flush (synchronous_commit=off), for
   * the writes the store contract lets be lazy: leases, releases, receives, acks, outcomes.
   * Losing the last few milliseconds of them in a database crash re-delivers work, never
   * loses it; waiting for an fsync on each would put one on every lease and every ack.
   * Accepted messages and metadata always go through `pool`, whose commits are durable.
   */
  private readonly lazyPool: pg.Pool;
  private up = true;
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(private readonly options: DatabaseOptions) {
    this.pool = this.makePool(options.poolSize, 'on');
    this.lazyPool = this.makePool(Math.max(2, Math.ceil(options.poolSize / 2)), 'off');
  }

  private makePool(max: number, synchronousCommit: 'on' | 'off'): pg.Pool {
    const pool = new pg.Pool({
      connectionString: this.options.connectionString,
      max,
      types,
      // Every connection works in Herald's schema; see postgres-store.ts for how it is chosen.
      options: `-c search_path=${this.options.schema} -c synchronous_commit=${synchronousCommit}`,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      // A connection that dies silently (a partition, no RST) is noticed by TCP keep-alive
      // probes after ~10 s idle, and a query stuck on it fails after 30 s instead of never.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: 30_000,
    });
    // An idle client lost its connection (server restart, pg_terminate_backend). The pool
    // has already dropped it; without a listener the 'error' event would kill the process.
    pool.on('error', () => this.down());
    // The pool listens only while a client is idle. A client checked out (mid-transaction)
    // whose connection breaks emits 'error' too, and an unheard 'error' event throws: keep
    // a listener for the client's whole life. Its pending query fails and is handled there.
    pool.on('connect', (client) => client.on('error', () => this.down()));
    return pool;
  }

  /** A dedicated client for the caller to manage (migrations); `lazy` for one from the lazy pool. */
  async connect(lazy = false): Promise<Client> {
    try {
      return await (lazy ? this.lazyPool : this.pool).connect();
    } catch (error) {
      this.down();
      throw unavailable(error);
    }
  }

  startHealthCheck(): void {
    this.timer = setInterval(() => void this.check(), this.options.healthCheckMs);
    this.timer.unref();
  }

  healthy(): boolean {
    return this.up;
  }

  /**
   * One statement, in its own (autocommit) transaction; deadlocks are retried. `lazy`: a
   * write the store contract lets be lost in a database crash (see `lazyPool`).
   */
  async query<R extends pg.QueryResultRow = any>(
    q: Query | string,
    values?: unknown[],
    opts: { lazy?: boolean } = {},
  ): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      // Not pool.query: any failure to get a connection (refused, database not accepting
      // connections, pool timeout) must read as unavailable, whatever its SQLSTATE.
      const client = await this.connect(opts.lazy);
      let broken: Error | undefined;
      try {
        const result = await client.query<R>(q as pg.QueryConfig, values);
        this.up = true;
        return result.rows;
      } catch (error) {
        if (isConnectionError(error)) broken = error as Error;
        else if (RETRYABLE.has((error as { code?: string }).code ?? '') && attempt < 5) continue;
        throw this.translate(error);
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Run `fn` in a transaction and commit. `asyncCommit` commits without waiting for the WAL
   * flush: for bookkeeping the store contract lets be lazy (outcomes, releases), never for
   * accepted messages. Deadlocks and serialization failures are retried from the start.
   */
  async tx<T>(fn: (client: Client) => Promise<T>, opts: { asyncCommit?: boolean } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect(opts.asyncCommit);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        this.up = true;
        return result;
      } catch (error) {
        if (isConnectionError(error)) broken = error as Error;
        else {
          await client.query('ROLLBACK').catch((e: Error) => (broken = e));
          if (RETRYABLE.has((error as { code?: string }).code ?? '') && attempt < 5) continue;
        }
        throw this.translate(error);
      } finally {
        // A client whose connection failed is destroyed, not handed to the next caller.
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([this.pool.end(), this.lazyPool.end()]);
  }

  private translate(error: unknown): unknown {
    if (error instanceof HeraldError) return error;
    if (isConnectionError(error)) {
      this.down();
      return unavailable(error);
    }
    return error;
  }

  private down(): void {
    this.up = false;
  }

  /** Cheap liveness probe: a fresh connection if the pool has none left. */
  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.pool.query('SELECT 1');
      this.up = true;
    } catch {
      this.up = false;
    } finally {
      this.checking = false;
    }
  }
}

/** A named (prepared per connection) statement: parse and plan once, then bind and run. */
export function statement(name: string, text: string): (values: unknown[]) => Query {
  return (values) => ({ name, text, values });
}
