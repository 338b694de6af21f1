import { describe, expect, it } from 'vitest';
import { randomToken, uuidv7 } from '../../src/ids.js';

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10', () => {
    const id = uuidv7();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('encodes the millisecond timestamp', () => {
    const t = Date.parse('2026-11-23T10:00:00.123Z');
    const id = uuidv7(t);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
  });

  it('is unique and sorts in generation order, even within one millisecond', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(1_700_000_000_000));
    expect(new Set(ids).size).toBe(10_000);
    expect([...ids].sort()).toEqual(ids);
    const live = Array.from({ length: 10_000 }, () => uuidv7());
    expect([...live].sort()).toEqual(live);
  });
});

describe('randomToken', () => {
  it('is url-safe and random', () => {
    const a = randomToken(24);
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(randomToken(24)).not.toBe(a);
  });
});
