import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign, verify, webhookHeaders, type WebhookHeaders } from '../../src/delivery/signing.js';

// The "sign function works" vector from the Standard Webhooks reference libraries
// (github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts;
// the PHP, Python and other libraries assert the same values).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const at = { nowSeconds: VECTOR.timestamp };

const headers = (over: Partial<WebhookHeaders> = {}): WebhookHeaders => ({
  ...webhookHeaders(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload),
  ...over,
});
const withSignature = (sig: string) => headers({ 'webhook-signature': sig });
const ok = (
  h: WebhookHeaders,
  payload: string | Buffer = VECTOR.payload,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = at,
) => verify(VECTOR.secret, h, payload, opts);

function independentSignature(secret: string, signed: string | Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + createHmac('sha256', key).update(signed).digest('base64');
}

describe('sign', () => {
  it('reproduces the Standard Webhooks reference test vector exactly', () => {
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
  });

  it('accepts the secret without its whsec_ prefix and the payload as a Buffer', () => {
    const bare = VECTOR.secret.slice('whsec_'.length);
    expect(sign(bare, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.payload))).toBe(VECTOR.signature);
  });

  it('is an HMAC-SHA256 of "id.timestamp.payload" keyed with the decoded secret', () => {
    const secret = generateSecret();
    expect(sign(secret, 'm1', 1700000000, 'body')).toBe(independentSignature(secret, 'm1.1700000000.body'));
    expect(sign(secret, 'm1', 1700000000, '')).toBe(independentSignature(secret, 'm1.1700000000.'));
  });

  it('signs the exact bytes of a binary payload', () => {
    const secret = generateSecret();
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0xc3]); // not valid UTF-8
    const expected = independentSignature(secret, Buffer.concat([Buffer.from('m.1.'), bytes]));
    expect(sign(secret, 'm', 1, bytes)).toBe(expected);
  });

  it('signs UTF-8 text as UTF-8', () => {
    const secret = generateSecret();
    expect(sign(secret, 'm', 1, 'héllo ✓')).toBe(sign(secret, 'm', 1, Buffer.from('héllo ✓', 'utf8')));
  });

  it('refuses an empty secret', () => {
    expect(() => sign('', 'm', 1, 'x')).toThrow(/empty/);
    expect(() => sign('whsec_', 'm', 1, 'x')).toThrow(/empty/);
  });
});

describe('generateSecret', () => {
  it('is whsec_ plus base64 of 24 random bytes', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(24);
  });

  it('does not repeat', () => {
    const secrets = new Set(Array.from({ length: 1000 }, generateSecret));
    expect(secrets.size).toBe(1000);
  });
});

describe('webhookHeaders', () => {
  it('carries the id, the timestamp in seconds and the signature', () => {
    expect(webhookHeaders(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
  });
});

describe('verify', () => {
  it('accepts the reference vector and our own headers', () => {
    const reference = {
      'webhook-id': VECTOR.id,
      'webhook-timestamp': String(VECTOR.timestamp),
      'webhook-signature': VECTOR.signature,
    };
    expect(ok(reference)).toBe(true);
    expect(ok(headers())).toBe(true);
  });

  it('accepts with or without the whsec_ prefix', () => {
    expect(verify(VECTOR.secret.slice(6), headers(), VECTOR.payload, at)).toBe(true);
  });

  it('accepts a Buffer payload', () => {
    expect(ok(headers(), Buffer.from(VECTOR.payload))).toBe(true);
  });

  it('checks against the current time by default', () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    expect(verify(secret, webhookHeaders(secret, 'm', now, 'x'), 'x')).toBe(true);
    expect(verify(secret, webhookHeaders(secret, 'm', now - 3600, 'x'), 'x')).toBe(false);
  });

  it('rejects a tampered payload', () => {
    expect(ok(headers(), VECTOR.payload + ' ')).toBe(false);
    expect(ok(headers(), '{"test": 2432232315}')).toBe(false);
    expect(ok(headers(), '')).toBe(false);
  });

  it('rejects a tampered id', () => {
    expect(ok(headers({ 'webhook-id': 'msg_other' }))).toBe(false);
    expect(ok(headers({ 'webhook-id': VECTOR.id + ' ' }))).toBe(false);
  });

  it('rejects a tampered timestamp, even one within tolerance', () => {
    expect(ok(headers({ 'webhook-timestamp': String(VECTOR.timestamp + 1) }))).toBe(false);
    expect(ok(headers({ 'webhook-timestamp': String(VECTOR.timestamp - 1) }))).toBe(false);
  });

  it('rejects a wrong secret', () => {
    expect(verify(generateSecret(), headers(), VECTOR.payload, at)).toBe(false);
  });

  it('rejects a signature with a flipped character, truncated, padded or empty', () => {
    const sig = VECTOR.signature;
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    for (const bad of [flipped, sig.slice(0, -1), sig.slice(0, 8), sig + '!!', sig + 'AAAA', 'v1,', 'v1', ''])
      expect(ok(withSignature(bad)), bad).toBe(false);
  });

  it('accepts a match anywhere in a space-separated list', () => {
    const other = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    expect(ok(withSignature(`${other} ${VECTOR.signature}`))).toBe(true);
    expect(ok(withSignature(`${VECTOR.signature} ${other}`))).toBe(true);
    // The reference library's own multi-signature case.
    const v2 = 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    expect(ok(withSignature([other, v2, VECTOR.signature, other].join(' ')))).toBe(true);
  });

  it('rejects a list in which nothing matches', () => {
    expect(ok(withSignature('v1,AAAA v1,BBBB'))).toBe(false);
  });

  it('ignores signatures under other versions, even with the right bytes', () => {
    const bytes = VECTOR.signature.slice(3);
    for (const version of ['v2', 'v1a', 'V1', 'v0', ''])
      expect(ok(withSignature(`${version},${bytes}`)), version).toBe(false);
    expect(ok(withSignature(`v1a,${bytes} ${VECTOR.signature}`))).toBe(true);
  });

  it('ignores entries without a version', () => {
    expect(ok(withSignature('garbage'))).toBe(false);
    expect(ok(withSignature(VECTOR.signature.slice(3)))).toBe(false);
  });

  it('accepts timestamps up to the default 300 s tolerance either way, and no further', () => {
    const h = headers();
    const t = VECTOR.timestamp;
    expect(ok(h, VECTOR.payload, { nowSeconds: t + 300 })).toBe(true);
    expect(ok(h, VECTOR.payload, { nowSeconds: t - 300 })).toBe(true);
    expect(ok(h, VECTOR.payload, { nowSeconds: t + 301 })).toBe(false); // too old
    expect(ok(h, VECTOR.payload, { nowSeconds: t - 301 })).toBe(false); // too new
  });

  it('honours a custom tolerance', () => {
    const h = headers();
    const t = VECTOR.timestamp;
    expect(ok(h, VECTOR.payload, { nowSeconds: t + 1000, toleranceSeconds: 1000 })).toBe(true);
    expect(ok(h, VECTOR.payload, { nowSeconds: t - 1001, toleranceSeconds: 1000 })).toBe(false);
    expect(ok(h, VECTOR.payload, { nowSeconds: t, toleranceSeconds: 0 })).toBe(true);
    expect(ok(h, VECTOR.payload, { nowSeconds: t + 1, toleranceSeconds: 0 })).toBe(false);
  });

  it('rejects timestamps that are not plain decimal seconds', () => {
    const ts = String(VECTOR.timestamp);
    for (const bad of ['', 'soon', ` ${ts}`, `${ts}.0`, `+${ts}`, '-1', '1.614265330e9', '0x6038A8F2', `${ts}abc`])
      expect(ok(headers({ 'webhook-timestamp': bad })), bad).toBe(false);
  });

  it('rejects missing headers instead of throwing', () => {
    const full = headers() as Partial<WebhookHeaders>;
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const h = { ...full };
      delete h[name];
      expect(ok(h as WebhookHeaders), name).toBe(false);
    }
  });

  it('round-trips fresh secrets, ids and payloads', () => {
    for (let i = 0; i < 50; i++) {
      const secret = generateSecret();
      const id = `msg_${i}`;
      const payload = JSON.stringify({ i, text: 'x'.repeat(i * 37) });
      const h = webhookHeaders(secret, id, 1_800_000_000 + i, payload);
      expect(verify(secret, h, payload, { nowSeconds: 1_800_000_000 })).toBe(true);
    }
  });
});
