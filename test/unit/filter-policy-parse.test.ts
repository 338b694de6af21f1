import { describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/errors.js';
import {
  MAX_FILTER_POLICY_BYTES,
  parseFilterPolicy,
  parseFilterPolicyScope,
  type FilterPolicyScope,
} from '../../src/topics/filter-policy/index.js';

function errorOf(policy: string | object, scope: FilterPolicyScope = 'MessageAttributes'): HeraldError {
  try {
    parseFilterPolicy(policy, scope);
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    const e = error as HeraldError;
    expect(e.code).toBe('invalid_request');
    expect(e.status).toBe(400);
    return e;
  }
  throw new Error(`accepted: ${typeof policy === 'string' ? policy : JSON.stringify(policy)}`);
}

const message = (policy: string | object, scope?: FilterPolicyScope) => errorOf(policy, scope).message;
const values = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const keysObject = (n: number, each = 1) => Object.fromEntries(values(n, 'key').map((k) => [k, values(each)]));

describe('parseFilterPolicy: JSON and shape', () => {
  it('accepts the policy as JSON text or as an object, with the same result', () => {
    const text = '{"store":["example_corp"],"price_usd":[{"numeric":[">=",100]}]}';
    const a = parseFilterPolicy(text);
    const b = parseFilterPolicy(JSON.parse(text) as object);
    expect(a.keys).toEqual(['store', 'price_usd']);
    expect(b.keys).toEqual(a.keys);
    expect(a.combinations).toBe(1);
    expect(a.scope).toBe('MessageAttributes');
  });

  it('defaults to the MessageAttributes scope', () => {
    expect(parseFilterPolicy({ a: ['x'] }).scope).toBe('MessageAttributes');
    expect(parseFilterPolicy({ a: ['x'] }, undefined).scope).toBe('MessageAttributes');
    expect(parseFilterPolicy({ a: ['x'] }, 'MessageBody').scope).toBe('MessageBody');
  });

  it('takes {} as no filter at all', () => {
    const p = parseFilterPolicy('{}');
    expect(p.keys).toEqual([]);
    expect(parseFilterPolicy({}, 'MessageBody').keys).toEqual([]);
  });

  it.each([
    ['not json', /^FilterPolicy: failed to parse JSON\. /],
    ['{"a": ["x"],}', /^FilterPolicy: failed to parse JSON\. /],
    ['', /^FilterPolicy: failed to parse JSON\. /],
    ['[]', /^FilterPolicy: Filter policy must be a JSON object$/],
    ['[{"a": ["x"]}]', /^FilterPolicy: Filter policy must be a JSON object$/],
    ['null', /^FilterPolicy: Filter policy must be a JSON object$/],
    ['"a"', /^FilterPolicy: Filter policy must be a JSON object$/],
    ['42', /^FilterPolicy: Filter policy must be a JSON object$/],
  ])('rejects %j', (policy, expected) => {
    expect(message(policy)).toMatch(expected);
  });

  it('rejects objects that are not JSON', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(message(cyclic)).toMatch(/^FilterPolicy: must be JSON: /);
    expect(message({ a: [1n] } as object)).toMatch(/^FilterPolicy: must be JSON: /);
  });

  it.each([
    [{ store: 'example_corp' }, '"store" must be an object or an array (at key "store")'],
    [{ store: 5 }, '"store" must be an object or an array'],
    [{ store: null }, '"store" must be an object or an array'],
    [{ store: true }, '"store" must be an object or an array'],
    [{ store: undefined }, '"store" must be an object or an array'],
    [{ store: [] }, 'Empty arrays are not allowed (at key "store")'],
    [{ store: [['a']] }, 'Match value must be String, number, true, false, or null (at key "store")'],
    [{ store: [undefined] }, 'Match value must be String, number, true, false, or null'],
    [{ store: [{}] }, 'Empty objects are not allowed in a match expression (at key "store")'],
    [{ store: [{ prefix: 'a', suffix: 'b' }] }, 'Only one key allowed in match expression'],
    [{ store: [{ contains: 'x' }] }, 'Unrecognized match type contains (at key "store")'],
    [{ store: [{ wildcard: 'a*' }] }, 'Unrecognized match type wildcard'],
    [{ store: [{ Prefix: 'a' }] }, 'Unrecognized match type Prefix'],
  ])('rejects %j: %s', (policy, expected) => {
    expect(message(policy)).toContain(`FilterPolicy: ${expected}`);
  });

  it('names the nested key at fault with a dotted path', () => {
    expect(message({ order: { price: [{ numeric: ['>', 'x'] }] } }, 'MessageBody')).toBe(
      'FilterPolicy: Value of > must be numeric (at key "order.price")',
    );
    expect(message({ order: { items: {} } }, 'MessageBody')).toBe(
      'FilterPolicy: Empty objects are not allowed (at key "order.items")',
    );
  });

  it('uses the field name it is given', () => {
    expect(() => parseFilterPolicy({ a: [] }, 'MessageAttributes', { field: 'filterPolicy' })).toThrow(
      'filterPolicy: Empty arrays are not allowed (at key "a")',
    );
  });
});

describe('parseFilterPolicy: scope', () => {
  it('rejects nesting in the MessageAttributes scope and allows it in MessageBody', () => {
    const nested = { store: { name: ['example_corp'] } };
    expect(message(nested)).toBe(
      'FilterPolicy: Filter policy scope MessageAttributes does not support nested filter policy (at key "store")',
    );
    expect(parseFilterPolicy(nested, 'MessageBody').keys).toEqual(['store.name']);
  });

  it('rejects nesting inside $or branches in the MessageAttributes scope', () => {
    expect(message({ $or: [{ a: ['x'] }, { b: { c: ['y'] } }] })).toContain(
      'does not support nested filter policy (at key "b")',
    );
  });

  it('rejects an unknown scope, in SNS words', () => {
    expect(() => parseFilterPolicy({ a: ['x'] }, 'Body' as FilterPolicyScope)).toThrow(
      'FilterPolicyScope: Invalid value [Body]. Please use either MessageBody or MessageAttributes',
    );
    expect(() => parseFilterPolicyScope('messagebody')).toThrow(/^FilterPolicyScope: Invalid value \[messagebody\]/);
    expect(() => parseFilterPolicyScope(3)).toThrow('Invalid value [3]');
    expect(parseFilterPolicyScope(undefined)).toBe('MessageAttributes');
    expect(parseFilterPolicyScope(null)).toBe('MessageAttributes');
    expect(parseFilterPolicyScope('MessageBody')).toBe('MessageBody');
  });
});

describe('parseFilterPolicy: operators', () => {
  it.each([
    [[{ prefix: 5 }], 'prefix match pattern must be a string'],
    [[{ prefix: null }], 'prefix match pattern must be a string'],
    [[{ suffix: ['a'] }], 'suffix match pattern must be a string'],
    [[{ 'equals-ignore-case': 1 }], 'equals-ignore-case match pattern must be a string'],
    [[{ exists: 'true' }], 'exists match pattern must be either true or false.'],
    [[{ exists: 1 }], 'exists match pattern must be either true or false.'],
    [[{ exists: null }], 'exists match pattern must be either true or false.'],
    [[{ 'anything-but': true }], 'Value of anything-but must be an array or single string/number value.'],
    [[{ 'anything-but': null }], 'Value of anything-but must be an array or single string/number value.'],
    [[{ 'anything-but': [] }], 'Empty arrays are not allowed'],
    [[{ 'anything-but': [true] }], 'Inside anything but list, start|null|boolean is not supported.'],
    [[{ 'anything-but': ['a', null] }], 'Inside anything but list, start|null|boolean is not supported.'],
    [[{ 'anything-but': [['a']] }], 'Inside anything but list, start|null|boolean is not supported.'],
    [[{ 'anything-but': [{ prefix: 'a' }] }], 'Inside anything but list, start|null|boolean is not supported.'],
    [[{ 'anything-but': { suffix: 'x' } }], 'Unsupported anything-but pattern: suffix'],
    [[{ 'anything-but': { 'equals-ignore-case': 'x' } }], 'Unsupported anything-but pattern: equals-ignore-case'],
    [[{ 'anything-but': { prefix: 1 } }], 'prefix match pattern must be a string'],
    [[{ 'anything-but': { prefix: 'a', suffix: 'b' } }], 'Only one key allowed in anything-but match expression'],
    [[{ 'anything-but': {} }], 'Only one key allowed in anything-but match expression'],
    [[{ numeric: 5 }], 'Value of numeric must be an array.'],
    [[{ numeric: '>5' }], 'Value of numeric must be an array.'],
    [[{ numeric: [] }], 'Invalid member in numeric match: ]'],
    [[{ numeric: [5] }], 'Invalid member in numeric match: 5'],
    [[{ numeric: [5, '>'] }], 'Invalid member in numeric match: 5'],
    [[{ numeric: ['!=', 5] }], 'Unrecognized numeric range operator: !='],
    [[{ numeric: ['=='] }], 'Unrecognized numeric range operator: =='],
    [[{ numeric: ['>'] }], 'Value of > must be numeric'],
    [[{ numeric: ['=', '5'] }], 'Value of equals must be numeric'],
    [[{ numeric: ['<=', null] }], 'Value of <= must be numeric'],
    [[{ numeric: ['<', 5, '>', 0] }], 'Too many elements in numeric expression'],
    [[{ numeric: ['=', 5, '<', 6] }], 'Too many elements in numeric expression'],
    [[{ numeric: ['<=', 5, 6] }], 'Too many elements in numeric expression'],
    [[{ numeric: ['>', 0, 5, 6] }], 'Bad value in numeric range: 5'],
    [[{ numeric: ['>', 0, '>', 6] }], 'Bad numeric range operator: >'],
    [[{ numeric: ['>', 0, '=', 6] }], 'Bad numeric range operator: ='],
    [[{ numeric: ['>', 0, '<'] }], 'Value of < must be numeric'],
    [[{ numeric: ['>=', 0, '<=', 'x'] }], 'Value of <= must be numeric'],
    [[{ numeric: ['>', 10, '<', 5] }], 'Bottom must be less than top'],
    [[{ numeric: ['>=', 5, '<=', 5] }], 'Bottom must be less than top'],
    [[{ numeric: ['>', 0, '<', 10, '<', 20] }], 'Too many terms in numeric range expression'],
    [[{ numeric: ['>', 0, '<', 10, 'x'] }], 'Too many terms in numeric range expression'],
    [[{ cidr: 5 }], 'cidr match pattern must be a string'],
    [[{ cidr: '10.0.0.0' }], "Malformed CIDR, one '/' required"],
    [[{ cidr: '10.0.0.0/8/8' }], "Malformed CIDR, one '/' required"],
    [[{ cidr: '10.0.0.0/x' }], 'Malformed CIDR, mask bits must be an integer'],
    [[{ cidr: '10.0.0.0/-1' }], 'Malformed CIDR, mask bits must be an integer'],
    [[{ cidr: '10.0.0.0/33' }], 'Malformed CIDR, mask bits must be at most 32 for IPv4 or 128 for IPv6'],
    [[{ cidr: '2001:db8::/129' }], 'Malformed CIDR, mask bits must be at most 32 for IPv4 or 128 for IPv6'],
    [[{ cidr: '10.0.0.256/24' }], 'Nonstandard IP address: 10.0.0.256'],
    [[{ cidr: '010.0.0.0/8' }], 'Nonstandard IP address: 010.0.0.0'],
    [[{ cidr: 'fe80::1%eth0/64' }], 'Nonstandard IP address: fe80::1%eth0'],
  ])('rejects %j: %s', (matchValues, expected) => {
    expect(message({ key: matchValues })).toBe(`FilterPolicy: ${expected} (at key "key")`);
  });

  it('accepts every operator in every documented form', () => {
    const forms = {
      a: ['rugby', 300, 3.0e2, true, false, null, { prefix: '' }, { suffix: 'ball' }, { 'equals-ignore-case': 'X' }],
      b: [
        { 'anything-but': 'x' },
        { 'anything-but': 5 },
        { 'anything-but': ['x', 'y'] },
        { 'anything-but': [1, 2] },
        { 'anything-but': ['x', 1] },
        { 'anything-but': { prefix: 'order-' } },
        { exists: false },
      ],
      c: [
        { numeric: ['=', 301.5] },
        { numeric: ['<', 0] },
        { numeric: ['<=', 0] },
        { numeric: ['>', 0] },
        { numeric: ['>=', 0] },
        { numeric: ['>', 0, '<=', 150] },
        { numeric: ['>=', -1e9, '<', 1e9] },
      ],
      d: [{ cidr: '10.0.0.0/24' }, { cidr: '10.0.0.1/32' }, { cidr: '0.0.0.0/0' }, { cidr: '2001:db8::/32' }],
      e: [{ exists: true }],
    };
    for (const [key, matchValues] of Object.entries(forms)) {
      expect(parseFilterPolicy({ [key]: matchValues }).combinations).toBe(matchValues.length);
      expect(parseFilterPolicy({ [key]: matchValues }, 'MessageBody').keys).toEqual([key]);
    }
  });
});

describe('parseFilterPolicy: numbers', () => {
  it.each([1e9, -1e9, 0, -0, 0.00001, 1.12345, -999999999.99999, 999999999.99999, 3.015e2])(
    'accepts %d (within ±1e9, at most 5 decimals)',
    (n) => {
      expect(() => parseFilterPolicy({ a: [n] })).not.toThrow();
      expect(() => parseFilterPolicy({ a: [{ numeric: ['=', n] }] })).not.toThrow();
      expect(() => parseFilterPolicy({ a: [{ 'anything-but': n }] })).not.toThrow();
    },
  );

  it.each([1e9 + 1, -1e9 - 1, 1000000000.00001, 1e10, -2e9, Infinity, -Infinity, NaN])(
    'rejects %d as out of range, wherever it appears',
    (n) => {
      const expected = `FilterPolicy: Numeric value ${n} is out of range; numbers must be from -1000000000 to 1000000000 (at key "a")`;
      expect(message({ a: [n] })).toBe(expected);
      expect(message({ a: [{ numeric: ['<', n] }] })).toBe(expected);
      expect(message({ a: [{ numeric: ['>', -1e9, '<', n] }] })).toBe(expected);
      expect(message({ a: [{ 'anything-but': [1, n] }] })).toBe(expected);
    },
  );

  it.each([0.000001, 1.123456, 999999999.999999, -0.1234567, 1e-7])(
    'rejects %d: more than 5 digits after the decimal point',
    (n) => {
      const expected = `FilterPolicy: Numeric value ${n} has more than 5 digits after the decimal point (at key "a")`;
      expect(message({ a: [n] })).toBe(expected);
      expect(message({ a: [{ numeric: ['>=', n] }] })).toBe(expected);
      expect(message({ a: [{ 'anything-but': n }] })).toBe(expected);
    },
  );

  it('checks numbers written in JSON text the same way', () => {
    expect(() => parseFilterPolicy('{"a": [1e9]}')).not.toThrow();
    expect(message('{"a": [1e10]}')).toContain('Numeric value 10000000000 is out of range');
    expect(message('{"a": [1.0000001]}')).toContain('more than 5 digits');
  });
});

describe('parseFilterPolicy: $or', () => {
  it('recognises $or with at least two object branches', () => {
    const p = parseFilterPolicy({
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
    });
    expect(p.keys).toEqual(['source', 'metricName', 'namespace']);
    expect(p.root.ors).toHaveLength(1);
    expect(p.root.ors[0]).toHaveLength(2);
  });

  it('treats "$or" as a plain key when its branches use operator names (SNS docs)', () => {
    // "{"$or": [{"numeric": 123}, {"prefix": "abc"}]}" is not parsed as an OR relationship.
    expect(message({ $or: [{ numeric: 123 }, { prefix: 'abc' }] })).toBe(
      'FilterPolicy: Value of numeric must be an array. (at key "$or")',
    );
    const p = parseFilterPolicy({ $or: [{ prefix: 'abc' }, { suffix: 'xyz' }] });
    expect(p.keys).toEqual(['$or']);
    expect(p.root.ors).toHaveLength(0);
  });

  it('treats "$or" with fewer than two branches as a plain key', () => {
    expect(message({ $or: [{ a: ['x'] }] })).toBe('FilterPolicy: Unrecognized match type a (at key "$or")');
    expect(message({ $or: [] })).toBe('FilterPolicy: Empty arrays are not allowed (at key "$or")');
    expect(message({ $or: 'x' })).toBe('FilterPolicy: "$or" must be an object or an array (at key "$or")');
  });

  it('rejects an empty branch', () => {
    expect(message({ $or: [{}, { a: ['x'] }] })).toBe('FilterPolicy: Empty objects are not allowed');
  });

  it('nests, at the top level and inside body objects', () => {
    const nested = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { $or: [{ metricType: ['x'] }, { namespace: ['y'] }] }],
    };
    expect(parseFilterPolicy(nested).combinations).toBe(1 * (2 + (1 + 1)));
    const body = parseFilterPolicy({ detail: { $or: [{ state: ['ALARM'] }, { previous: ['OK'] }] } }, 'MessageBody');
    expect(body.keys).toEqual(['detail.state', 'detail.previous']);
    expect(body.root.children[0].node.ors).toHaveLength(1);
  });
});

describe('parseFilterPolicy: at most 5 keys', () => {
  it('accepts 5 attribute keys and rejects 6, listing them', () => {
    expect(parseFilterPolicy(keysObject(5)).keys).toHaveLength(5);
    expect(message(keysObject(6))).toBe(
      'FilterPolicy: Filter policy can not have more than 5 keys; it has 6: key0, key1, key2, key3, key4, key5',
    );
  });

  it('counts the leaf keys of a body policy, not the objects holding them', () => {
    const five = { a: ['x'], b: { c: ['x'], d: { e: ['x'], f: ['x'] } }, g: ['x'] };
    expect(parseFilterPolicy(five, 'MessageBody').keys).toEqual(['a', 'b.c', 'b.d.e', 'b.d.f', 'g']);
    expect(message({ ...five, h: { i: ['x'] } }, 'MessageBody')).toContain('more than 5 keys; it has 6');
  });

  it('counts the SNS guide examples as the guide does', () => {
    // "state, severity, message, standard_control, region, account are counted; finding is not": six keys.
    const finding = {
      state: ['SUCCESS'],
      severity: [{ exists: true }],
      message: [{ exists: true }],
      finding: { standard_control: [{ exists: true }], region: [{ exists: true }], account: [{ exists: true }] },
    };
    expect(message(finding, 'MessageBody')).toBe(
      'FilterPolicy: Filter policy can not have more than 5 keys; it has 6: state, severity, message, finding.standard_control, finding.region, finding.account',
    );
    // "only the keys key_d and key_f are counted".
    const deep = {
      key_a: {
        key_b: { key_c: { key_d: ['value_one', 'value_two', 'value_three', 'value_four'] } },
        key_e: { key_f: ['value_one', 'value_two', 'value_three'] },
      },
    };
    expect(parseFilterPolicy(deep, 'MessageBody').keys).toEqual(['key_a.key_b.key_c.key_d', 'key_a.key_e.key_f']);
  });

  it('counts keys across $or branches, each name once', () => {
    const five = { a: ['x'], $or: [{ b: ['x'] }, { c: ['x'] }], d: ['x'], e: ['x'] };
    expect(parseFilterPolicy(five).keys).toHaveLength(5);
    expect(message({ ...five, f: ['x'] })).toContain('more than 5 keys; it has 6');
    const shared = {
      $or: [
        { a: ['x'], b: ['y'] },
        { a: ['z'], c: ['w'] },
      ],
    };
    expect(parseFilterPolicy(shared).keys).toEqual(['a', 'b', 'c']);
  });
});

describe('parseFilterPolicy: at most 150 combinations', () => {
  it('multiplies the value counts of the keys (the guide: 3 x 1 x 2 = 6)', () => {
    const p = parseFilterPolicy({
      key_a: ['value_one', 'value_two', 'value_three'],
      key_b: ['value_one'],
      key_c: ['value_one', 'value_two'],
    });
    expect(p.combinations).toBe(6);
  });

  it('accepts 150 and rejects 151 values for one key', () => {
    expect(parseFilterPolicy({ a: values(150) }).combinations).toBe(150);
    expect(message({ a: values(151) })).toBe(
      'FilterPolicy: Filter policy is too complex: 151 combinations of values; the limit is 150',
    );
  });

  it('accepts 5 x 5 x 6 = 150 and rejects 5 x 5 x 7 = 175', () => {
    expect(parseFilterPolicy({ a: values(5), b: values(5), c: values(6) }).combinations).toBe(150);
    expect(message({ a: values(5), b: values(5), c: values(7) })).toContain('too complex: 175 combinations');
  });

  it('counts operators as values', () => {
    const ops = [{ prefix: 'a' }, { numeric: ['>', 1] }, { exists: true }];
    expect(parseFilterPolicy({ a: [...ops, ...values(147)] }).combinations).toBe(150);
    expect(message({ a: [...ops, ...values(148)] })).toContain('too complex: 151 combinations');
  });

  it('adds up $or branches: 10 x (7 + 8) = 150 passes, 10 x (7 + 9) = 160 does not', () => {
    expect(parseFilterPolicy({ a: values(10), $or: [{ b: values(7) }, { c: values(8) }] }).combinations).toBe(150);
    expect(message({ a: values(10), $or: [{ b: values(7) }, { c: values(9) }] })).toContain(
      'too complex: 160 combinations',
    );
    expect(parseFilterPolicy({ $or: [{ a: values(74), b: values(2) }, { c: values(2) }] }).combinations).toBe(150);
    expect(message({ $or: [{ a: values(74), b: values(2) }, { c: values(3) }] })).toContain('151 combinations');
  });

  it('weights a body leaf by its depth (the guide: 3x4 x 2x3 = 72)', () => {
    const p = parseFilterPolicy(
      {
        key_a: { key_b: { key_c: ['value_one', 'value_two', 'value_three', 'value_four'] } },
        key_d: { key_e: ['value_one', 'value_two', 'value_three'] },
      },
      'MessageBody',
    );
    expect(p.combinations).toBe(72);
  });

  it('accepts 2 x 75 = 150 at depth 2 and rejects 2 x 76', () => {
    expect(parseFilterPolicy({ a: { b: values(75) } }, 'MessageBody').combinations).toBe(150);
    expect(message({ a: { b: values(76) } }, 'MessageBody')).toContain('too complex: 152 combinations');
  });

  it('accepts one value 150 levels deep and rejects 151 levels', () => {
    const deep = (levels: number): object => {
      let policy: object = { leaf: ['x'] };
      for (let i = 1; i < levels; i++) policy = { [`k${i}`]: policy };
      return policy;
    };
    expect(parseFilterPolicy(deep(150), 'MessageBody').combinations).toBe(150);
    expect(message(deep(151), 'MessageBody')).toMatch(/^FilterPolicy: Filter policy is too complex/);
    const deepText = `${'{"k":'.repeat(5000)}{"leaf":["x"]}${'}'.repeat(5000)}`;
    expect(message(deepText, 'MessageBody')).toMatch(/^FilterPolicy: Filter policy is too complex/);
    const veryDeep = JSON.parse(`${'{"k":'.repeat(20000)}{"leaf":["x"]}${'}'.repeat(20000)}`) as object;
    expect(message(veryDeep, 'MessageBody')).toMatch(/^FilterPolicy: Filter policy is too complex/);
  });
});

describe('parseFilterPolicy: at most 256 KB', () => {
  const sized = (bytes: number, filler = 'x') => {
    const frame = '{"a":[""]}';
    return `{"a":["${filler.repeat((bytes - frame.length) / Buffer.byteLength(filler))}"]}`;
  };

  it('accepts exactly 262,144 bytes and rejects one more', () => {
    expect(Buffer.byteLength(sized(MAX_FILTER_POLICY_BYTES))).toBe(262_144);
    expect(() => parseFilterPolicy(sized(MAX_FILTER_POLICY_BYTES))).not.toThrow();
    expect(message(sized(MAX_FILTER_POLICY_BYTES + 1))).toBe(
      'FilterPolicy: Filter policy is too large: 262145 bytes; the limit is 262144 (256 KB)',
    );
  });

  it('counts UTF-8 bytes, not characters', () => {
    const policy = sized(MAX_FILTER_POLICY_BYTES + 2, 'é');
    expect(policy.length).toBeLessThan(MAX_FILTER_POLICY_BYTES);
    expect(message(policy)).toContain('too large: 262146 bytes');
  });

  it('measures an object policy as its JSON text', () => {
    expect(message({ a: ['x'.repeat(MAX_FILTER_POLICY_BYTES)] })).toContain('too large');
  });
});
