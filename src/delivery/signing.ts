/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * "{id}.{timestamp}.{payload}", keyed with the base64-decoded part of a `whsec_` secret.
 * Matching the reference libraries byte for byte is the point: receivers verify with them.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

const PREFIX = 'whsec_';
const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

// Every delivery signs with its subscription's secret: decode each secret once, not per request.
const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 10_000;

export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

function key(secret: string): KeyObject {
  let k = keys.get(secret);
  if (!k) {
    const bytes = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
    // An empty key would still "sign"; the reference libraries refuse it, and so do we.
    if (bytes.length === 0) throw new Error('webhook signing secret is empty');
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    k = createSecretKey(bytes);
    keys.set(secret, k);
  }
  return k;
}

export function sign(secret: string, msgId: string, timestampSeconds: number, payload: string | Buffer): string {
  const mac = createHmac('sha256', key(secret));
  mac.update(`${msgId}.${timestampSeconds}.`);
  mac.update(payload); // Buffers are hashed as their bytes, so non-UTF-8 bodies sign correctly
  return `v1,${mac.digest('base64')}`;
}

export function webhookHeaders(
  secret: string,
  msgId: string,
  timestampSeconds: number,
  payload: string | Buffer,
): WebhookHeaders {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(secret, msgId, timestampSeconds, payload),
  };
}

export function verify(
  secret: string,
  headers: WebhookHeaders,
  payload: string | Buffer,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  // Headers come off the wire: any of them may be missing whatever the type says.
  const id = headers['webhook-id'];
  const tsHeader = headers['webhook-timestamp'];
  const sigHeader = headers['webhook-signature'];
  if (!id || typeof tsHeader !== 'string' || typeof sigHeader !== 'string') return false;
  // Digits only: Number() would also take "1e9", "0x5f" or "", which sign differently than sent.
  if (!/^\d{1,15}$/.test(tsHeader)) return false;
  const ts = Number(tsHeader);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  // Compare the base64 text, as the reference does: decoding first would let "<sig>!!" pass.
  const expected = Buffer.from(sign(secret, id, ts, payload).slice(3));
  for (const part of sigHeader.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue; // other schemes (v1a, v2) are not ours to check
    const given = Buffer.from(part.slice(comma + 1));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return false;
}
