/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * "{id}.{timestamp}.{payload}", keyed with the base64-decoded part of a `whsec_` secret.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

const PREFIX = 'whsec_';

// Every delivery signs with its subscription's secret: decode each secret once, not per request.
const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 10_000;

export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

function key(secret: string): KeyObject {
  let k = keys.get(secret);
  if (!k) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    k = createSecretKey(Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64'));
    keys.set(secret, k);
  }
  return k;
}

export function sign(secret: string, msgId: string, timestampSeconds: number, payload: string | Buffer): string {
  const mac = createHmac('sha256', key(secret));
  mac.update(`${msgId}.${timestampSeconds}.`);
  mac.update(payload);
  return `v1,${mac.digest('base64')}`;
}

export function webhookHeaders(secret: string, msgId: string, timestampSeconds: number, payload: string | Buffer) {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(secret, msgId, timestampSeconds, payload),
  };
}

export function verify(
  secret: string,
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string },
  payload: string | Buffer,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  const ts = Number(headers['webhook-timestamp']);
  if (!Number.isInteger(ts)) return false;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(sign(secret, headers['webhook-id'], ts, payload).slice(3), 'base64');
  for (const part of (headers['webhook-signature'] ?? '').split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const given = Buffer.from(sig, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return false;
}
