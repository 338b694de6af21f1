/** Identifiers: time-ordered UUIDv7 for messages, random tokens for secrets and keys. */
import { randomBytes } from 'node:crypto';

let lastMs = -1;
let counter = 0;

// Random bytes drawn 4 KiB at a time: one syscall per ~400 ids instead of one per id.
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function random10(): Buffer {
  if (poolOffset + 10 > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const slice = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return slice;
}

/**
 * RFC 9562 UUIDv7: 48-bit millisecond timestamp, version 7, 12-bit rand_a, variant 10,
 * 62 random bits. Ids made in the same millisecond use rand_a as a counter (seeded
 * randomly), so ids generated in order sort in order.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const rnd = random10();
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond.
      nowMs = ++lastMs;
      counter = rnd[0] & 0x3ff;
    }
  } else {
    lastMs = nowMs;
    counter = ((rnd[0] << 8) | rnd[1]) & 0x3ff; // leave headroom for the counter to grow
  }
  const b = Buffer.alloc(16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = 0x70 | ((counter >> 8) & 0x0f);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (rnd[2] & 0x3f);
  rnd.copy(b, 9, 3, 10);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
