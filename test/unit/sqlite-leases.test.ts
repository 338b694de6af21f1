import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_POLICY } from '../../src/config.js';
import { Deliveries } from '../../src/store/sqlite/deliveries.js';
import { migrate } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { AttemptRecord, DeliveryOutcome, LeasedDelivery } from '../../src/store/store.js';
import { removeDir, tempDir } from '../support/herald.js';

const SUB = 'sub-a';

describe('SQLite leases (in memory, with a cursor per subscription)', () => {
  const open: Array<{ store: SqliteStore; dir: string }> = [];
  afterEach(async () => {
    for (const { store, dir } of open.splice(0)) {
      await store.close();
      removeDir(dir);
    }
  });

  async function start() {
    const dir = tempDir('herald-leases-');
    const store = new SqliteStore({ dataDir: dir });
    await store.open();
    open.push({ store, dir });
    await store.createTopic('t', 0);
    await store.createSubscription({
      id: SUB,
      topic: 't',
      protocol: 'http',
      endpoint: 'http://127.0.0.1:9/',
      raw: true,
      deliveryPolicy: DEFAULT_DELIVERY_POLICY,
      deadLetterQueue: null,
      secret: 'whsec_c2VjcmV0',
      status: 'active',
      statusReason: null,
      createdAt: new Date(0).toISOString(),
      filterPolicy: null,
      filterPolicyScope: 'MessageAttributes',
      style: 'herald',
      confirmationToken: null,
    });
    let n = 0;
    const publish = (dueAtMs: number, count = 1) =>
      store.publish(
        Array.from({ length: count }, () => {
          const id = `m${String(++n).padStart(4, '0')}`;
          return {
            id,
            topic: 't',
            body: id,
            attributes: {},
            createdAtMs: dueAtMs,
            deliveries: [{ subscriptionId: SUB, dueAtMs }],
            queueCopies: [],
          };
        }),
        0,
        dueAtMs,
      );
    const lease = async (nowMs: number, limit: number) =>
      (await store.leaseDeliveries(SUB, nowMs, limit, nowMs + 60_000)).map((d) => d.messageId);
    return { store, publish, lease };
  }

  const attempt = (d: LeasedDelivery, ok: boolean): AttemptRecord => ({
    subscriptionId: SUB,
    messageId: d.messageId,
    attempt: 1,
    atMs: 0,
    status: ok ? 200 : 500,
    latencyMs: 1,
    ok,
    errorClass: ok ? null : 'http_5xx',
    error: ok ? null : 'endpoint answered HTTP 500',
  });
  const delivered = (d: LeasedDelivery): DeliveryOutcome => ({
    kind: 'delivered',
    deliveryId: d.deliveryId,
    attempt: attempt(d, true),
  });

  it('hands out due rows in due order, each once, while earlier leases are outstanding', async () => {
    const { publish, lease, store } = await start();
    await publish(100, 5);
    await publish(200, 3);
    expect(await lease(150, 3)).toEqual(['m0001', 'm0002', 'm0003']);
    expect(await lease(150, 10)).toEqual(['m0004', 'm0005']); // m0006.. are not due at 150
    expect(await lease(150, 10)).toEqual([]);
    expect(await store.nextDueAt(SUB)).toBe(200);
    expect(await lease(250, 2)).toEqual(['m0006', 'm0007']);
    expect(await lease(250, 2)).toEqual(['m0008']);
    expect(await store.nextDueAt(SUB)).toBeNull();
  });

  it('finds a row committed behind the cursor (due earlier than the last row leased)', async () => {
    const { publish, lease, store } = await start();
    await publish(200, 2);
    expect(await lease(300, 1)).toEqual(['m0001']);
    await publish(100); // m0003, due before the cursor's row
    expect(await store.nextDueAt(SUB)).toBe(100);
    expect(await lease(300, 10)).toEqual(['m0003', 'm0002']);
    expect(await lease(300, 10)).toEqual([]);
  });

  it('leases a released or retried row again, even when it falls due behind the cursor', async () => {
    const { publish, store } = await start();
    await publish(100, 4);
    const first = await store.leaseDeliveries(SUB, 150, 2, 0);
    const second = await store.leaseDeliveries(SUB, 150, 1, 0);
    expect(second.map((d) => d.messageId)).toEqual(['m0003']);
    await store.releaseDeliveries([first[0].deliveryId], 50); // behind the cursor (m0003)
    await store.completeDeliveries(
      [{ kind: 'retry', deliveryId: first[1].deliveryId, dueAtMs: 120, attempt: attempt(first[1], false) }],
      150,
    );
    const again = await store.leaseDeliveries(SUB, 150, 10, 0);
    expect(again.map((d) => d.messageId)).toEqual(['m0001', 'm0004', 'm0002']);
    expect(again.find((d) => d.messageId === 'm0002')?.attempts).toBe(1);
  });

  it('forgets the cursor once nothing is leased, and starts again from the first due row', async () => {
    const { publish, store, lease } = await start();
    await publish(100, 3);
    const leased = await store.leaseDeliveries(SUB, 150, 3, 0);
    await store.completeDeliveries(leased.map(delivered), 150);
    await publish(90); // earlier than every row leased before
    await publish(110);
    expect(await lease(150, 10)).toEqual(['m0004', 'm0005']);
    expect(await store.nextDueAt(SUB)).toBeNull();
  });

  it('keeps a message owed to two subscriptions until both deliveries are finished', async () => {
    const dir = tempDir('herald-leases-');
    const db = new Database(`${dir}/d.db`);
    migrate(db);
    const dl = new Deliveries(db);
    const both = [
      { subscriptionId: 'a', dueAtMs: 100 },
      { subscriptionId: 'b', dueAtMs: 100 },
    ];
    dl.create({ id: 'shared', topic: 't', body: 'hello', attributes: null, createdAtMs: 100 }, both, 100);
    dl.create({ id: 'inline', topic: 't', body: 'just a', attributes: null, createdAtMs: 100 }, [both[0]], 100);
    const messages = () => db.prepare('SELECT COUNT(*) FROM messages').pluck().get();
    const [a, aInline] = dl.lease('a', 200, 10);
    const [b] = dl.lease('b', 200, 10);
    expect([a.body, aInline.body, b.body]).toEqual(['hello', 'just a', 'hello']);
    dl.finish(a.deliveryId);
    dl.finish(aInline.deliveryId);
    expect(messages()).toBe(1);
    expect(dl.lease('a', 200, 10)).toEqual([]);
    dl.finish(b.deliveryId);
    expect(messages()).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM deliveries').pluck().get()).toBe(0);
    db.close();
    removeDir(dir);
  });
});
