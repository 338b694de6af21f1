import { describe, expect, it } from 'vitest';
import { createUuidV7, randomToken, uuidv7 } from '../../src/ids.js';

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const hex = (id: string) => id.replace(/-/g, '');
const timestampOf = (id: string) => parseInt(hex(id).slice(0, 12), 16);
const counterOf = (id: string) => parseInt(hex(id).slice(13, 16), 16); // rand_a, after the version nibble

const zeros = (size: number) => Buffer.alloc(size);
const ones = (size: number) => Buffer.alloc(size, 0xff);

describe('uuidv7', () => {
  it('has the RFC 9562 layout: 8-4-4-4-12 lowercase hex, version 7, variant 10', () => {
    for (let i = 0; i < 1000; i++) {
      const id = uuidv7();
      expect(id).toMatch(UUIDV7);
      const bytes = Buffer.from(hex(id), 'hex');
      expect(bytes).toHaveLength(16);
      expect(bytes[6] >> 4).toBe(7);
      expect(bytes[8] >> 6).toBe(0b10);
    }
  });

  it('encodes the millisecond timestamp so that it decodes back', () => {
    const next = createUuidV7();
    for (const t of [0, 1, Date.parse('2026-11-23T10:00:00.123Z'), Date.parse('2100-01-01T00:00:00Z'), 2 ** 48 - 1])
      expect(timestampOf(next(t))).toBe(t);
  });

  it('uses the current time by default', () => {
    const before = Date.now();
    const id = createUuidV7()();
    expect(timestampOf(id)).toBeGreaterThanOrEqual(before);
    expect(timestampOf(id)).toBeLessThanOrEqual(Date.now());
  });

  it('floors a fractional millisecond and refuses timestamps UUIDv7 cannot hold', () => {
    expect(timestampOf(createUuidV7()(1_700_000_000_000.9))).toBe(1_700_000_000_000);
    for (const bad of [-1, 2 ** 48, NaN, Infinity]) expect(() => createUuidV7()(bad)).toThrow(RangeError);
  });

  it('keeps version and variant bits whatever the random bytes are', () => {
    expect(createUuidV7(zeros)(0)).toBe('00000000-0000-7000-8000-000000000000');
    expect(createUuidV7(ones)(2 ** 48 - 1)).toBe('ffffffff-ffff-73ff-bfff-ffffffffffff');
  });

  it('puts 62 random bits in rand_b', () => {
    const next = createUuidV7();
    const tails = new Set(Array.from({ length: 1000 }, () => hex(next(1000)).slice(17)));
    expect(tails.size).toBe(1000);
  });

  it('is unique and sorts in generation order, even within one millisecond', () => {
    const next = createUuidV7();
    const ids = Array.from({ length: 10_000 }, () => next(1_700_000_000_000));
    expect(new Set(ids).size).toBe(10_000);
    expect([...ids].sort()).toEqual(ids);
  });

  it('is unique and sorted in a tight loop on the real clock', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(10_000);
    expect([...ids].sort()).toEqual(ids);
  });

  it('counts up in rand_a within a millisecond, starting from a random seed', () => {
    const next = createUuidV7();
    const first = next(5000);
    expect(counterOf(first)).toBeLessThanOrEqual(0x3ff); // headroom for the count
    expect(counterOf(next(5000))).toBe(counterOf(first) + 1);
    expect(counterOf(next(5000))).toBe(counterOf(first) + 2);
  });

  it('borrows the next millisecond when the counter runs out, keeping order', () => {
    const next = createUuidV7(zeros); // seed 0: exactly 4096 ids fit in a millisecond
    const ids = Array.from({ length: 4097 }, () => next(1000));
    expect(timestampOf(ids[4095])).toBe(1000);
    expect(counterOf(ids[4095])).toBe(0xfff);
    expect(timestampOf(ids[4096])).toBe(1001);
    expect([...ids].sort()).toEqual(ids);
    // The real clock catching up continues after the borrowed millisecond.
    expect(next(1001) > ids[4096]).toBe(true);
    expect(timestampOf(next(1002))).toBe(1002);
  });

  it('refuses to borrow a millisecond past the last one UUIDv7 can hold', () => {
    const next = createUuidV7(zeros);
    const last = 2 ** 48 - 1;
    for (let i = 0; i < 4096; i++) expect(timestampOf(next(last))).toBe(last);
    expect(() => next(last)).toThrow(RangeError);
  });

  it('keeps ids in order when the clock steps backwards', () => {
    const next = createUuidV7();
    const a = next(10_000);
    const b = next(9_000);
    const c = next(9_500);
    const d = next(10_001);
    expect([a, b, c, d]).toEqual([a, b, c, d].sort());
    expect(timestampOf(b)).toBe(10_000);
    expect(new Set([a, b, c, d]).size).toBe(4);
  });

  it('orders ids across milliseconds by time', () => {
    const next = createUuidV7();
    const ids = [];
    for (let t = 0; t < 2000; t += 7) for (let i = 0; i < 3; i++) ids.push(next(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('gives independent generators independent state', () => {
    const a = createUuidV7();
    const b = createUuidV7();
    a(50_000);
    expect(timestampOf(b(10_000))).toBe(10_000);
  });
});

describe('randomToken', () => {
  it('is 16 bytes of base64url by default (22 characters, no padding)', () => {
    const t = randomToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(16);
  });

  it('encodes the requested number of bytes', () => {
    for (const n of [1, 2, 3, 24, 32, 64]) {
      const t = randomToken(n);
      expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(t).toHaveLength(Math.ceil((n * 4) / 3));
      expect(Buffer.from(t, 'base64url')).toHaveLength(n);
    }
  });

  it('does not repeat', () => {
    expect(new Set(Array.from({ length: 10_000 }, () => randomToken())).size).toBe(10_000);
  });
});
