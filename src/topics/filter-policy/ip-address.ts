/**
 * IP addresses and CIDR networks for the `cidr` filter operator. Pure and strict: an address
 * is a canonical dotted quad (no leading zeros, which some parsers read as octal) or an IPv6
 * address in RFC 4291 text form (with `::` and an embedded IPv4 tail), nothing else. An IPv4
 * address never matches an IPv6 network, or the reverse, IPv4-mapped or not: SNS compares
 * the text it is given, and a mapped address is a different string.
 */

export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

export interface IpNetwork {
  version: 4 | 6;
  /** The network address with host bits cleared. */
  base: bigint;
  prefixLength: number;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

export function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!OCTET.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

export function parseIpv6(text: string): bigint | null {
  if (text.length < 2 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): bigint[] | null => {
    if (half === '') return [];
    const out: bigint[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (HEXTET.test(part)) {
        out.push(BigInt(parseInt(part, 16)));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 tail is only allowed at the very end of the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  let value = 0n;
  for (const g of [...head, ...new Array<bigint>(halves.length === 2 ? missing : 0).fill(0n), ...tail]) {
    value = (value << 16n) | g;
  }
  return value;
}

export function parseIpAddress(text: string): IpAddress | null {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === null ? null : { version: 6, value };
  }
  const value = parseIpv4(text);
  return value === null ? null : { version: 4, value };
}

/** Why a CIDR text is not one: no single "/", mask bits not an integer, bad address, mask too long. */
export type CidrProblem = 'slash' | 'mask' | 'address' | 'range';

/** A CIDR block such as `10.0.0.0/24` or `2001:db8::/32`; host bits are cleared, as SNS does. */
export function parseCidr(text: string): IpNetwork | CidrProblem {
  const parts = text.split('/');
  if (parts.length !== 2) return 'slash';
  const [addressText, maskText] = parts;
  if (!/^\d{1,3}$/.test(maskText)) return 'mask';
  const address = parseIpAddress(addressText);
  if (address === null) return 'address';
  const width = address.version === 4 ? 32 : 128;
  const prefixLength = Number(maskText);
  if (prefixLength > width) return 'range';
  return { version: address.version, base: maskOf(address.value, width, prefixLength), prefixLength };
}

function maskOf(value: bigint, width: number, prefixLength: number): bigint {
  const hostBits = BigInt(width - prefixLength);
  return (value >> hostBits) << hostBits;
}

export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  if (network.version !== address.version) return false;
  const width = network.version === 4 ? 32 : 128;
  return maskOf(address.value, width, network.prefixLength) === network.base;
}
