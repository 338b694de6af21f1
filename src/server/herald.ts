/**
 * The composition root: builds the store, the domain services, the delivery engine and
 * the HTTP front end from a configuration, and owns their start and orderly stop.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { loadConfig, type ConfigOverrides, type HeraldConfig } from '../config.js';
import { DeliveryEngine } from '../delivery/engine.js';
import { randomToken } from '../ids.js';
import { Metrics } from '../metrics.js';
import { Queues } from '../queues/queues.js';
import { Signals } from '../signals.js';
import { createStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { Catalog } from '../topics/catalog.js';
import { Subscriptions } from '../topics/subscriptions.js';
import { Topics } from '../topics/topics.js';

export interface Herald {
  /** Base URL the API listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  apiKey: string;
  /** True when this start generated the API key (print it once). */
  apiKeyGenerated: boolean;
  config: HeraldConfig;
  store: Store;
  engine: DeliveryEngine | null;
  app: FastifyInstance;
  logger: Logger;
  close(): Promise<void>;
}

/** The API key: configured, or kept in the data directory (generated on first start). */
function resolveApiKey(config: HeraldConfig): { key: string; generated: boolean } {
  if (config.apiKey) return { key: config.apiKey, generated: false };
  const file = join(config.dataDir, 'api-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(config.dataDir, { recursive: true });
  const key = `hk_${randomToken(24)}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, generated: true };
}

export async function startHerald(overrides: ConfigOverrides & { logger?: Logger } = {}): Promise<Herald> {
  const { logger: givenLogger, ...rest } = overrides;
  const config = loadConfig(rest);
  const logger = givenLogger ?? pino({ level: config.logLevel, base: { service: 'herald' } });
  const { key, generated } = resolveApiKey(config);
  config.apiKey = key;

  const store = createStore(config);
  await store.open();
  const signals = new Signals();
  const metrics = new Metrics({ queueDepths: () => store.queueDepths(Date.now()) });
  const catalog = new Catalog(store);
  const topics = new Topics(store, catalog, signals, config, metrics);
  const subscriptions = new Subscriptions(store, catalog, signals, config);
  const queues = new Queues(store, signals, config, metrics);

  let engine: DeliveryEngine | null = null;
  if (config.role !== 'api') {
    engine = new DeliveryEngine(store, signals, config.delivery, metrics, logger.child({ part: 'delivery' }), {
      disableSubscription: (id, reason) => subscriptions.disable(id, reason),
    });
    await engine.start();
  }

  let closing = false;
  const app = buildApp(
    { config, store, topics, subscriptions, queues, metrics, ready: () => !closing && store.healthy() },
    logger,
  );
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  const sweep = setInterval(() => {
    store
      .sweep(Date.now(), {
        attemptRetentionMs: config.attemptRetentionSeconds * 1000,
        idempotencyWindowMs: config.idempotencyWindowSeconds * 1000,
      })
      .catch((error) => logger.error({ err: error }, 'housekeeping sweep failed'));
  }, config.sweepIntervalMs);
  sweep.unref();

  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      clearInterval(sweep);
      queues.close(); // answer long polls now so the server can drain
      await app.close();
      await engine?.stop();
      await store.close();
    })());

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    apiKey: key,
    apiKeyGenerated: generated,
    config,
    store,
    engine,
    app,
    logger,
    close,
  };
}
