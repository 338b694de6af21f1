/**
 * Parses and compiles an SNS subscription filter policy. Everything SNS would reject is
 * rejected here, once, when the subscription is configured, with SNS's own wording where it
 * is known ("FilterPolicy: Filter policy can not have more than 5 keys") plus the key at
 * fault; the publish path then only runs the compiled tests and never re-reads the JSON.
 *
 * Limits (SNS developer guide, "Filter policy constraints"):
 * - at most 5 keys, counted as the leaf keys (the ones holding a value array) across the
 *   whole policy, `$or` branches included; intermediate objects of a body policy do not count;
 * - at most 150 combinations: the product of the value-array lengths, where in a body policy
 *   a leaf's array counts its length times its nesting depth (the guide's
 *   `{"a":{"b":{"c":[4 values]}},"d":{"e":[3 values]}}` is 3x4 x 2x3 = 72), and an `$or`
 *   contributes the sum of its branches (the policy expanded into plain AND policies);
 * - 256 KB of JSON; numbers from -1e9 to 1e9 with at most 5 digits after the decimal point.
 */
import { HeraldError } from '../../errors.js';
import { keyTest, type Condition, type KeyTest } from './conditions.js';
import { parseCidr } from './ip-address.js';

export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

export const MAX_FILTER_POLICY_KEYS = 5;
export const MAX_FILTER_POLICY_COMBINATIONS = 150;
export const MAX_FILTER_POLICY_BYTES = 256 * 1024;
export const MAX_FILTER_POLICY_NUMBER = 1e9;
export const FILTER_POLICY_DECIMALS = 5;

/** Operator names; an `$or` branch using one as a key is not an `$or` (SNS treats "$or" as a key). */
const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
  'wildcard',
]);
const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);
const MATCH_VALUE = 'Match value must be String, number, true, false, or null';

export interface PolicyLeaf {
  key: string;
  test: KeyTest;
}

/** An AND of leaf keys, nested objects (body scope) and `$or` groups (each an OR of nodes). */
export interface PolicyNode {
  leaves: PolicyLeaf[];
  children: Array<{ key: string; node: PolicyNode }>;
  ors: PolicyNode[][];
}

export interface FilterPolicy {
  readonly scope: FilterPolicyScope;
  readonly root: PolicyNode;
  /** Leaf key paths, dotted for nested body keys ("order.price"). */
  readonly keys: readonly string[];
  readonly combinations: number;
}

export interface ParseFilterPolicyOptions {
  /** How error messages name the policy: "FilterPolicy" (SNS) or, say, "filterPolicy" (REST). */
  field?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));

export function parseFilterPolicyScope(v: unknown, field = 'FilterPolicyScope'): FilterPolicyScope {
  if (v === undefined || v === null) return 'MessageAttributes';
  if (v === 'MessageAttributes' || v === 'MessageBody') return v;
  throw new HeraldError(
    'invalid_request',
    `${field}: Invalid value [${show(v).slice(0, 100)}]. Please use either MessageBody or MessageAttributes`,
  );
}

export function parseFilterPolicy(
  policy: string | object,
  scope: FilterPolicyScope = 'MessageAttributes',
  options: ParseFilterPolicyOptions = {},
): FilterPolicy {
  const checkedScope = parseFilterPolicyScope(scope);
  const field = options.field ?? 'FilterPolicy';
  const fail = (reason: string, path?: string): HeraldError =>
    new HeraldError('invalid_request', `${field}: ${reason}${path === undefined ? '' : ` (at key "${path}")`}`);

  let text: string;
  if (typeof policy === 'string') {
    text = policy;
  } else {
    try {
      text = JSON.stringify(policy);
    } catch (error) {
      // JSON.stringify runs out of stack on absurdly deep objects before our depth check could.
      if (error instanceof RangeError) throw fail('Filter policy is too complex: nested too deeply');
      throw fail(`must be JSON: ${(error as Error).message}`);
    }
  }
  const bytes = Buffer.byteLength(text ?? '');
  if (bytes > MAX_FILTER_POLICY_BYTES) {
    throw fail(`Filter policy is too large: ${bytes} bytes; the limit is ${MAX_FILTER_POLICY_BYTES} (256 KB)`);
  }
  let json: unknown = policy;
  if (typeof policy === 'string') {
    try {
      json = JSON.parse(policy);
    } catch (error) {
      throw fail(`failed to parse JSON. ${(error as Error).message}`);
    }
  }
  if (!isObject(json)) throw fail('Filter policy must be a JSON object');

  const body = checkedScope === 'MessageBody';
  const leafKeys = new Set<string>();

  function checkNumber(n: number, path: string): number {
    if (!Number.isFinite(n) || Math.abs(n) > MAX_FILTER_POLICY_NUMBER) {
      throw fail(`Numeric value ${n} is out of range; numbers must be from -1000000000 to 1000000000`, path);
    }
    const scaled = n * 10 ** FILTER_POLICY_DECIMALS;
    // Near 1e9 a double holds 1e14 scaled with ~0.016 of slack, so a 6th decimal still shows.
    if (Math.abs(scaled - Math.round(scaled)) > 1e-3) {
      throw fail(`Numeric value ${n} has more than ${FILTER_POLICY_DECIMALS} digits after the decimal point`, path);
    }
    return n;
  }

  function numeric(v: unknown, path: string): Condition {
    if (!Array.isArray(v)) throw fail('Value of numeric must be an array.', path);
    if (v.length === 0) throw fail('Invalid member in numeric match: ]', path);
    const [op1, n1, op2, n2] = v as unknown[];
    if (typeof op1 !== 'string') throw fail(`Invalid member in numeric match: ${show(op1)}`, path);
    if (!NUMERIC_OPERATORS.has(op1)) throw fail(`Unrecognized numeric range operator: ${op1}`, path);
    if (typeof n1 !== 'number') throw fail(`Value of ${op1 === '=' ? 'equals' : op1} must be numeric`, path);
    checkNumber(n1, path);
    if (v.length === 2) {
      if (op1 === '=') return { kind: 'numeric', lower: n1, lowerInclusive: true, upper: n1, upperInclusive: true };
      if (op1 === '<' || op1 === '<=') {
        return { kind: 'numeric', lower: -Infinity, lowerInclusive: false, upper: n1, upperInclusive: op1 === '<=' };
      }
      return { kind: 'numeric', lower: n1, lowerInclusive: op1 === '>=', upper: Infinity, upperInclusive: false };
    }
    // A range: a lower bound first, then an upper bound.
    if (op1 !== '>' && op1 !== '>=') throw fail('Too many elements in numeric expression', path);
    if (typeof op2 !== 'string') throw fail(`Bad value in numeric range: ${show(op2)}`, path);
    if (op2 !== '<' && op2 !== '<=') throw fail(`Bad numeric range operator: ${op2}`, path);
    if (typeof n2 !== 'number') throw fail(`Value of ${op2} must be numeric`, path);
    checkNumber(n2, path);
    if (n2 <= n1) throw fail('Bottom must be less than top', path);
    if (v.length > 4) throw fail('Too many terms in numeric range expression', path);
    return { kind: 'numeric', lower: n1, lowerInclusive: op1 === '>=', upper: n2, upperInclusive: op2 === '<=' };
  }

  function anythingBut(v: unknown, path: string): Condition {
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length !== 1) throw fail('Only one key allowed in anything-but match expression', path);
      if (keys[0] !== 'prefix') throw fail(`Unsupported anything-but pattern: ${keys[0]}`, path);
      if (typeof v.prefix !== 'string') throw fail('prefix match pattern must be a string', path);
      return { kind: 'anything-but-prefix', prefix: v.prefix };
    }
    const list = Array.isArray(v) ? v : [v];
    if (Array.isArray(v) && v.length === 0) throw fail('Empty arrays are not allowed', path);
    const strings = new Set<string>();
    const numbers = new Set<number>();
    for (const item of list) {
      if (typeof item === 'string') strings.add(item);
      else if (typeof item === 'number') numbers.add(checkNumber(item, path));
      else if (Array.isArray(v)) throw fail('Inside anything but list, start|null|boolean is not supported.', path);
      else throw fail('Value of anything-but must be an array or single string/number value.', path);
    }
    return { kind: 'anything-but', strings, numbers };
  }

  function cidr(v: unknown, path: string): Condition {
    if (typeof v !== 'string') throw fail('cidr match pattern must be a string', path);
    const network = parseCidr(v);
    if (network === 'slash') throw fail("Malformed CIDR, one '/' required", path);
    if (network === 'mask') throw fail('Malformed CIDR, mask bits must be an integer', path);
    if (network === 'address') throw fail(`Nonstandard IP address: ${v.split('/')[0]}`, path);
    if (network === 'range') throw fail('Malformed CIDR, mask bits must be at most 32 for IPv4 or 128 for IPv6', path);
    return { kind: 'cidr', network };
  }

  function operator(expression: Record<string, unknown>, path: string): Condition {
    const names = Object.keys(expression);
    if (names.length === 0) throw fail('Empty objects are not allowed in a match expression', path);
    if (names.length > 1) throw fail('Only one key allowed in match expression', path);
    const name = names[0];
    const v = expression[name];
    switch (name) {
      case 'prefix':
      case 'suffix':
      case 'equals-ignore-case':
        if (typeof v !== 'string') throw fail(`${name} match pattern must be a string`, path);
        if (name === 'prefix') return { kind: 'prefix', prefix: v };
        if (name === 'suffix') return { kind: 'suffix', suffix: v };
        return { kind: 'equals-ignore-case', lower: v.toLowerCase() };
      case 'exists':
        if (typeof v !== 'boolean') throw fail('exists match pattern must be either true or false.', path);
        return { kind: 'exists', exists: v };
      case 'anything-but':
        return anythingBut(v, path);
      case 'numeric':
        return numeric(v, path);
      case 'cidr':
        return cidr(v, path);
      default:
        throw fail(`Unrecognized match type ${name}`, path);
    }
  }

  function leaf(values: unknown[], path: string): KeyTest {
    if (values.length === 0) throw fail('Empty arrays are not allowed', path);
    const strings = new Set<string>();
    const numbers = new Set<number>();
    const conditions: Condition[] = [];
    for (const v of values) {
      if (typeof v === 'string') strings.add(v);
      else if (typeof v === 'number') numbers.add(checkNumber(v, path));
      else if (typeof v === 'boolean' || v === null) conditions.push({ kind: 'literal', value: v });
      else if (isObject(v)) conditions.push(operator(v, path));
      else throw fail(MATCH_VALUE, path);
    }
    // Exact values become set lookups, so a long list costs one probe per message value.
    if (numbers.size > 0) conditions.unshift({ kind: 'numbers', values: numbers });
    if (strings.size > 0) conditions.unshift({ kind: 'strings', values: strings });
    return keyTest(conditions);
  }

  const isOrGroup = (v: unknown): v is Record<string, unknown>[] =>
    Array.isArray(v) && v.length >= 2 && v.every((b) => isObject(b) && !Object.keys(b).some((k) => OPERATORS.has(k)));

  function node(object: Record<string, unknown>, depth: number, prefix: string): { node: PolicyNode; combos: number } {
    const out: PolicyNode = { leaves: [], children: [], ors: [] };
    let combos = 1;
    const keys = Object.keys(object);
    if (keys.length === 0) throw fail('Empty objects are not allowed', prefix || undefined);
    for (const key of keys) {
      const v = object[key];
      const path = prefix ? `${prefix}.${key}` : key;
      if (key === '$or' && isOrGroup(v)) {
        const branches = v.map((b) => node(b, depth, prefix));
        out.ors.push(branches.map((b) => b.node));
        combos *= branches.reduce((sum, b) => sum + b.combos, 0);
      } else if (Array.isArray(v)) {
        out.leaves.push({ key, test: leaf(v, path) });
        leafKeys.add(path);
        combos *= v.length * (body ? depth : 1);
      } else if (isObject(v)) {
        if (!body) throw fail('Filter policy scope MessageAttributes does not support nested filter policy', path);
        // Each level multiplies a leaf's combinations, so no valid policy nests deeper than the limit.
        if (depth >= MAX_FILTER_POLICY_COMBINATIONS) throw fail('Filter policy is too complex', path);
        const child = node(v, depth + 1, path);
        out.children.push({ key, node: child.node });
        combos *= child.combos;
      } else {
        throw fail(`"${key}" must be an object or an array`, path);
      }
    }
    return { node: out, combos };
  }

  if (Object.keys(json).length === 0) {
    // `{}` filters nothing out, as a subscription without a policy.
    return { scope: checkedScope, root: { leaves: [], children: [], ors: [] }, keys: [], combinations: 0 };
  }
  const { node: root, combos } = node(json, 1, '');
  if (leafKeys.size > MAX_FILTER_POLICY_KEYS) {
    throw fail(
      `Filter policy can not have more than ${MAX_FILTER_POLICY_KEYS} keys; it has ${leafKeys.size}: ${[...leafKeys].join(', ')}`,
    );
  }
  if (combos > MAX_FILTER_POLICY_COMBINATIONS) {
    throw fail(
      `Filter policy is too complex: ${combos} combinations of values; the limit is ${MAX_FILTER_POLICY_COMBINATIONS}`,
    );
  }
  return { scope: checkedScope, root, keys: [...leafKeys], combinations: combos };
}
