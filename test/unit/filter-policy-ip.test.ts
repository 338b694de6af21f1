import { describe, expect, it } from 'vitest';
import {
  networkContains,
  parseCidr,
  parseIpAddress,
  parseIpv4,
  parseIpv6,
  type IpNetwork,
} from '../../src/topics/filter-policy/ip-address.js';

describe('parseIpv4', () => {
  it.each([
    ['0.0.0.0', 0n],
    ['10.0.0.1', 0x0a000001n],
    ['192.168.1.255', 0xc0a801ffn],
    ['255.255.255.255', 0xffffffffn],
  ])('reads %s', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.0',
    '1.2.3.1000',
    '01.2.3.4', // leading zeros read as octal by some parsers
    '1.2.3.-4',
    '+1.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    'a.b.c.d',
    '1..3.4',
    '1.2.3.4/32',
    '0x1.2.3.4',
  ])('rejects %j', (text) => {
    expect(parseIpv4(text)).toBeNull();
  });
});

describe('parseIpv6', () => {
  it.each([
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['2001:DB8::1', 0x20010db8000000000000000000000001n],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 0x20010db8000000000000000000000001n],
    ['1:2:3:4:5:6:7:8', 0x00010002000300040005000600070008n],
    ['1::8', 0x00010000000000000000000000000008n],
    ['1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['::ffff:192.0.2.1', 0xffffc0000201n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', (1n << 128n) - 1n],
  ])('reads %s', (text, value) => {
    expect(parseIpv6(text)).toBe(value);
  });

  it.each([
    '',
    ':',
    ':::',
    ':1',
    '1:',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    'g::',
    '1.2.3.4::',
    '::1.2.3',
    '::256.1.1.1',
    '1:2:3:4:5:6:7:1.2.3.4', // nine groups
    '1::2:3:4:5:6:7:8', // "::" must stand for at least one group
    '::1.2.3.4:5',
    'fe80::1%eth0',
    ' ::1',
    '[::1]',
  ])('rejects %j', (text) => {
    expect(parseIpv6(text)).toBeNull();
  });
});

describe('parseIpAddress', () => {
  it('tells the versions apart by the colon', () => {
    expect(parseIpAddress('10.0.0.1')).toEqual({ version: 4, value: 0x0a000001n });
    expect(parseIpAddress('::a00:1')).toEqual({ version: 6, value: 0x0a000001n });
    expect(parseIpAddress('nope')).toBeNull();
    expect(parseIpAddress('1.2.3.4:80')).toBeNull();
  });
});

describe('parseCidr', () => {
  it('clears host bits', () => {
    expect(parseCidr('10.0.0.77/24')).toEqual({ version: 4, base: 0x0a000000n, prefixLength: 24 });
    expect(parseCidr('2001:db8::1/32')).toEqual({ version: 6, base: 0x20010db8n << 96n, prefixLength: 32 });
    expect(parseCidr('1.2.3.4/0')).toEqual({ version: 4, base: 0n, prefixLength: 0 });
    expect(parseCidr('1.2.3.4/32')).toEqual({ version: 4, base: 0x01020304n, prefixLength: 32 });
    expect(parseCidr('::1/128')).toEqual({ version: 6, base: 1n, prefixLength: 128 });
  });

  it.each([
    ['10.0.0.0', 'slash'],
    ['10.0.0.0/8/8', 'slash'],
    ['10.0.0.0/', 'mask'],
    ['10.0.0.0/x', 'mask'],
    ['10.0.0.0/-1', 'mask'],
    ['10.0.0.0/8.5', 'mask'],
    ['10.0.0.0/1000', 'mask'],
    ['10.0.0.0/33', 'range'],
    ['::/129', 'range'],
    ['10.0.0.256/24', 'address'],
    ['10.0.0/24', 'address'],
    ['/24', 'address'],
    ['2001:db8:::/32', 'address'],
  ])('%s is a %s problem', (text, problem) => {
    expect(parseCidr(text)).toBe(problem);
  });
});

describe('networkContains', () => {
  const net = (text: string) => parseCidr(text) as IpNetwork;
  const ip = (text: string) => parseIpAddress(text)!;

  it.each([
    ['10.0.0.0/24', '10.0.0.0', true],
    ['10.0.0.0/24', '10.0.0.255', true],
    ['10.0.0.0/24', '10.0.1.0', false],
    ['10.0.0.0/24', '9.255.255.255', false],
    ['10.0.0.0/8', '10.255.1.2', true],
    ['0.0.0.0/0', '255.255.255.255', true],
    ['192.168.1.1/32', '192.168.1.1', true],
    ['192.168.1.1/32', '192.168.1.2', false],
    ['10.0.0.0/31', '10.0.0.1', true],
    ['10.0.0.0/31', '10.0.0.2', false],
    ['2001:db8::/32', '2001:db8::1', true],
    ['2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
    ['2001:db8::/32', '2001:db9::', false],
    ['::/0', '::1', true],
    ['::1/128', '::1', true],
    ['::1/128', '::2', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
  ])('%s contains %s: %s', (cidr, address, expected) => {
    expect(networkContains(net(cidr), ip(address))).toBe(expected);
  });

  it('never mixes versions, IPv4-mapped or not', () => {
    expect(networkContains(net('0.0.0.0/0'), ip('::1'))).toBe(false);
    expect(networkContains(net('::/0'), ip('10.0.0.1'))).toBe(false);
    expect(networkContains(net('10.0.0.0/8'), ip('::ffff:10.0.0.1'))).toBe(false);
  });
});
