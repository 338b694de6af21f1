import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign, verify, webhookHeaders } from '../../src/delivery/signing.js';

// Test vector published with the Standard Webhooks reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signing', () => {
  it('matches the reference test vector', () => {
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
  });

  it('equals an independent HMAC over id.timestamp.payload with the decoded key', () => {
    const secret = generateSecret();
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update('m1.1700000000.body').digest('base64');
    expect(sign(secret, 'm1', 1700000000, 'body')).toBe(`v1,${expected}`);
    expect(sign(secret.slice(6), 'm1', 1700000000, Buffer.from('body'))).toBe(`v1,${expected}`); // no prefix, Buffer payload
  });

  it('generates distinct whsec_ secrets of 24 random bytes', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(24);
    expect(generateSecret()).not.toBe(a);
  });

  const headers = (over: Partial<Record<string, string>> = {}) => ({
    ...webhookHeaders(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload),
    ...over,
  });
  const at = { nowSeconds: VECTOR.timestamp };

  it('verifies its own headers', () => {
    expect(verify(VECTOR.secret, headers(), VECTOR.payload, at)).toBe(true);
  });

  it('rejects a tampered payload, id, timestamp or secret', () => {
    expect(verify(VECTOR.secret, headers(), VECTOR.payload + ' ', at)).toBe(false);
    expect(verify(VECTOR.secret, headers({ 'webhook-id': 'msg_other' }), VECTOR.payload, at)).toBe(false);
    expect(
      verify(VECTOR.secret, headers({ 'webhook-timestamp': String(VECTOR.timestamp + 1) }), VECTOR.payload, at),
    ).toBe(false);
    expect(verify(generateSecret(), headers(), VECTOR.payload, at)).toBe(false);
  });

  it('accepts any of several space-separated signatures and ignores other versions', () => {
    const good = headers()['webhook-signature'];
    expect(verify(VECTOR.secret, headers({ 'webhook-signature': `v1,AAAA ${good}` }), VECTOR.payload, at)).toBe(true);
    expect(verify(VECTOR.secret, headers({ 'webhook-signature': `v2,${good.slice(3)}` }), VECTOR.payload, at)).toBe(
      false,
    );
    expect(verify(VECTOR.secret, headers({ 'webhook-signature': 'garbage' }), VECTOR.payload, at)).toBe(false);
  });

  it('enforces the timestamp tolerance both ways', () => {
    const h = headers();
    expect(verify(VECTOR.secret, h, VECTOR.payload, { nowSeconds: VECTOR.timestamp + 300 })).toBe(true);
    expect(verify(VECTOR.secret, h, VECTOR.payload, { nowSeconds: VECTOR.timestamp + 301 })).toBe(false);
    expect(verify(VECTOR.secret, h, VECTOR.payload, { nowSeconds: VECTOR.timestamp - 301 })).toBe(false);
    expect(
      verify(VECTOR.secret, h, VECTOR.payload, { nowSeconds: VECTOR.timestamp + 1000, toleranceSeconds: 1000 }),
    ).toBe(true);
    expect(verify(VECTOR.secret, headers({ 'webhook-timestamp': 'soon' }), VECTOR.payload, at)).toBe(false);
  });
});
