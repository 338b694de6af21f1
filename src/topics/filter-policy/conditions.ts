/**
 * One key's match values, compiled: the array a filter policy gives a key (`"store": [...]`)
 * becomes a single `(values) => boolean` test. A key matches when ANY of its conditions
 * matches ANY of the message's values for it (a String.Array attribute or a JSON array in the
 * body yields several values); `exists` looks at the key as a whole instead.
 *
 * Types are strict, as in SNS: numbers (a `Number` attribute, a JSON number) only meet
 * numeric conditions and numeric exact values; strings only meet string operators. `300`
 * equals `3.0e2`, but a `String` attribute "300" does not equal the policy number 300.
 */
import { networkContains, parseIpAddress, type IpNetwork } from './ip-address.js';

/** A leaf value of a message: a string, number, boolean or null. Objects never reach a test. */
export type Scalar = string | number | boolean | null;

export type Condition =
  | { kind: 'exists'; exists: boolean }
  | { kind: 'strings'; values: Set<string> }
  | { kind: 'numbers'; values: Set<number> }
  | { kind: 'literal'; value: boolean | null }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'suffix'; suffix: string }
  | { kind: 'equals-ignore-case'; lower: string }
  | { kind: 'anything-but'; strings: Set<string>; numbers: Set<number> }
  | { kind: 'anything-but-prefix'; prefix: string }
  | { kind: 'numeric'; lower: number; lowerInclusive: boolean; upper: number; upperInclusive: boolean }
  | { kind: 'cidr'; network: IpNetwork };

export type KeyTest = (values: readonly Scalar[]) => boolean;

function valueMatches(c: Condition, v: Scalar): boolean {
  switch (c.kind) {
    case 'strings':
      return typeof v === 'string' && c.values.has(v);
    case 'numbers':
      return typeof v === 'number' && c.values.has(v);
    case 'literal':
      return v === c.value;
    case 'prefix':
      return typeof v === 'string' && v.startsWith(c.prefix);
    case 'suffix':
      return typeof v === 'string' && v.endsWith(c.suffix);
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === c.lower;
    case 'anything-but':
      // The key must carry a value; any value not listed matches, whatever its type.
      if (typeof v === 'string') return !c.strings.has(v);
      if (typeof v === 'number') return !c.numbers.has(v);
      return v !== null;
    case 'anything-but-prefix':
      return typeof v === 'string' && !v.startsWith(c.prefix);
    case 'numeric':
      return (
        typeof v === 'number' &&
        (c.lowerInclusive ? v >= c.lower : v > c.lower) &&
        (c.upperInclusive ? v <= c.upper : v < c.upper)
      );
    case 'cidr': {
      if (typeof v !== 'string') return false;
      const address = parseIpAddress(v);
      return address !== null && networkContains(c.network, address);
    }
    case 'exists':
      return false; // handled per key, not per value
  }
}

/** "exists": true needs a non-null value; an empty array, null or a nested object is not one. */
export const isPresent = (values: readonly Scalar[]): boolean => values.some((v) => v !== null);

export function keyTest(conditions: Condition[]): KeyTest {
  if (conditions.length === 1) {
    const [c] = conditions;
    if (c.kind === 'exists') return (values) => isPresent(values) === c.exists;
    if (c.kind === 'strings') return (values) => values.some((v) => typeof v === 'string' && c.values.has(v));
  }
  return (values) => {
    for (const c of conditions) {
      if (c.kind === 'exists') {
        if (isPresent(values) === c.exists) return true;
      } else {
        for (const v of values) if (valueMatches(c, v)) return true;
      }
    }
    return false;
  };
}
