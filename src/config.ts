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
  /** Region and account id in the ARNs the AWS adapters show. */
  awsRegion: string;
  awsAccountId: string;
  /**
   * Access key id -> secret key accepted on the AWS endpoints (Signature Version 4). From
   * HERALD_AWS_ACCESS_KEY_ID / HERALD_AWS_SECRET_ACCESS_KEY, plus HERALD_AWS_CREDENTIALS
   * ("id:secret,id2:secret2") for several.
   */
  awsCredentials: Record<string, string>;
  /** Port of the SNS Query-protocol endpoint; -1 (default) leaves it off, 0 picks a free port. */
  snsPort: number;
  /** Base URL subscribers reach the SNS endpoint at (SigningCertURL, SubscribeURL...); default http://<host>:<snsPort>. */
  snsPublicUrl: string;
  /** A configured SNS signing key and certificate (PEM files); default: generated, see docs/aws.md. */
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
    awsRegion: 'us-east-1',
    awsAccountId: '000000000000',
    awsCredentials: {},
    snsPort: -1,
    snsPublicUrl: '',
    snsSigningKeyFile: '',
    snsSigningCertFile: '',
  };
}

export type ConfigOverrides = Partial<Omit<HeraldConfig, 'delivery'>> & {
  delivery?: Partial<Omit<DeliveryConfig, 'breaker'>> & { breaker?: Partial<BreakerConfig> };
};

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

function awsCredentialsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (env.HERALD_AWS_ACCESS_KEY_ID || env.HERALD_AWS_SECRET_ACCESS_KEY) {
    if (!env.HERALD_AWS_ACCESS_KEY_ID || !env.HERALD_AWS_SECRET_ACCESS_KEY)
      throw new Error('HERALD_AWS_ACCESS_KEY_ID and HERALD_AWS_SECRET_ACCESS_KEY must be set together');
    out[env.HERALD_AWS_ACCESS_KEY_ID] = env.HERALD_AWS_SECRET_ACCESS_KEY;
  }
  for (const pair of (env.HERALD_AWS_CREDENTIALS ?? '').split(',')) {
    if (!pair.trim()) continue;
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1)
      throw new Error('HERALD_AWS_CREDENTIALS must be "accessKeyId:secret" pairs separated by commas');
    out[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim();
  }
  return Object.keys(out).length > 0 ? out : undefined;
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
    awsRegion: env.HERALD_AWS_REGION || undefined,
    awsAccountId: env.HERALD_AWS_ACCOUNT_ID || undefined,
    awsCredentials: awsCredentialsFromEnv(env),
    snsPort: env.HERALD_SNS_PORT ? intFromEnv(env, 'HERALD_SNS_PORT') : undefined,
    snsPublicUrl: env.HERALD_SNS_PUBLIC_URL || undefined,
    snsSigningKeyFile: env.HERALD_SNS_SIGNING_KEY_FILE || undefined,
    snsSigningCertFile: env.HERALD_SNS_SIGNING_CERT_FILE || undefined,
  };
  const deliveryFromEnv = {
    pollIntervalMs: intFromEnv(env, 'HERALD_POLL_INTERVAL_MS'),
    leaseMarginMs: intFromEnv(env, 'HERALD_LEASE_MARGIN_MS'),
  };
  for (const [k, v] of Object.entries(deliveryFromEnv)) {
    if (v !== undefined) fromEnv.delivery = { ...fromEnv.delivery, [k]: v };
  }
  const merged: HeraldConfig = { ...base };
  for (const layer of [fromEnv, overrides]) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined || k === 'delivery') continue;
      (merged as unknown as Record<string, unknown>)[k] = v;
    }
    if (layer.delivery) {
      merged.delivery = {
        ...merged.delivery,
        ...layer.delivery,
        breaker: { ...merged.delivery.breaker, ...(layer.delivery.breaker ?? {}) },
      } as DeliveryConfig;
    }
  }
  if (!/^\d{12}$/.test(merged.awsAccountId)) {
    throw new Error(`HERALD_AWS_ACCOUNT_ID must be 12 digits, got "${merged.awsAccountId}"`);
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
  if (!Number.isInteger(merged.databasePoolSize) || merged.databasePoolSize < 1) {
    throw new Error('HERALD_DATABASE_POOL_SIZE must be a whole number of at least 1');
  }
  return merged;
}
