/**
 * The few ASN.1 DER encodings a minimal X.509 certificate needs (ITU-T X.690). Node's crypto
 * can parse certificates but not create them; this is the writing half, and nothing more.
 * Each function returns the complete encoding: tag, definite length, contents.
 */

const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
} as const;

/** Tag, then the length in short form (< 128) or long form (0x80 | byte count, big-endian bytes). */
export function tlv(tag: number, contents: Uint8Array): Buffer {
  const n = contents.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.of(n);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    length = Buffer.of(0x80 | bytes.length, ...bytes);
  }
  return Buffer.concat([Buffer.of(tag), length, contents]);
}

export const sequence = (...items: Uint8Array[]) => tlv(TAG.sequence, Buffer.concat(items));
export const set = (...items: Uint8Array[]) => tlv(TAG.set, Buffer.concat(items));
export const nullValue = () => tlv(TAG.null, Buffer.alloc(0));
export const boolean = (value: boolean) => tlv(TAG.boolean, Buffer.of(value ? 0xff : 0x00));
export const octetString = (bytes: Uint8Array) => tlv(TAG.octetString, bytes);
export const utf8String = (text: string) => tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
/** A BIT STRING of whole bytes: the leading octet says no bits of the last byte are unused. */
export const bitString = (bytes: Uint8Array) => tlv(TAG.bitString, Buffer.concat([Buffer.of(0), bytes]));
/** Context-specific, constructed, explicit tag [n] around one element. */
export const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);

/** A non-negative INTEGER given as big-endian bytes: minimal, with a 0x00 in front when the top bit is set. */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const minimal = Buffer.from(bytes.subarray(start));
  if (minimal.length === 0) return tlv(TAG.integer, Buffer.of(0));
  return tlv(TAG.integer, minimal[0] & 0x80 ? Buffer.concat([Buffer.of(0), minimal]) : minimal);
}

export const smallInteger = (n: number) => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`integer out of range: ${n}`);
  return unsignedInteger(Buffer.from(n.toString(16).padStart(8, '0'), 'hex'));
};

/** OBJECT IDENTIFIER from dotted form: first two arcs as 40·a + b, each arc base-128 with continuation bits. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`not an object identifier: ${dotted}`);
    return Number(a);
  });
  if (arcs.length < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39))
    throw new RangeError(`not an object identifier: ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

/**
 * An X.509 Time (RFC 5280 4.1.2.5): UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime
 * YYYYMMDDHHMMSSZ from 2050; whole seconds, always UTC.
 */
export function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // 2026-11-23T11:00:00.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = Number(iso.slice(0, 4));
  if (year < 1950 || year > 9999) throw new RangeError(`certificate time out of range: ${iso}`);
  return year < 2050
    ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(TAG.generalizedTime, Buffer.from(digits, 'ascii'));
}
