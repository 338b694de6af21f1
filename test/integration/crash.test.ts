/**
 * Durability: publish concurrently, SIGKILL the server mid-stream, restart it on the same
 * data directory, and check that every message the server acknowledged reaches both a
 * webhook and a queue subscription (at least once).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HeraldClient } from '../../src/client/index.js';
import { freePort, spawnHerald, type HeraldChild } from '../support/child.js';
import { removeDir, tempDir, TEST_STORE, waitFor } from '../support/herald.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

describe('crash safety', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('delivers every acknowledged message after kill -9 and restart', async () => {
    const dataDir = tempDir('herald-crash-');
    const port = await freePort();
    const apiKey = 'crash-key';
    const rx: Receiver = await startReceiver();
    cleanups.push(
      () => rx.close(),
      () => removeDir(dataDir),
    );

    // On PostgreSQL leases outlive the process: what the killed server had leased is due
    // again when its leases run out (attempt timeout + margin), so keep both short.
    const env = TEST_STORE === 'postgres' ? { HERALD_LEASE_MARGIN_MS: '2000' } : undefined;
    let child: HeraldChild = await spawnHerald({ dataDir, port, apiKey, env });
    cleanups.push(() => {
      child.proc.kill('SIGKILL');
    });
    const client = new HeraldClient({ url: child.url, apiKey });
    cleanups.push(() => client.close());
    await client.createTopic('events');
    await client.createQueue('sink');
    await client.subscribe('events', { protocol: 'queue', endpoint: 'sink', raw: true });
    await client.subscribe('events', {
      protocol: 'http',
      endpoint: rx.url,
      raw: true,
      deliveryPolicy: { timeoutSeconds: 2 },
    });

    // Concurrent publishers: single messages and small batches, until the server dies.
    const acked = new Set<string>();
    let stop = false;
    let seq = 0;
    const publisher = async (w: number) => {
      while (!stop) {
        try {
          if (w % 2 === 0) {
            const body = `m-${w}-${seq++}`;
            const { id } = await client.publish('events', { body });
            acked.add(id);
          } else {
            const batch = Array.from({ length: 10 }, () => ({ body: `b-${w}-${seq++}` }));
            const { results } = await client.publishBatch('events', batch);
            for (const r of results) if ('id' in r) acked.add(r.id);
          }
        } catch {
          return; // the server is gone: anything unacknowledged may or may not exist
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => publisher(w));
    await waitFor(() => acked.size >= 2000, 20_000, '2000 acknowledged messages');
    child.proc.kill('SIGKILL');
    await child.exited;
    stop = true;
    await Promise.all(workers);
    const ackedIds = [...acked];
    expect(ackedIds.length).toBeGreaterThanOrEqual(2000);

    child = await spawnHerald({ dataDir, port, apiKey, env });

    // Every acknowledged message reaches the webhook...
    await waitFor(
      () => {
        const seen = new Set(rx.requests.map((r) => String(r.headers['webhook-id'])));
        return ackedIds.every((id) => seen.has(id));
      },
      30_000,
      'all acknowledged messages at the webhook',
    );
    // ...and the queue.
    const inQueue = new Set<string>();
    for (;;) {
      const got = await client.receive('sink', { max: 1000 });
      if (got.length === 0) break;
      for (const m of got) inQueue.add(m.id);
      await client.ack(
        'sink',
        got.map((m) => m.receipt),
      );
    }
    const missing = ackedIds.filter((id) => !inQueue.has(id));
    expect(missing).toEqual([]);

    const delivered = rx.requests.length;
    const duplicates = delivered - new Set(rx.requests.map((r) => String(r.headers['webhook-id']))).size;
    console.log(
      `crash test: ${ackedIds.length} acknowledged, ${delivered} webhook requests, ${duplicates} duplicates after restart`,
    );
  }, 90_000);

  it('re-delivers a delivery that was in flight when the server was killed', async () => {
    const dataDir = tempDir('herald-inflight-');
    // The first request hangs (the server dies during it); later ones are answered.
    const rx = await startReceiver((_r, n) => (n === 1 ? { status: 200, delayMs: 10_000 } : 200));
    cleanups.push(
      () => rx.close(),
      () => removeDir(dataDir),
    );
    // On PostgreSQL the killed server's lease must run out first: keep it short.
    const env = TEST_STORE === 'postgres' ? { HERALD_LEASE_MARGIN_MS: '1000' } : undefined;
    const port = await freePort();
    const first = await spawnHerald({ dataDir, port, apiKey: 'k', env });
    cleanups.push(() => {
      first.proc.kill('SIGKILL');
    });
    const client = new HeraldClient({ url: first.url, apiKey: 'k' });
    cleanups.push(() => client.close());
    await client.createTopic('t');
    await client.subscribe('t', { protocol: 'http', endpoint: rx.url, deliveryPolicy: { timeoutSeconds: 1 } });
    const { id } = await client.publish('t', { body: 'in flight' });
    await waitFor(() => rx.requests.length === 1, 5000, 'the first attempt');
    first.proc.kill('SIGKILL');
    await first.exited;
    const again = await spawnHerald({ dataDir, port, apiKey: 'k', env });
    cleanups.push(() => {
      again.proc.kill('SIGKILL');
    });
    await waitFor(() => rx.requests.length >= 2, 15_000, 'the delivery again after the restart');
    expect(rx.requests.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
  });

  it('refuses a second server on the same SQLite data directory', async () => {
    const dataDir = tempDir('herald-lock-');
    cleanups.push(() => removeDir(dataDir));
    const sqlite = { HERALD_DATABASE_URL: '' }; // the lock file is SQLite's; PostgreSQL nodes share by design
    const first = await spawnHerald({ dataDir, port: await freePort(), apiKey: 'k', env: sqlite });
    cleanups.push(() => {
      first.proc.kill('SIGKILL');
    });
    await expect(spawnHerald({ dataDir, port: await freePort(), apiKey: 'k', env: sqlite })).rejects.toThrow(
      /in use by another Herald process/,
    );
  });

  it('drains in-flight work and exits 0 on SIGTERM', async () => {
    const dataDir = tempDir('herald-term-');
    const rx = await startReceiver(() => ({ status: 200, delayMs: 300 }));
    cleanups.push(
      () => rx.close(),
      () => removeDir(dataDir),
    );
    const child = await spawnHerald({ dataDir, port: await freePort(), apiKey: 'k' });
    const client = new HeraldClient({ url: child.url, apiKey: 'k' });
    cleanups.push(() => client.close());
    await client.createTopic('t');
    await client.subscribe('t', { protocol: 'http', endpoint: rx.url });
    await client.publish('t', { body: 'in flight' });
    await waitFor(() => rx.requests.length === 1, 5000);
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    expect(code).toBe(0);
    // The in-flight delivery completed and was recorded: a restart does not resend it.
    const again = await spawnHerald({ dataDir, port: await freePort(), apiKey: 'k' });
    cleanups.push(() => {
      again.proc.kill('SIGKILL');
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.requests).toHaveLength(1);
  });
});
