import { availableParallelism } from 'node:os';
import type { DeliveryPolicy } from './types.js';

export type Role = 'all' | 'api' | 'delivery';

export interface BreakerConfig {
  /** Consecutive failures that open an endpoint's breaker. */
  failureThreshold: number;
  /** First open period; doubles on each failed probe up to maxCooldownMs. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export interface DeliveryConfig {
  /** HTTP requests in flight across all subscriptions. */
  globalConcurrency: number;
  /** Connections kept per endpoint origin. */
  connectionsPerOrigin: number;
  /**
   * Worker threads that send webhook requests, beside the event loop (which keeps every
   * delivery decision); 0 sends them from the event loop itself.
   */
  senderThreads: number;
  /** How often the engine sweeps for due retries it was not woken for. */
  pollIntervalMs: number;
  /**
   * Lease time beyond the attempt timeout, covering time in a lane's buffer. With several
   * nodes on PostgreSQL, also how long a dead node's leased deliveries wait for a new node.
   */
  leaseMarginMs: number;
  breaker: BreakerConfig;
  /** Ceiling on how long a Retry-After header may postpone an attempt. */
  maxRetryAfterSeconds: number;
  /** Policy for subscriptions that do not set one (fields merge). */
  defaultPolicy: DeliveryPolicy;
  /** Random spread applied to backoff delays, 0..1. */
  jitter: number;
}

export interface HeraldConfig {
  host: string;
  port: number;
  dataDir: string;
  /**
   * PostgreSQL URL (`postgres://user@host:5432/db?schema=herald`): when set, the store is
   * PostgreSQL, shared by every node given the same URL; empty uses SQLite in `dataDir`.
   */
  databaseUrl: string;
  /** Connections each node keeps to PostgreSQL. */
  databasePoolSize: number;
  /** Bearer key for the API. */
  apiKey: string;
  role: Role;
  /** Largest message body accepted, bytes (default 256 KiB, at most 1 MiB). */
  maxMessageBytes: number;
  /** Largest HTTP request body accepted, bytes. */
  bodyLimitBytes: number;
  /** API requests per second per client address; 0 disables throttling. */
  rateLimitPerSecond: number;
  logLevel: string;
  delivery: DeliveryConfig;
  /** How long the attempt log keeps entries. */
  attemptRetentionSeconds: number;
  /** Idempotency-key window. */
  idempotencyWindowSeconds: number;
  /** How often housekeeping runs (queue retention, expired idempotency keys, old attempts). */
  sweepIntervalMs: number;
  /** Redis URL for the cluster bus (signals between nodes); empty = none (nodes poll). */
  redisUrl: string;
  /** Prefix of the cluster bus's Redis channel and keys: one cluster per prefix. */
  redisPrefix: string;
  aws: AwsConfig;
}

/** The AWS-compatible front door (SQS, and SNS when registered): see docs/aws.md. */
export interface AwsConfig {
  /** Port of the AWS listener; 0 picks a free one; null turns the AWS front door off. */
  port: number | null;
  /** Address it listens on; empty = the same as `host`. */
  host: string;
  /**
   * Access keys that may sign requests, id -> secret. Empty: a pair is generated on first
   * start, kept in `<dataDir>/aws-credentials` (mode 0600) and printed once.
   */
  credentials: Record<string, string>;
  accountId: string;
  region: string;
  /**
   * Base URL SNS subscribers reach the front door at, for the links in SNS messages
   * (SigningCertURL, SubscribeURL, UnsubscribeURL); empty = the listener's own address.
   * Set it when subscribers are elsewhere, and on every node of a cluster.
   */
  publicUrl: string;
  /** A configured SNS signing key and certificate (PEM files); empty = generated (docs/aws.md). */
  snsSigningKeyFile: string;
  snsSigningCertFile: string;
}

export const MAX_MESSAGE_BYTES_CEILING = 1024 * 1024;

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  maxAttempts: 10,
  backoff: { initialSeconds: 1, maxSeconds: 300, multiplier: 2 },
  timeoutSeconds: 15,
  maxPerSecond: 0,
  maxConcurrency: 50,
};

/**
 * One sender thread per core beyond two, up to 4, and one on two cores: the event loop keeps
 * one core and the rest of the process (fsyncs, GC, the network stack) another. On two cores
 * the thread, which starts each subscription's next requests itself, measured 10-25% more
 * webhook deliveries a second than the event loop alone (docs/benchmarks.md). On one core
 * there is nothing to run it beside.
 */
export function defaultSenderThreads(cores = availableParallelism()): number {
  return cores < 2 ? 0 : Math.max(1, Math.min(4, cores - 2));
}

export function defaultConfig(): HeraldConfig {
  return {
    host: '0.0.0.0',
    port: 8080,
    dataDir: './data',
    databaseUrl: '',
    databasePoolSize: 10,
    apiKey: '',
    role: 'all',
    maxMessageBytes: 256 * 1024,
    bodyLimitBytes: 16 * 1024 * 1024,
    rateLimitPerSecond: 0,
    logLevel: 'info',
    delivery: {
      globalConcurrency: 2048,
      connectionsPerOrigin: 128,
      senderThreads: defaultSenderThreads(),
      pollIntervalMs: 500,
      leaseMarginMs: 30_000,
      breaker: { failureThreshold: 5, cooldownMs: 5_000, maxCooldownMs: 60_000 },
      maxRetryAfterSeconds: 3600,
      defaultPolicy: DEFAULT_DELIVERY_POLICY,
      jitter: 0.2,
    },
    attemptRetentionSeconds: 7 * 24 * 3600,
    idempotencyWindowSeconds: 300,
    sweepIntervalMs: 10_000,
    redisUrl: '',
    redisPrefix: 'herald',
    // 4566 is where local AWS stand-ins (LocalStack) answer every service, so existing
    // `AWS_ENDPOINT_URL=http://localhost:4566` setups reach Herald unchanged.
    aws: {
      port: 4566,
      host: '',
      credentials: {},
      accountId: '000000000000',
      region: 'us-east-1',
      publicUrl: '',
      snsSigningKeyFile: '',
      snsSigningCertFile: '',
    },
  };
}

/** `id:secret,id2:secret2` (HERALD_AWS_CREDENTIALS) into id -> secret. */
export function parseAwsCredentials(text: string, name = 'HERALD_AWS_CREDENTIALS'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const colon = pair.indexOf(':');
    const id = pair.slice(0, colon).trim();
    const secret = pair.slice(colon + 1).trim();
    if (colon < 1 || !/^[A-Za-z0-9]{1,128}$/.test(id) || secret === '') {
      throw new Error(`${name} must be a comma-separated list of accessKeyId:secret pairs`);
    }
    out[id] = secret;
  }
  return out;
}

function awsFromEnv(env: NodeJS.ProcessEnv): Partial<AwsConfig> {
  const aws: Partial<AwsConfig> = {};
  const port = env.HERALD_AWS_PORT;
  if (port === 'off') aws.port = null;
  else if (port !== undefined && port !== '') {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new Error(`HERALD_AWS_PORT must be a port number (0 picks a free one) or "off", got "${port}"`);
    }
    aws.port = n;
  }
  if (env.HERALD_AWS_HOST) aws.host = env.HERALD_AWS_HOST;
  if (env.HERALD_AWS_ACCOUNT_ID) aws.accountId = env.HERALD_AWS_ACCOUNT_ID;
  if (env.HERALD_AWS_REGION) aws.region = env.HERALD_AWS_REGION;
  if (env.HERALD_AWS_PUBLIC_URL) aws.publicUrl = env.HERALD_AWS_PUBLIC_URL;
  if (env.HERALD_SNS_SIGNING_KEY_FILE) aws.snsSigningKeyFile = env.HERALD_SNS_SIGNING_KEY_FILE;
  if (env.HERALD_SNS_SIGNING_CERT_FILE) aws.snsSigningCertFile = env.HERALD_SNS_SIGNING_CERT_FILE;
  const credentials = parseAwsCredentials(env.HERALD_AWS_CREDENTIALS ?? '');
  const id = env.HERALD_AWS_ACCESS_KEY_ID;
  const secret = env.HERALD_AWS_SECRET_ACCESS_KEY;
  if (Boolean(id) !== Boolean(secret)) {
    throw new Error('HERALD_AWS_ACCESS_KEY_ID and HERALD_AWS_SECRET_ACCESS_KEY must be set together');
  }
  if (id && secret) Object.assign(credentials, parseAwsCredentials(`${id}:${secret}`, 'HERALD_AWS_ACCESS_KEY_ID'));
  if (Object.keys(credentials).length > 0) aws.credentials = credentials;
  return aws;
}

export type ConfigOverrides = Partial<Omit<HeraldConfig, 'delivery' | 'aws'>> & {
  delivery?: Partial<Omit<DeliveryConfig, 'breaker'>> & { breaker?: Partial<BreakerConfig> };
  aws?: Partial<AwsConfig>;
};

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

/** Defaults, then HERALD_* environment variables, then explicit overrides (CLI flags, tests). */
export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): HeraldConfig {
  const base = defaultConfig();
  const fromEnv: ConfigOverrides = {
    host: env.HERALD_HOST || undefined,
    port: intFromEnv(env, 'HERALD_PORT'),
    dataDir: env.HERALD_DATA_DIR || undefined,
    databaseUrl: env.HERALD_DATABASE_URL || undefined,
    databasePoolSize: intFromEnv(env, 'HERALD_DATABASE_POOL_SIZE'),
    apiKey: env.HERALD_API_KEY || undefined,
    role: (env.HERALD_ROLE as Role | undefined) || undefined,
    maxMessageBytes: intFromEnv(env, 'HERALD_MAX_MESSAGE_BYTES'),
    rateLimitPerSecond: intFromEnv(env, 'HERALD_RATE_LIMIT'),
    logLevel: env.HERALD_LOG_LEVEL || undefined,
    redisUrl: env.HERALD_REDIS_URL || undefined,
    redisPrefix: env.HERALD_REDIS_PREFIX || undefined,
    aws: awsFromEnv(env),
  };
  const deliveryFromEnv = {
    pollIntervalMs: intFromEnv(env, 'HERALD_POLL_INTERVAL_MS'),
    leaseMarginMs: intFromEnv(env, 'HERALD_LEASE_MARGIN_MS'),
    senderThreads: intFromEnv(env, 'HERALD_SENDER_THREADS'),
  };
  for (const [k, v] of Object.entries(deliveryFromEnv)) {
    if (v !== undefined) fromEnv.delivery = { ...fromEnv.delivery, [k]: v };
  }
  const merged: HeraldConfig = { ...base };
  for (const layer of [fromEnv, overrides]) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined || k === 'delivery' || k === 'aws') continue;
      (merged as unknown as Record<string, unknown>)[k] = v;
    }
    if (layer.delivery) {
      merged.delivery = {
        ...merged.delivery,
        ...layer.delivery,
        breaker: { ...merged.delivery.breaker, ...(layer.delivery.breaker ?? {}) },
      } as DeliveryConfig;
    }
    if (layer.aws) {
      const given = Object.fromEntries(Object.entries(layer.aws).filter(([, v]) => v !== undefined));
      merged.aws = { ...merged.aws, ...given };
    }
  }
  if (!['all', 'api', 'delivery'].includes(merged.role)) {
    throw new Error(`role must be one of all, api, delivery; got "${merged.role}"`);
  }
  if (merged.redisUrl && !/^rediss?:\/\//.test(merged.redisUrl)) {
    throw new Error(`HERALD_REDIS_URL must start with redis:// or rediss://, got "${merged.redisUrl}"`);
  }
  if (merged.maxMessageBytes < 1 || merged.maxMessageBytes > MAX_MESSAGE_BYTES_CEILING) {
    throw new Error(`HERALD_MAX_MESSAGE_BYTES must be between 1 and ${MAX_MESSAGE_BYTES_CEILING}`);
  }
  if (!/^\d{12}$/.test(merged.aws.accountId)) {
    throw new Error(`HERALD_AWS_ACCOUNT_ID must be 12 digits, got "${merged.aws.accountId}"`);
  }
  if (!/^[a-z0-9-]{1,32}$/.test(merged.aws.region)) {
    throw new Error(`HERALD_AWS_REGION must look like us-east-1, got "${merged.aws.region}"`);
  }
  const threads = merged.delivery.senderThreads;
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) {
    throw new Error('HERALD_SENDER_THREADS must be a whole number from 0 to 64');
  }
  if (!Number.isInteger(merged.databasePoolSize) || merged.databasePoolSize < 1) {
    throw new Error('HERALD_DATABASE_POOL_SIZE must be a whole number of at least 1');
  }
  return merged;
}
