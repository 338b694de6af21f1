// The SQLite store's own cost per delivery, no HTTP and no engine: publish 10,000 messages
// to one webhook subscription (batches of 1,000), lease them 128 at a time, and record their
// outcomes in batches (B, default 384: about 20 ms of outcomes at 20,000 deliveries/s).
// Prints CPU µs per delivery for each; 12 rounds, the first 2 not counted.
//   node bench/probes/store-ops.mjs          (the build in dist/)
//   DIST=/other/build/dist node bench/probes/store-ops.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lib/util.mjs';

const dist = process.env.DIST ?? join(ROOT, 'dist');
const BATCH = Number(process.env.B ?? 384);
const { SqliteStore } = await import(join(dist, 'store/sqlite/sqlite-store.js'));
const dir = mkdtempSync(join(tmpdir(), 'herald-store-ops-'));
const store = new SqliteStore({ dataDir: dir });
const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
try {
  await store.open();
  await store.createTopic('t', Date.now());
  const sub = {
    id: 'sub_0192f0c0-aaaa-7bbb-8ccc-0123456789ab',
    topic: 't',
    protocol: 'http',
    endpoint: 'http://127.0.0.1:9/',
    raw: true,
    deliveryPolicy: {},
    deadLetterQueue: null,
    secret: 'whsec_c2VjcmV0',
    status: 'active',
    statusReason: null,
    createdAt: new Date().toISOString(),
    filterPolicy: null,
    filterPolicyScope: 'MessageAttributes',
    style: 'herald',
    confirmationToken: null,
  };
  await store.createSubscription(sub);
  const body = 'x'.repeat(256);
  let n = 0;
  const total = { create: 0, lease: 0, complete: 0, deliveries: 0 };
  for (let round = 0; round < 12; round++) {
    const N = 10_000;
    const c0 = cpu();
    for (let i = 0; i < N; i += 1000) {
      const at = Date.now();
      const entries = Array.from({ length: 1000 }, () => ({
        id: `01930000-0000-7000-8000-${String(n++).padStart(12, '0')}`,
        topic: 't',
        body,
        attributes: {},
        createdAtMs: at,
        deliveries: [{ subscriptionId: sub.id, dueAtMs: at }],
        queueCopies: [],
      }));
      await store.publish(entries, 0, at);
    }
    const created = cpu() - c0;
    let leaseCpu = 0;
    let completeCpu = 0;
    let outcomes = [];
    const complete = async () => {
      const c = cpu();
      await store.completeDeliveries(outcomes, Date.now());
      completeCpu += cpu() - c;
      outcomes = [];
    };
    for (let guard = 0; guard < N; guard++) {
      const c = cpu();
      const leased = await store.leaseDeliveries(sub.id, Date.now(), 128, Date.now() + 60_000);
      leaseCpu += cpu() - c;
      if (leased.length === 0) break;
      for (const d of leased) {
        outcomes.push({
          kind: 'delivered',
          deliveryId: d.deliveryId,
          attempt: {
            subscriptionId: sub.id,
            messageId: d.messageId,
            attempt: 1,
            atMs: Date.now(),
            status: 200,
            latencyMs: 1.23,
            ok: true,
            errorClass: null,
            error: null,
          },
        });
      }
      if (outcomes.length >= BATCH) await complete();
    }
    if (outcomes.length) await complete();
    if (round >= 2) {
      total.create += created;
      total.lease += leaseCpu;
      total.complete += completeCpu;
      total.deliveries += N;
    }
  }
  const per = (k) => (total[k] / total.deliveries).toFixed(2);
  console.log(`CPU µs per delivery: publish ${per('create')}, lease ${per('lease')}, outcomes ${per('complete')}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
