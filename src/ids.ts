/** Identifiers: time-ordered UUIDv7 for messages, random tokens for secrets and keys. */
import { randomBytes } from 'node:crypto';

const MAX_MS = 2 ** 48 - 1;
const MAX_COUNTER = 0xfff;
// Seeds leave the top two bits of the 12-bit counter clear, so at least 3072 ids fit in
// one millisecond before the generator has to borrow the next one.
const SEED_MASK = 0x3ff;
// Random bytes drawn 4 KiB at a time: one syscall per ~400 ids instead of one per id.
const POOL_SIZE = 4096;
const BYTES_PER_ID = 10; // 2 to seed the counter, 8 for rand_b (62 bits after the variant)

/**
 * A UUIDv7 generator with its own ordering state. RFC 9562 UUIDv7: 48-bit millisecond
 * timestamp, version 7, 12-bit rand_a, variant 10, 62 random bits. Ids made in the same
 * millisecond (or after the clock stepped back) reuse the last timestamp and count up in
 * rand_a (RFC 9562 §6.2 method 1), so ids sort in the order they were generated.
 */
export function createUuidV7(random: (size: number) => Buffer = randomBytes): (nowMs?: number) => string {
  let lastMs = -1;
  let counter = 0;
  let pool: Buffer = Buffer.alloc(0);
  let poolOffset = 0;

  function take(): Buffer {
    if (poolOffset + BYTES_PER_ID > pool.length) {
      pool = random(POOL_SIZE);
      poolOffset = 0;
    }
    poolOffset += BYTES_PER_ID;
    return pool.subarray(poolOffset - BYTES_PER_ID, poolOffset);
  }

  return function uuidv7(nowMs: number = Date.now()): string {
    let ms = Math.floor(nowMs);
    if (!(ms >= 0 && ms <= MAX_MS)) throw new RangeError(`uuidv7: timestamp out of range: ${nowMs}`);
    const rnd = take();
    const seed = ((rnd[0] << 8) | rnd[1]) & SEED_MASK;
    if (ms > lastMs) {
      counter = seed;
    } else if (counter < MAX_COUNTER) {
      ms = lastMs;
      counter++;
    } else {
      ms = lastMs + 1; // counter exhausted: borrow the next millisecond rather than lose order
      counter = seed;
    }
    lastMs = ms;
    const b = Buffer.alloc(16);
    b.writeUIntBE(ms, 0, 6);
    b[6] = 0x70 | (counter >> 8);
    b[7] = counter & 0xff;
    rnd.copy(b, 8, 2, 10);
    b[8] = 0x80 | (b[8] & 0x3f);
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

const processWide = createUuidV7();

/** A UUIDv7, ordered after every id this process generated before it. */
export function uuidv7(nowMs?: number): string {
  return processWide(nowMs);
}

/** `bytes` random bytes as base64url: URL- and header-safe, no padding. */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
