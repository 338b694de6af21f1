/**
 * Several Herald nodes sharing one PostgreSQL database: two or three PostgresStore
 * instances on one schema stand for the nodes. Covers what a single-process store never
 * has to: concurrent claims, lease expiry and take-over, stale outcomes, concurrent
 * migrations, and the database going away and coming back.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import { Database } from '../../src/store/postgres/database.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { LeasedDelivery } from '../../src/store/store.js';
import type { ReceivedMessage } from '../../src/types.js';
import { waitFor } from '../support/herald.js';
import { admin, databaseUrl, ensureTestDatabase, freshPostgresUrl, randomName } from '../support/stores.js';
import { attempt, entry, HOUR, queue, send, subscription, T0, topicWithSubs } from './fixtures.js';

describe('postgres store shared by several nodes', () => {
  /** Run after each test; `failed` keeps its schema for inspection. */
  const cleanups: Array<(failed: boolean) => Promise<void>> = [];
  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === 'fail';
    for (const fn of cleanups.splice(0).reverse()) await fn(failed);
  });

  /** `n` stores on one fresh schema, opened one after the other (or all at once). */
  async function nodes(n: number, opts: { together?: boolean; url?: string } = {}): Promise<PostgresStore[]> {
    const db = opts.url ? null : await freshPostgresUrl();
    const url = opts.url ?? db!.url;
    const stores = Array.from({ length: n }, () => new PostgresStore({ url, poolSize: 4, healthCheckMs: 100 }));
    cleanups.push(async (failed) => {
      for (const s of stores) await s.close();
      if (db && !failed) await db.drop();
    });
    if (opts.together) await Promise.all(stores.map((s) => s.open()));
    else for (const s of stores) await s.open();
    return stores;
  }

  it('concurrent leases from two nodes never hand out the same delivery', async () => {
    const [a, b] = await nodes(2);
    const [sub] = await topicWithSubs(a, 't', 1);
    const entries = Array.from({ length: 300 }, () => entry('t', [sub.id]));
    for (let i = 0; i < entries.length; i += 100) await a.publish(entries.slice(i, i + 100), HOUR, T0);
    const got: LeasedDelivery[] = [];
    const worker = async (store: PostgresStore) => {
      for (;;) {
        const leased = await store.leaseDeliveries(sub.id, T0, 7, T0 + HOUR);
        if (leased.length === 0) return;
        got.push(...leased);
      }
    };
    await Promise.all([a, b, a, b, a, b].map(worker));
    const ids = got.map((d) => d.messageId);
    expect(ids.length).toBe(300);
    expect(new Set(ids).size).toBe(300);
  });

  it('a valid lease keeps a slow delivery from other nodes; once it expires another node takes it and the late outcome is ignored', async () => {
    const db = await freshPostgresUrl();
    cleanups.push(async (failed) => void (failed || (await db.drop())));
    const [a] = await nodes(1, { url: db.url });
    const [sub] = await topicWithSubs(a, 't', 1);
    const e = entry('t', [sub.id]);
    await a.publish([e], HOUR, T0);

    const [slow] = await a.leaseDeliveries(sub.id, T0, 10, T0 + 1000);
    expect(slow.messageId).toBe(e.id);
    // Node B starts now: opening recovers nothing (A is alive and holds its lease)...
    const [b] = await nodes(1, { url: db.url });
    // ...so B sees nothing due while A's lease holds, and knows when it runs out.
    expect(await b.leaseDeliveries(sub.id, T0 + 999, 10, T0 + HOUR)).toEqual([]);
    expect(await b.nextDueAt(sub.id)).toBe(T0 + 1000);

    // A is presumed dead: its lease ran out and B takes the delivery over.
    const [taken] = await b.leaseDeliveries(sub.id, T0 + 1000, 10, T0 + HOUR);
    expect(taken).toMatchObject({ messageId: e.id, attempts: 0 });
    expect(taken.deliveryId).not.toBe(slow.deliveryId);

    // A wakes up and reports, releases, retries: all ignored.
    await a.completeDeliveries(
      [{ kind: 'delivered', deliveryId: slow.deliveryId, attempt: attempt(sub.id, e.id, 1) }],
      T0,
    );
    await a.releaseDeliveries([slow.deliveryId], T0);
    await a.completeDeliveries(
      [{ kind: 'dead_letter', deliveryId: slow.deliveryId, attempt: null, queue: null, reason: 'late' }],
      T0,
    );
    const { deliveries } = await b.listDeliveries(sub.id, 'pending', 10);
    expect(deliveries.map((d) => [d.messageId, d.attempts])).toEqual([[e.id, 0]]);
    expect(await b.leaseDeliveries(sub.id, T0 + 2000, 10, T0 + HOUR)).toEqual([]);
    // A's attempt is still logged: the request did happen.
    expect((await b.listAttempts({ messageId: e.id, limit: 10 })).attempts).toHaveLength(1);

    // B's outcome is the one that counts.
    await b.completeDeliveries(
      [{ kind: 'retry', deliveryId: taken.deliveryId, dueAtMs: T0 + 5000, attempt: attempt(sub.id, e.id, 1) }],
      T0,
    );
    const [third] = await a.leaseDeliveries(sub.id, T0 + 5000, 10, T0 + HOUR);
    expect(third).toMatchObject({ messageId: e.id, attempts: 1 });
  });

  it('concurrent receives from three nodes never return a message twice within its visibility', async () => {
    const stores = await nodes(3);
    const q = (await stores[0].createQueue(queue('jobs'))).queue;
    for (let i = 0; i < 3; i++) {
      await stores[i].sendToQueue(
        'jobs',
        Array.from({ length: 100 }, () => send()),
        HOUR,
        T0,
      );
    }
    const got: ReceivedMessage[] = [];
    const worker = async (store: PostgresStore) => {
      for (;;) {
        const batch = await store.receive(q, { max: 9, visibilityMs: HOUR, nowMs: T0 });
        if (batch.length === 0) return;
        got.push(...batch);
      }
    };
    await Promise.all([...stores, ...stores].map(worker));
    expect(got.length).toBe(300);
    expect(new Set(got.map((m) => m.id)).size).toBe(300);
    // Every receipt acks exactly once, from any node.
    const acked = await stores[2].ack(
      'jobs',
      got.map((m) => m.receipt),
    );
    expect(acked).toEqual({ acked: 300, failed: [] });
  });

  it('the same idempotency key sent to three nodes at once is accepted once; all answer its id', async () => {
    const stores = await nodes(3);
    await stores[0].createQueue(queue('jobs'));
    for (let round = 0; round < 10; round++) {
      const key = `k${round}`;
      const results = (
        await Promise.all(
          stores.flatMap((s) => [s, s]).map((s) => s.sendToQueue('jobs', [send({ idempotencyKey: key })], HOUR, T0)),
        )
      ).flat() as Array<{ id: string; duplicate: boolean }>;
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
    }
    expect(await stores[1].queueStats('jobs', T0)).toMatchObject({ visible: 10 });
  });

  it('three nodes starting at once migrate the schema exactly once', async () => {
    const db = await freshPostgresUrl();
    await nodes(3, { together: true, url: db.url });
    cleanups.push(async (failed) => void (failed || (await db.drop())));
    const ledger = await admin(
      `SELECT version, name FROM ${db.schema}.herald_migrations ORDER BY version`,
      [],
      'herald_test',
    );
    expect(ledger).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
  });

  it('refuses a schema written by a newer Herald', async () => {
    const db = await freshPostgresUrl();
    cleanups.push(async (failed) => void (failed || (await db.drop())));
    const first = new PostgresStore({ url: db.url });
    await first.open();
    await first.close();
    await admin(`INSERT INTO ${db.schema}.herald_migrations VALUES (999, 'future', 0)`, [], 'herald_test');
    await expect(new PostgresStore({ url: db.url }).open()).rejects.toThrow(/newer Herald \(schema 999/);
  });

  it('reports an unreachable database as unavailable (503) and unhealthy', async () => {
    const store = new PostgresStore({ url: 'postgres://postgres:secret@127.0.0.1:1/none' });
    const error = await store.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).toMatchObject({ code: 'unavailable', status: 503 });
    expect((error as Error).message).toMatch(/postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    expect(store.healthy()).toBe(false);
  });

  it('survives terminated backends and an outage: 503s and unhealthy meanwhile, then recovers with every committed message', async () => {
    // A database of its own: terminating backends must not touch other tests.
    const name = randomName('herald_fault_');
    await admin(`CREATE DATABASE ${name}`);
    cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    const [store] = await nodes(1, { url: databaseUrl(name, 'herald') });
    await store.createQueue(queue('jobs'));
    await store.sendToQueue('jobs', [send(), send()], HOUR, T0);
    const terminate = () =>
      admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
        name,
      ]);

    // 1. Backends killed under a live pool: calls fail as unavailable or succeed, never anything else.
    await terminate();
    for (let i = 0; i < 5; i++) {
      await store.sendToQueue('jobs', [send()], HOUR, T0).catch((e: unknown) => {
        expect(e).toMatchObject({ code: 'unavailable', status: 503 });
      });
    }
    await waitFor(() => store.healthy(), 5000, 'healthy again');
    await store.sendToQueue('jobs', [send()], HOUR, T0);

    // 2. An outage: the database refuses connections for a while.
    const before = (await store.queueStats('jobs', T0)).visible;
    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    await terminate();
    await waitFor(() => !store.healthy(), 5000, 'unhealthy');
    const refused = await store.publish([entry('t', [])], HOUR, T0).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HeraldError);
    expect(refused).toMatchObject({ code: 'unavailable', status: 503 });
    await expect(store.sendToQueue('jobs', [send()], HOUR, T0)).rejects.toMatchObject({ code: 'unavailable' });
    await expect(store.leaseDeliveries('x', T0, 1, T0 + 1)).rejects.toMatchObject({ code: 'unavailable' });

    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    await waitFor(() => store.healthy(), 5000, 'healthy after the outage');
    expect((await store.queueStats('jobs', T0)).visible).toBe(before);
    await store.sendToQueue('jobs', [send()], HOUR, T0);
    expect((await store.queueStats('jobs', T0)).visible).toBe(before + 1);
  });

  it('keeps running through backends terminated under load; every failure is unavailable', async () => {
    const name = randomName('herald_fault_');
    await admin(`CREATE DATABASE ${name}`);
    cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    const [store] = await nodes(1, { url: databaseUrl(name) });
    const [sub] = await topicWithSubs(store, 't', 2);
    const q = (await store.createQueue(queue('jobs'))).queue;
    const errors: unknown[] = [];
    let acked = 0;
    let stop = false;
    const load = async (i: number) => {
      while (!stop) {
        try {
          if (i % 3 === 0) {
            const r = await store.publish([entry('t', [sub.id], { queues: ['jobs'] })], HOUR, T0);
            acked += r.length;
          } else if (i % 3 === 1) {
            const got = await store.receive(q, { max: 5, visibilityMs: 10, nowMs: Date.now() });
            await store.ack(
              'jobs',
              got.map((m) => m.receipt),
            );
          } else {
            const leased = await store.leaseDeliveries(sub.id, T0, 5, T0 + 10);
            await store.completeDeliveries(
              leased.map((d) => ({
                kind: 'delivered',
                deliveryId: d.deliveryId,
                attempt: attempt(sub.id, d.messageId, 1),
              })),
              T0,
            );
          }
        } catch (error) {
          errors.push(error);
        }
      }
    };
    const workers = Array.from({ length: 9 }, (_, i) => load(i));
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 100));
      await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    }
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(workers);
    expect(acked).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0); // the terminations did hit work in flight
    for (const e of errors) expect(e).toMatchObject({ code: 'unavailable', status: 503 });
    await waitFor(() => store.healthy(), 5000, 'healthy again');
  });

  it('fails a transaction whose connection is killed between statements as unavailable, without crashing', async () => {
    const name = randomName('herald_fault_');
    await admin(`CREATE DATABASE ${name}`);
    cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    const db = new Database({ connectionString: databaseUrl(name), schema: 'public', poolSize: 2, healthCheckMs: 100 });
    cleanups.push(() => db.close());
    db.startHealthCheck();
    const outcome = await db
      .tx(async (client) => {
        await client.query('SELECT 1');
        // The client is checked out with no query running: the FATAL arrives as an 'error' event.
        await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
        await new Promise((r) => setTimeout(r, 200));
        await client.query('SELECT 1');
      })
      .catch((e: unknown) => e);
    expect(outcome).toMatchObject({ code: 'unavailable', status: 503 });
    expect(db.healthy()).toBe(false);
    await waitFor(() => db.healthy(), 5000, 'healthy again');
    expect(await db.query('SELECT 2 AS n')).toEqual([{ n: 2 }]);
  });

  it('group-commits concurrent publishes and sends: one transaction for a burst', async () => {
    const [store] = await nodes(1);
    const [a, b] = await topicWithSubs(store, 't', 2);
    await store.createQueue(queue('jobs'));
    const before = store.commitStats();
    const calls = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? store.publish([entry('t', [a.id, b.id], { queues: ['jobs'] }), entry('t', [a.id])], HOUR, T0)
        : store.sendToQueue('jobs', [send()], HOUR, T0),
    );
    const results = await Promise.all(calls);
    expect(results.flat().every((r) => 'id' in r && !r.duplicate)).toBe(true);
    const after = store.commitStats();
    expect(after.writes - before.writes).toBe(40);
    expect(after.groups - before.groups).toBe(1);
    expect(await store.leaseDeliveries(a.id, T0, 100, T0 + HOUR)).toHaveLength(40);
    expect(await store.leaseDeliveries(b.id, T0, 100, T0 + HOUR)).toHaveLength(20);
    expect(await store.queueStats('jobs', T0)).toMatchObject({ visible: 40 });

    // A flood is cut into transactions of at most 10,000 messages (whole calls each).
    const big = () =>
      store.sendToQueue(
        'jobs',
        Array.from({ length: 6000 }, () => send()),
        HOUR,
        T0,
      );
    await Promise.all([big(), big()]);
    expect(store.commitStats().groups - after.groups).toBe(2);
    expect(await store.queueStats('jobs', T0)).toMatchObject({ visible: 12_040 });
  });

  it('refuses NUL characters per entry, without failing the rest of the group', async () => {
    const [store] = await nodes(1);
    await store.createQueue(queue('jobs'));
    const results = await store.sendToQueue('jobs', [send({ body: 'a\u0000b' }), send({ body: 'fine' })], HOUR, T0);
    expect(results[0]).toMatchObject({ error: { code: 'invalid_request' } });
    expect(results[1]).toMatchObject({ duplicate: false });
    expect(await store.queueStats('jobs', T0)).toMatchObject({ visible: 1 });
  });

  /**
   * Another session on the store's schema, to hold a row lock where a store call would be
   * mid-way: it makes a race that needs exact timing happen every time.
   */
  async function lockHolder(database: string, schema: string): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: databaseUrl(database) });
    await c.connect();
    await c.query(`SET search_path = ${schema}`);
    cleanups.push(async () => void (await c.end().catch(() => {})));
    return c;
  }

  /** Wait until a statement on `database` containing `text` waits for a lock. */
  const blockedOn = (database: string, text: string) =>
    waitFor(
      async () =>
        (
          await admin(
            `SELECT 1 FROM pg_stat_activity
             WHERE datname = $1 AND wait_event_type = 'Lock' AND position($2 in query) > 0`,
            [database, text],
          )
        ).length > 0,
      5000,
      `a statement with "${text}" waiting for a lock`,
    );

  /** Deadlocks PostgreSQL has counted in the session's database. */
  const deadlocks = async (session: pg.Client) =>
    Number(
      (await session.query('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()')).rows[0]
        .deadlocks,
    );

  /**
   * Close the store and count again: its sessions' statistics are flushed when they end (a
   * deadlock is counted by the session that found it, and retried by the store: only the
   * count shows it).
   */
  async function deadlocksOnceClosed(store: PostgresStore, session: pg.Client, database: string) {
    await store.close();
    await waitFor(
      async () => (await admin('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [database])).length <= 1,
      5000,
      "the store's sessions to end",
    );
    return deadlocks(session);
  }

  /**
   * One store on a fresh schema of `herald_test`, or with `ownDatabase` of a database of its
   * own (dropped afterwards), whose statistics no other test touches.
   */
  async function oneNode(
    opts: { ownDatabase?: boolean } = {},
  ): Promise<{ store: PostgresStore; schema: string; database: string }> {
    const schema = randomName('t_');
    let database = 'herald_test';
    if (opts.ownDatabase) {
      database = randomName('herald_t_');
      await admin(`CREATE DATABASE ${database}`);
      cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));
    } else {
      await ensureTestDatabase();
      cleanups.push(async (failed) => {
        if (!failed) await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, [], database);
      });
    }
    // After the drop above in the list: cleanups run last first, so the store closes before.
    const [store] = await nodes(1, { url: databaseUrl(database, schema) });
    return { store, schema, database };
  }

  it('deleteTopic holds its topic, then its subscriptions: what comes meanwhile waits, and nothing is left behind', async () => {
    // A database of its own: the deadlock count at the end is the database's.
    const { store, schema, database } = await oneNode({ ownDatabase: true });
    const [a] = await topicWithSubs(store, 't', 1);
    await store.createTopic('f.fifo', T0, { fifo: true, contentBasedDeduplication: false });
    const f = subscription('f.fifo');
    await store.createSubscription(f);
    const other = await lockHolder(database, schema);
    const before = await deadlocks(other);
    for (const [topic, sub, sequenced] of [
      ['t', a, false],
      ['f.fifo', f, true],
    ] as const) {
      await other.query(`INSERT INTO unsubscribed VALUES ($1, $2, '{}', $3)`, [`tok-${topic}`, topic, T0 + HOUR]);
      // Hold deleteTopic at its last step: it holds the topic and its subscriptions by now.
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM unsubscribed WHERE topic = $1 FOR UPDATE', [topic]);
      const deleting = store.deleteTopic(topic);
      await blockedOn(database, 'DELETE FROM unsubscribed');
      // A subscription being made, and a publish owing the topic's subscription, wait for it.
      const late = subscription(topic);
      const making = store.createSubscription(late).then(
        () => 'made',
        () => 'refused',
      );
      await blockedOn(database, 'INSERT INTO subscriptions');
      const publishing = store.publish([entry(topic, [sub.id], { sequenced })], HOUR, T0);
      await blockedOn(database, sequenced ? 'FROM topics WHERE name = ANY' : 'FROM subscriptions WHERE id = ANY');
      await other.query('COMMIT');
      expect(await deleting).toBe(true);
      expect(await making).toBe('refused'); // its topic is gone
      const [published] = await publishing;
      // Nothing is owed to a subscription gone; a FIFO topic gone numbers nothing.
      if (sequenced) expect(published).toMatchObject({ error: { code: 'topic_not_found' } });
      else expect(published).toMatchObject({ duplicate: false });
    }
    expect((await other.query('SELECT count(*)::int AS n FROM deliveries')).rows).toEqual([{ n: 0 }]);
    expect((await other.query('SELECT count(*)::int AS n FROM messages')).rows).toEqual([{ n: 0 }]);
    expect((await other.query('SELECT count(*)::int AS n FROM subscriptions')).rows).toEqual([{ n: 0 }]);
    expect(await deadlocksOnceClosed(store, other, database)).toBe(before);
  });

  it('a redrive to subscriptions and deleteTopic lock them in one order (no deadlock)', async () => {
    // A database of its own: the deadlock count below is the database's.
    const { store, schema, database } = await oneNode({ ownDatabase: true });
    const [a, b] = (await topicWithSubs(store, 't', 2)).sort((x, y) => (x.id < y.id ? -1 : 1));
    await store.createQueue(queue('dlq'));
    const other = await lockHolder(database, schema);
    const { qid } = (await other.query(`SELECT qid FROM queues WHERE name = 'dlq'`)).rows[0];
    // Dead letters of the later subscription first: a redrive locking them in queue order
    // would take b, then wait for a, which deleteTopic (id order) holds while it waits for b.
    for (const sub of [b, a]) {
      await other.query(
        `INSERT INTO queue_messages (qid, id, body, sent_at, visible_at, source, topic) VALUES ($1, $2, 'x', $3, $3, $4, 't')`,
        [qid, randomName('m'), T0, `subscription:${sub.id}`],
      );
    }
    const before = await deadlocks(other);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR KEY SHARE', [b.id]); // deleteTopic stops at b
    const deleting = store.deleteTopic('t');
    await blockedOn(database, 'FROM subscriptions WHERE topic');
    const redriving = store.redrive('dlq', 10, T0);
    await blockedOn(database, 'FROM subscriptions WHERE id =');
    await other.query('COMMIT');
    expect(await deleting).toBe(true);
    expect((await redriving).moved).toBe(0); // the subscriptions went first: the dead letters stay
    expect((await other.query('SELECT count(*)::int AS n FROM deliveries')).rows).toEqual([{ n: 0 }]);
    expect(await deadlocksOnceClosed(store, other, database)).toBe(before);
  });

  it('deleting a subscription while its delivery of a shared message is being finished counts the message down once', async () => {
    const { store, schema, database } = await oneNode({ ownDatabase: true });
    const [s1, s2, s3] = await topicWithSubs(store, 't', 3);
    await store.createQueue(queue('dlq'));
    const shared = entry('t', [s1.id, s2.id, s3.id]); // one message, owed three times
    const dead = entry('t', [s2.id, s3.id], { dueAtMs: T0 - 1000 }); // s3's goes to the dead-letter queue
    await store.publish([shared, dead], HOUR, T0);
    const [first] = await store.leaseDeliveries(s1.id, T0, 10, T0 + HOUR);
    const [last] = await store.leaseDeliveries(s3.id, T0, 1, T0 + HOUR); // the earlier: `dead`
    expect([first.messageId, last.messageId]).toEqual([shared.id, dead.id]);
    const other = await lockHolder(database, schema);
    const before = await deadlocks(other);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM messages WHERE id = $1 FOR UPDATE', [dead.id]);
    // One batch: s1's delivery of the shared message is finished (3 owed -> 2), then the dead
    // letter's message waits to be counted down, on the row held above.
    const completing = store.completeDeliveries(
      [
        { kind: 'delivered', deliveryId: first.deliveryId, attempt: attempt(s1.id, shared.id, 1) },
        {
          kind: 'dead_letter',
          deliveryId: last.deliveryId,
          queue: 'dlq',
          reason: 'no',
          attempt: attempt(s3.id, dead.id, 9),
        },
      ],
      T0,
    );
    await blockedOn(database, 'UPDATE messages SET pending = pending - 1');
    // Meanwhile s1 is deleted: its delivery of the shared message is being finished, not dropped.
    const deleting = store.deleteSubscription(s1.id);
    await blockedOn(database, 'subscription_id = ');
    await other.query('COMMIT');
    await completing;
    expect(await deleting).toBe(true);
    expect((await other.query('SELECT id, pending FROM messages ORDER BY id')).rows).toEqual(
      [
        { id: shared.id, pending: 2 },
        { id: dead.id, pending: 1 },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    // s2 goes too; s3 still gets the whole shared message.
    expect(await store.deleteSubscription(s2.id)).toBe(true);
    const leased = await store.leaseDeliveries(s3.id, T0, 10, T0 + HOUR);
    expect(leased.map((d) => [d.messageId, d.body])).toEqual([[shared.id, shared.body]]);
    expect(await deadlocksOnceClosed(store, other, database)).toBe(before);
  });

  it('a FIFO publish numbers only the topics it holds: one made again while it waits is not numbered', async () => {
    const { store, schema, database } = await oneNode();
    await store.createTopic('f.fifo', T0, { fifo: true, contentBasedDeduplication: false });
    const gone = subscription('f.fifo');
    await store.createSubscription(gone);
    expect(await store.deleteTopic('f.fifo')).toBe(true); // after the plan below was made
    const [held] = await topicWithSubs(store, 'other', 1);
    const other = await lockHolder(database, schema);
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE', [held.id]);
    const publishing = store.publish(
      [entry('f.fifo', [gone.id, held.id], { sequenced: true, idempotencyKey: 'k1' })],
      HOUR,
      T0,
    );
    await blockedOn(database, 'FROM subscriptions WHERE id = ANY'); // past its topic lock, which found nothing
    await store.createTopic('f.fifo', T0); // made again meanwhile (not even FIFO)
    await other.query('COMMIT');
    expect(await publishing).toEqual([
      { error: { code: 'topic_not_found', message: 'topic "f.fifo" does not exist' } },
    ]);
    expect((await other.query(`SELECT last_sequence::int AS n FROM topics WHERE name = 'f.fifo'`)).rows).toEqual([
      { n: 0 },
    ]);
    expect((await other.query('SELECT key FROM idempotency_keys')).rows).toEqual([]); // released
  });
});
