/**
 * The composition root: builds the store, the domain services, the delivery engine and
 * the HTTP front end from a configuration, and owns their start and orderly stop.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import { buildApp } from '../api/app.js';
import { resolveAwsCredentials } from '../api/aws/credentials.js';
import { buildAwsApp } from '../api/aws/server.js';
import { SnsMessages } from '../aws/sns-messages.js';
import { signingIdentitySource } from '../aws/sns-signing-source.js';
import { confirmationSender, unsubscribeConfirmationSender } from '../delivery/sns-confirmation.js';
import { RedisBus } from '../cluster/redis-bus.js';
import { SharedTokenBucket } from '../cluster/shared-rate-limit.js';
import { loadConfig, type ConfigOverrides, type HeraldConfig } from '../config.js';
import { DeliveryEngine } from '../delivery/engine.js';
import { randomToken } from '../ids.js';
import { Metrics } from '../metrics.js';
import { MoveTasks } from '../queues/move-tasks.js';
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
  /** The cluster bus, when several nodes share the store and Redis is configured. */
  bus: RedisBus | null;
  /** This process's id among the nodes of a cluster. */
  nodeId: string;
  app: FastifyInstance;
  /** The AWS front door (SQS, SNS), when enabled. */
  aws: {
    url: string;
    app: FastifyInstance;
    /** One configured (or the generated) access key. */
    accessKeyId: string;
    secretAccessKey: string;
    /** True when this start generated the keys (print them once). */
    generated: boolean;
  } | null;
  logger: Logger;
  close(): Promise<void>;
}

/** The API key: configured, or kept in the data directory (generated on first start). */
function resolveApiKey(config: HeraldConfig): { key: string; generated: boolean } {
  if (config.apiKey) return { key: config.apiKey, generated: false };
  if (config.databaseUrl) {
    // A key generated per node would differ between the nodes behind one load balancer.
    throw new Error('set HERALD_API_KEY: nodes sharing a PostgreSQL database must share one API key');
  }
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
  // Other nodes may share a database store: caches expire, sleeps are bounded, and a
  // Redis bus (when configured) carries signals between the nodes.
  const shared = Boolean(config.databaseUrl);
  const nodeId = `${hostname()}-${process.pid}-${randomToken(4)}`;
  const signals = new Signals();
  let bus: RedisBus | null = null;
  if (shared && config.redisUrl) {
    bus = new RedisBus(signals, {
      url: config.redisUrl,
      prefix: config.redisPrefix,
      nodeId,
      delivery: config.role !== 'api',
      logger: logger.child({ part: 'cluster' }),
    });
    await bus.start();
  }
  const busUp = () => bus?.healthy() ?? false;
  const metrics = new Metrics({
    queueDepths: () => store.queueDepths(Date.now()),
    clusterBusUp: bus ? busUp : undefined,
    commitStats: () => store.commitStats(),
  });
  const catalog = new Catalog(store, signals, { ttlMs: shared ? (bus ? 5_000 : 1_000) : Infinity });
  const topics = new Topics(store, catalog, signals, config, metrics);
  const subscriptions = new Subscriptions(store, signals, config, logger.child({ part: 'subscriptions' }));
  // SNS-style subscriptions: framed and signed as SNS does, with links to the AWS front door.
  const identity = signingIdentitySource(config, store);
  let awsUrl = '';
  const sns = new SnsMessages({
    names: { region: config.aws.region, accountId: config.aws.accountId },
    publicUrl: () => config.aws.publicUrl.replace(/\/+$/, '') || awsUrl,
    identity,
  });
  topics.sns = sns;
  // Confirmations link to the front door, so SNS-style subscriptions need it (or a public URL).
  if ((config.aws.port !== null && config.role !== 'delivery') || config.aws.publicUrl) {
    subscriptions.sendConfirmation = confirmationSender(store, sns);
    subscriptions.sendUnsubscribeConfirmation = unsubscribeConfirmationSender(store, sns);
  }
  const queues = new Queues(store, signals, config, metrics, {
    // Alone: every send is signalled in-process. Shared: a lost bus message costs at most
    // this long; without a live bus, this is how sends on other nodes are noticed.
    recheckMs: shared ? () => (busUp() ? 5_000 : config.delivery.pollIntervalMs) : undefined,
  });

  let engine: DeliveryEngine | null = null;
  /** The delivery engine (once made), the cluster bus and the store, in that order. */
  const closeParts = async () => {
    await engine?.stop();
    await bus?.stop();
    await store.close();
  };
  if (config.role !== 'api') {
    engine = new DeliveryEngine(
      store,
      signals,
      config.delivery,
      metrics,
      logger.child({ part: 'delivery' }),
      { disableSubscription: (id, reason) => subscriptions.disable(id, reason) },
      {
        shared,
        sns: { messages: sns, topic: (name) => catalog.topic(name).then((entry) => entry?.topic ?? null) },
        rateGate: bus
          ? (id, rate, wake) =>
              new SharedTokenBucket(
                { redis: bus.client, prefix: config.redisPrefix, healthy: busUp, nodes: () => bus.nodes() },
                id,
                rate,
                wake,
                Date.now(),
              )
          : undefined,
      },
    );
    try {
      await engine.start();
    } catch (error) {
      await closeParts();
      throw error;
    }
  }

  let closing = false;
  const ctx = { config, store, topics, subscriptions, queues, metrics, ready: () => !closing && store.healthy() };
  const app = buildApp(ctx, logger);
  const moveTasks = new MoveTasks(store, queues, (error, task) =>
    logger.error({ err: error, task: task.handle }, 'message move task failed'),
  );
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await closeParts();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  let aws: Herald['aws'] = null;
  // Keys generated per node would differ between the nodes behind one load balancer.
  const awsKeysMissing = shared && Object.keys(config.aws.credentials).length === 0;
  if (config.aws.port !== null && config.role !== 'delivery' && awsKeysMissing) {
    logger.warn(
      'AWS API not started: nodes sharing a PostgreSQL database need the same keys; set HERALD_AWS_ACCESS_KEY_ID and HERALD_AWS_SECRET_ACCESS_KEY (or HERALD_AWS_CREDENTIALS)',
    );
  } else if (config.aws.port !== null && config.role !== 'delivery') {
    const { credentials, generated } = resolveAwsCredentials(config);
    const awsApp = buildAwsApp(
      { ...ctx, aws: config.aws, moveTasks, sns, snsSigningIdentity: identity },
      credentials,
      logger.child({ part: 'aws' }),
    );
    const awsHost = config.aws.host || config.host;
    try {
      await awsApp.listen({ host: awsHost, port: config.aws.port });
    } catch (error) {
      await app.close();
      await closeParts();
      throw new Error(
        `cannot listen for the AWS front door on ${awsHost}:${config.aws.port} (HERALD_AWS_PORT; "off" disables it): ${String(error)}`,
        { cause: error },
      );
    }
    const awsAddress = awsApp.server.address();
    const awsPort = typeof awsAddress === 'object' && awsAddress ? awsAddress.port : config.aws.port;
    const shown = awsHost === '0.0.0.0' || awsHost === '::' ? '127.0.0.1' : awsHost;
    const [accessKeyId, secretAccessKey] = Object.entries(credentials)[0];
    aws = {
      url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${awsPort}`,
      app: awsApp,
      accessKeyId,
      secretAccessKey,
      generated: generated !== null,
    };
    awsUrl = aws.url;
  }
  // Move tasks left running by a previous process go on (they are domain work, not AWS's).
  if (config.role !== 'delivery') await moveTasks.resume();

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
      await aws?.app.close();
      await moveTasks.close();
      await app.close();
      await closeParts();
    })());

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    apiKey: key,
    apiKeyGenerated: generated,
    config,
    store,
    engine,
    bus,
    nodeId,
    app,
    aws,
    logger,
    close,
  };
}
