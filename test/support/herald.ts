/**
 * Start a real Herald (in this process) on a fresh data directory and a free port. With
 * HERALD_TEST_STORE=postgres the store is PostgreSQL: a fresh schema per data directory
 * (so a restart on the same directory finds its data again), dropped at the end of the run
 * by the global teardown (test/support/global-setup.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { inject } from 'vitest';
import { HeraldClient } from '../../src/client/index.js';
import type { ConfigOverrides } from '../../src/config.js';
import { startHerald, type Herald } from '../../src/server/herald.js';
import { freshPostgresUrl } from './stores.js';

/** Which store integration tests run on: HERALD_TEST_STORE=postgres, else SQLite. */
export const TEST_STORE = process.env.HERALD_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** The access key test servers accept on their AWS front door. */
export const TEST_AWS = { accessKeyId: 'AKIAHERALDTEST', secretAccessKey: 'herald-test-secret' };

/**
 * The environment for boto3 and the AWS CLI against a test Herald: endpoint and test keys
 * only, and nothing that would make them look for real AWS configuration or credentials.
 * Pass the endpoint explicitly too (`--endpoint-url`): CLI v2 releases before 2.13 ignore
 * AWS_ENDPOINT_URL. As a guard, any request to a host other than loopback goes to a proxy
 * address where nothing listens, so a client that misses the endpoint fails instead of
 * reaching AWS. No retries: a failure shows as it happened.
 */
export function awsClientEnv(endpointUrl: string, home: string | undefined): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_ACCESS_KEY_ID: TEST_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_AWS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
  };
}

const databases = new Map<string, Promise<string>>();

/** The PostgreSQL URL that stands for `dataDir` when testing on PostgreSQL (else undefined). */
export async function testDatabaseUrl(dataDir: string): Promise<string | undefined> {
  if (TEST_STORE !== 'postgres') return undefined;
  let url = databases.get(dataDir);
  if (!url) databases.set(dataDir, (url = freshPostgresUrl(`itr_${inject('heraldRunId')}_`).then((db) => db.url)));
  return url;
}

export interface TestHerald {
  herald: Herald;
  client: HeraldClient;
  url: string;
  apiKey: string;
  dataDir: string;
  /** Raw fetch against the API with the key set (for status codes and error bodies). */
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'herald-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startTestHerald(overrides: ConfigOverrides = {}, dataDir = tempDir()): Promise<TestHerald> {
  const herald = await startHerald({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl: await testDatabaseUrl(dataDir),
    apiKey: 'test-key',
    logger: pino({ level: process.env.HERALD_TEST_LOG ?? 'silent' }),
    ...overrides,
    delivery: { pollIntervalMs: 100, ...overrides.delivery },
    // A free port per server: test files run in parallel.
    aws: { port: 0, credentials: { [TEST_AWS.accessKeyId]: TEST_AWS.secretAccessKey }, ...overrides.aws },
  });
  const client = new HeraldClient({ url: herald.url, apiKey: herald.apiKey });
  const api: TestHerald['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(herald.url + path, {
      method,
      headers: {
        authorization: `Bearer ${herald.apiKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON (metrics) */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    herald,
    client,
    url: herald.url,
    apiKey: herald.apiKey,
    dataDir,
    api,
    async close() {
      await client.close();
      await herald.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Poll `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
