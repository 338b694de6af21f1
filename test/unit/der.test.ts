import { describe, expect, it } from 'vitest';
import * as der from '../../src/aws/der.js';

const hex = (b: Buffer) => b.toString('hex');

// Expected encodings are worked by hand from ITU-T X.690 and checked against the examples in
// RFC 5280 / "A Layman's Guide to a Subset of ASN.1, BER, and DER".
describe('der', () => {
  it('writes definite lengths in short and long form', () => {
    expect(hex(der.tlv(0x04, Buffer.alloc(0)))).toBe('0400');
    expect(hex(der.tlv(0x04, Buffer.alloc(127))).slice(0, 4)).toBe('047f');
    expect(hex(der.tlv(0x04, Buffer.alloc(128))).slice(0, 6)).toBe('048180');
    expect(hex(der.tlv(0x04, Buffer.alloc(200))).slice(0, 6)).toBe('0481c8');
    expect(hex(der.tlv(0x04, Buffer.alloc(256))).slice(0, 8)).toBe('04820100');
    expect(hex(der.tlv(0x04, Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
    expect(hex(der.tlv(0x04, Buffer.alloc(70_000))).slice(0, 10)).toBe('0483011170');
    expect(der.tlv(0x04, Buffer.alloc(70_000))).toHaveLength(70_005);
  });

  it('encodes INTEGERs minimally, with a leading zero when the top bit is set', () => {
    expect(hex(der.smallInteger(0))).toBe('020100');
    expect(hex(der.smallInteger(2))).toBe('020102');
    expect(hex(der.smallInteger(127))).toBe('02017f');
    expect(hex(der.smallInteger(128))).toBe('02020080');
    expect(hex(der.smallInteger(256))).toBe('02020100');
    expect(hex(der.smallInteger(65537))).toBe('0203010001');
    expect(hex(der.unsignedInteger(Buffer.from('000005', 'hex')))).toBe('020105');
    expect(hex(der.unsignedInteger(Buffer.from('0000', 'hex')))).toBe('020100');
    expect(hex(der.unsignedInteger(Buffer.from('ff01', 'hex')))).toBe('020300ff01');
    expect(() => der.smallInteger(-1)).toThrow(RangeError);
    expect(() => der.smallInteger(1.5)).toThrow(RangeError);
  });

  it('encodes OBJECT IDENTIFIERs', () => {
    expect(hex(der.oid('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b'); // sha256WithRSAEncryption
    expect(hex(der.oid('1.2.840.113549.1.1.1'))).toBe('06092a864886f70d010101'); // rsaEncryption
    expect(hex(der.oid('2.5.4.3'))).toBe('0603550403'); // commonName
    expect(hex(der.oid('2.5.29.19'))).toBe('0603551d13'); // basicConstraints
    expect(hex(der.oid('2.999.3'))).toBe('0603883703'); // X.690 8.19.5 example
    for (const bad of ['', '1', '3.1', '1.40', 'a.b', '1..2']) expect(() => der.oid(bad), bad).toThrow(RangeError);
  });

  it('encodes the simple types', () => {
    expect(hex(der.nullValue())).toBe('0500');
    expect(hex(der.boolean(true))).toBe('0101ff');
    expect(hex(der.boolean(false))).toBe('010100');
    expect(hex(der.utf8String('✓'))).toBe('0c03e29c93');
    expect(hex(der.octetString(Buffer.from('0102', 'hex')))).toBe('04020102');
    expect(hex(der.bitString(Buffer.from('ff', 'hex')))).toBe('030200ff');
    expect(hex(der.sequence())).toBe('3000');
    expect(hex(der.sequence(der.nullValue(), der.boolean(true)))).toBe('30050500' + '0101ff');
    expect(hex(der.set(der.nullValue()))).toBe('31020500');
    expect(hex(der.explicit(0, der.smallInteger(2)))).toBe('a003020102');
    expect(hex(der.explicit(3, der.sequence()))).toBe('a3023000');
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050, in whole UTC seconds', () => {
    expect(der.time(Date.UTC(2026, 10, 23, 11, 0, 0, 999)).toString('latin1')).toBe('\x17\x0d261123110000Z');
    expect(der.time(Date.UTC(1950, 0, 1)).toString('latin1')).toBe('\x17\x0d500101000000Z');
    expect(der.time(Date.UTC(2049, 11, 31, 23, 59, 59)).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(der.time(Date.UTC(2050, 0, 1)).toString('latin1')).toBe('\x18\x0f20500101000000Z');
    expect(() => der.time(Date.UTC(1949, 11, 31))).toThrow(RangeError);
  });
});
