// The delivery engine's own cost per delivery, HTTP left out: the sender is replaced by an
// immediate 200, so what remains is leasing, signing, bookkeeping and commits. This is
// the part of a webhook delivery that Herald adds on top of the HTTP client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startHerald } from '../../dist/server/herald.js';
import { checkDeadline, now, sleep } from '../lib/util.mjs';

export async function engineOnly({ n }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-engine-'));
  const h = await startHerald({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    apiKey: 'k',
    logger: pino({ level: 'silent' }),
    delivery: { senderThreads: 0 }, // the stub below replaces the sender; no threads to start
  });
  try {
    // Reaches into the engine: if its internals change, this scenario reports that instead.
    if (!h.engine || !h.engine.sender || typeof h.engine.sender.send !== 'function') {
      throw new Error('engine scenario: herald.engine.sender not found (engine internals changed)');
    }
    let sent = 0;
    await h.engine.sender.destroy();
    // The WebhookSender contract (src/delivery/threaded-sender.ts): sends at once, queues nothing.
    h.engine.sender = {
      queues: false,
      cancelQueued: () => {},
      resumeLane: () => {},
      ready: async () => {},
      send: async () => {
        sent++;
        return {
          ok: true,
          status: 200,
          latencyMs: 0.1,
          errorClass: null,
          error: null,
          retryAfterMs: null,
          endpointFault: false,
        };
      },
      close: async () => {},
      destroy: async () => {},
    };
    const api = (m, p, b) =>
      fetch(h.url + p, {
        method: m,
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: b && JSON.stringify(b),
      }).then((r) => r.json());
    await api('PUT', '/v1/topics/t', {});
    const sub = await api('POST', '/v1/topics/t/subscriptions', {
      protocol: 'http',
      endpoint: 'http://127.0.0.1:9/',
      raw: true,
      deliveryPolicy: { maxConcurrency: 128 },
    });
    await api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'disabled' });
    for (let i = 0; i < n; i += 1000) {
      await api('POST', '/v1/topics/t/messages/batch', {
        messages: Array.from({ length: Math.min(1000, n - i) }, () => ({ body: 'x'.repeat(256) })),
      });
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await api('PATCH', `/v1/subscriptions/${sub.id}`, { status: 'active' });
    const deadline = now() + 120_000;
    while (sent < n) {
      checkDeadline(deadline, `engine: ${sent}/${n} sent`);
      await sleep(5);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { deliveriesPerSec: (n / ms) * 1000, cpuMicrosPerDelivery: (cpu.user + cpu.system) / n };
  } finally {
    await h.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
