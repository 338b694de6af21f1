/** hexDigest matches createHash for both algorithms, for UTF-8 strings and bytes alike. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hexDigest } from '../../src/digest.js';

describe('hexDigest', () => {
  it.each(['md5', 'sha256'] as const)('%s of strings (as UTF-8) and bytes', (algorithm) => {
    const inputs: Array<string | Uint8Array> = ['', 'abc', 'größe ✓ 🚀', 'x'.repeat(70_000), Buffer.from([0, 255, 1])];
    for (const input of inputs) {
      expect(hexDigest(algorithm, input)).toBe(createHash(algorithm).update(input).digest('hex'));
    }
    expect(hexDigest('md5', 'abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
  });
});
