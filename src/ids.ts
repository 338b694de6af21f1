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
  /** The id's first two groups, the timestamp's, for `lastMs`. */
  let prefix = '';

  // Written out from the pool's bytes through a table, with no Buffer per id and the
  // timestamp's digits once per millisecond: at batch publish rates the id was a visible
  // part of a message's cost (0.4-0.5 µs each; now about 0.13).
  return function uuidv7(nowMs: number = Date.now()): string {
    let ms = Math.floor(nowMs);
    if (!(ms >= 0 && ms <= MAX_MS)) throw new RangeError(`uuidv7: timestamp out of range: ${nowMs}`);
    if (poolOffset + BYTES_PER_ID > pool.length) {
      pool = random(POOL_SIZE);
      poolOffset = 0;
    }
    const r = poolOffset;
    poolOffset += BYTES_PER_ID;
    const seed = ((pool[r] << 8) | pool[r + 1]) & SEED_MASK;
    if (ms > lastMs) {
      counter = seed;
    } else if (counter < MAX_COUNTER) {
      ms = lastMs;
      counter++;
    } else {
      ms = lastMs + 1; // counter exhausted: borrow the next millisecond rather than lose order
      counter = seed;
    }
    if (ms > MAX_MS) throw new RangeError('uuidv7: timestamp out of range: the last millisecond is used up');
    if (ms !== lastMs) {
      const t = ms.toString(16).padStart(12, '0');
      prefix = `${t.slice(0, 8)}-${t.slice(8)}-`;
    }
    lastMs = ms;
    return (
      prefix +
      HEX[0x70 | (counter >> 8)] +
      HEX[counter & 0xff] +
      '-' +
      HEX[0x80 | (pool[r + 2] & 0x3f)] +
      HEX[pool[r + 3]] +
      '-' +
      HEX[pool[r + 4]] +
      HEX[pool[r + 5]] +
      HEX[pool[r + 6]] +
      HEX[pool[r + 7]] +
      HEX[pool[r + 8]] +
      HEX[pool[r + 9]]
    );
  };
}

/** Every byte's two lower-case hex digits. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

const processWide = createUuidV7();

/** A UUIDv7, ordered after every id this process generated before it. */
export function uuidv7(nowMs?: number): string {
  return processWide(nowMs);
}

/** `bytes` random bytes as base64url: URL- and header-safe, no padding. */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
