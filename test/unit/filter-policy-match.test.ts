import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  matchesFilterPolicy,
  parseFilterPolicy,
  prepareMessage,
  type FilterableMessage,
} from '../../src/topics/filter-policy/index.js';
import type { Attributes, MessageAttributes, MessageAttributeValue } from '../../src/types.js';

// Typed attributes as SNS carries them.
const S = (v: string): MessageAttributeValue => ({ dataType: 'String', stringValue: v });
const N = (v: string | number): MessageAttributeValue => ({ dataType: 'Number', stringValue: String(v) });
const A = (v: unknown[]): MessageAttributeValue => ({ dataType: 'String.Array', stringValue: JSON.stringify(v) });
const B: MessageAttributeValue = { dataType: 'Binary', binaryValue: 'AAE=' };
// Another attribute, so that "absent" tests are not the empty-attribute-set case.
const OTHER = { other: S('x') };

const byAttributes = (policy: object, attributes: MessageAttributes | Attributes | null | undefined) =>
  matchesFilterPolicy(parseFilterPolicy(policy), { attributes });
const byBody = (policy: object, body: unknown) =>
  matchesFilterPolicy(parseFilterPolicy(policy, 'MessageBody'), {
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

type AttributeRow = [string, MessageAttributeValue | undefined, boolean];
type BodyRow = [string, unknown, boolean];

/** One key, many attribute values: `undefined` means the attribute is absent (another one is present). */
function attributeTable(key: string, matchValues: unknown[], rows: AttributeRow[]) {
  it.each(rows)(`${JSON.stringify(matchValues)} vs attribute %s`, (_, attribute, expected) => {
    const attributes = attribute === undefined ? OTHER : { ...OTHER, [key]: attribute };
    expect(byAttributes({ [key]: matchValues }, attributes)).toBe(expected);
  });
}

/** One key, many body values: `undefined` means the key is absent from the body object. */
function bodyTable(key: string, matchValues: unknown[], rows: BodyRow[]) {
  it.each(rows)(`${JSON.stringify(matchValues)} vs body %s`, (_, value, expected) => {
    const body = value === undefined ? { other: 'x' } : { other: 'x', [key]: value };
    expect(byBody({ [key]: matchValues }, body)).toBe(expected);
  });
}

describe('exact string matching', () => {
  const policy = ['rugby', 'tennis'];
  attributeTable('customer_interests', policy, [
    ['String rugby', S('rugby'), true],
    ['String tennis', S('tennis'), true],
    ['String.Array [rugby, tennis]', A(['rugby', 'tennis']), true],
    ['String.Array [baseball, tennis]', A(['baseball', 'tennis']), true],
    ['String baseball', S('baseball'), false],
    ['String.Array [baseball]', A(['baseball']), false],
    ['String Rugby (case-sensitive)', S('Rugby'), false],
    ['String "rugby " (no trimming)', S('rugby '), false],
    ['String ""', S(''), false],
    ['String.Array []', A([]), false],
    ['Number 1', N(1), false],
    ['Binary', B, false],
    ['String.custom rugby', { dataType: 'String.interest', stringValue: 'rugby' }, true],
    ['absent', undefined, false],
  ]);
  bodyTable('customer_interests', policy, [
    ['"rugby"', 'rugby', true],
    ['"tennis"', 'tennis', true],
    ['"baseball"', 'baseball', false],
    ['["baseball", "rugby"]', ['baseball', 'rugby'], true],
    ['[["rugby"]] (nested arrays flatten)', [['rugby']], true],
    ['[]', [], false],
    ['null', null, false],
    ['{"x": "rugby"} (not a leaf)', { x: 'rugby' }, false],
    ['[{"x": "rugby"}]', [{ x: 'rugby' }], false],
    ['absent', undefined, false],
  ]);

  it('matches plain string attributes as String', () => {
    expect(byAttributes({ store: ['fans'] }, { store: 'fans' })).toBe(true);
    expect(byAttributes({ store: ['fans'] }, { store: 'Fans' })).toBe(false);
    expect(byAttributes({ price: [300] }, { price: '300' })).toBe(false);
  });

  it('looks up a long list of values', () => {
    const many = Array.from({ length: 150 }, (_, i) => `value-${i}`);
    expect(byAttributes({ a: many }, { a: S('value-149') })).toBe(true);
    expect(byAttributes({ a: many }, { a: S('value-150') })).toBe(false);
  });
});

describe('exact number matching', () => {
  const policy = [300];
  attributeTable('price', policy, [
    ['Number 300', N('300'), true],
    ['Number 3.0e2', N('3.0e2'), true],
    ['Number 300.000', N('300.000'), true],
    ['Number +300', N('+300'), true],
    ['Number 3E+2', N('3E+2'), true],
    ['Number 300.00001', N('300.00001'), false],
    ['Number 301', N('301'), false],
    ['Number.float 300', { dataType: 'Number.float', stringValue: '300' }, true],
    ['String 300 (types are strict)', S('300'), false],
    ['String.Array [1, 300]', A([1, 300]), true],
    ['String.Array ["300"]', A(['300']), false],
    ['Number not a number', N('abc'), false],
    ['Number 0x12C (not decimal)', N('0x12C'), false],
    ['Number "" ', N(''), false],
    ['absent', undefined, false],
  ]);
  bodyTable('price', policy, [
    ['300', 300, true],
    ['300.0', 300.0, true],
    ['"300"', '300', false],
    ['[1, 300]', [1, 300], true],
    ['true', true, false],
  ]);

  it('compares numbers by value whatever their notation in the body text', () => {
    const p = parseFilterPolicy({ price_usd: [{ numeric: ['=', 301.5] }] }, 'MessageBody');
    for (const text of ['{"price_usd": 301.5}', '{"price_usd": 3.015e2}', '{"price_usd": 301.50000}']) {
      expect(matchesFilterPolicy(p, { body: text }), text).toBe(true);
    }
    expect(byBody({ price: [3e2] }, '{"price": 300}')).toBe(true);
    expect(byBody({ zero: [0] }, '{"zero": -0}')).toBe(true);
  });

  it('matches the numeric = example of the SNS guide (301.5 and 3.015e2)', () => {
    const policy = { price_usd: [{ numeric: ['=', 301.5] }] };
    expect(byAttributes(policy, { price_usd: N('301.5') })).toBe(true);
    expect(byAttributes(policy, { price_usd: N('3.015e2') })).toBe(true);
    expect(byAttributes(policy, { price_usd: N('301.4') })).toBe(false);
  });
});

describe('true, false and null', () => {
  bodyTable(
    'encrypted',
    [false],
    [
      ['false', false, true],
      ['true', true, false],
      ['"false"', 'false', false],
      ['0', 0, false],
      ['null', null, false],
      ['[true, false]', [true, false], true],
    ],
  );
  bodyTable(
    'deleted_at',
    [null],
    [
      ['null', null, true],
      ['[null]', [null], true],
      ['"null"', 'null', false],
      ['""', '', false],
      ['absent', undefined, false],
      ['{}', {}, false],
    ],
  );
  attributeTable(
    'encrypted',
    [true],
    [
      ['String true (types are strict)', S('true'), false],
      ['String.Array [true]', A([true]), true],
      ['String.Array [false]', A([false]), false],
    ],
  );
  attributeTable(
    'maybe',
    [null],
    [
      ['String.Array [null]', A([null]), true],
      ['String null', S('null'), false],
    ],
  );
});

describe('prefix matching', () => {
  const policy = [{ prefix: 'bas' }];
  attributeTable('customer_interests', policy, [
    ['String baseball', S('baseball'), true],
    ['String basketball', S('basketball'), true],
    ['String bas', S('bas'), true],
    ['String rugby', S('rugby'), false],
    ['String ba', S('ba'), false],
    ['String Baseball', S('Baseball'), false],
    ['String " baseball"', S(' baseball'), false],
    ['String.Array [rugby, basketball]', A(['rugby', 'basketball']), true],
    ['String.Array [rugby]', A(['rugby']), false],
    ['absent', undefined, false],
  ]);
  bodyTable('customer_interests', policy, [
    ['"baseball"', 'baseball', true],
    ['"rugby"', 'rugby', false],
    ['["rugby", "basketball"]', ['rugby', 'basketball'], true],
  ]);
  attributeTable(
    'code',
    [{ prefix: '12' }],
    [
      ['Number 123 (prefixes are for strings only)', N(123), false],
      ['String 123', S('123'), true],
    ],
  );
  bodyTable('code', [{ prefix: '12' }], [['123', 123, false]]);
  attributeTable(
    'anything',
    [{ prefix: '' }],
    [
      ['String ""', S(''), true],
      ['String x', S('x'), true],
      ['Number 1', N(1), false],
      ['absent', undefined, false],
    ],
  );
});

describe('suffix matching', () => {
  const policy = [{ suffix: 'ball' }];
  attributeTable('customer_interests', policy, [
    ['String baseball', S('baseball'), true],
    ['String football', S('football'), true],
    ['String ball', S('ball'), true],
    ['String rugby', S('rugby'), false],
    ['String BALL', S('BALL'), false],
    ['String balls', S('balls'), false],
    ['String.Array [rugby, netball]', A(['rugby', 'netball']), true],
    ['absent', undefined, false],
  ]);
  bodyTable('customer_interests', policy, [
    ['"football"', 'football', true],
    ['"rugby"', 'rugby', false],
    ['5', 5, false],
  ]);
});

describe('equals-ignore-case matching', () => {
  const policy = [{ 'equals-ignore-case': 'tEnNiS' }];
  attributeTable('customer_interests', policy, [
    ['String tennis', S('tennis'), true],
    ['String TENNIS', S('TENNIS'), true],
    ['String Tennis', S('Tennis'), true],
    ['String "tennis "', S('tennis '), false],
    ['String tenni', S('tenni'), false],
    ['String.Array [RUGBY, TeNNis]', A(['RUGBY', 'TeNNis']), true],
    ['absent', undefined, false],
  ]);
  bodyTable('customer_interests', policy, [
    ['"TENNIS"', 'TENNIS', true],
    ['"rugby"', 'rugby', false],
  ]);
  attributeTable(
    'city',
    [{ 'equals-ignore-case': 'ÉCOLE' }],
    [
      ['String école (non-ASCII)', S('école'), true],
      ['String ecole', S('ecole'), false],
    ],
  );
});

describe('anything-but matching', () => {
  attributeTable(
    'event',
    [{ 'anything-but': 'order_cancelled' }],
    [
      ['String order_placed', S('order_placed'), true],
      ['String order_cancelled', S('order_cancelled'), false],
      ['String ORDER_CANCELLED', S('ORDER_CANCELLED'), true],
      ['absent (the key must be there)', undefined, false],
      ['Binary (ignored, so absent)', B, false],
      ['String.Array [] (no value)', A([]), false],
    ],
  );

  // The SNS guide's string example, String.Array included.
  attributeTable(
    'customer_interests',
    [{ 'anything-but': ['rugby', 'tennis'] }],
    [
      ['String baseball', S('baseball'), true],
      ['String football', S('football'), true],
      ['String rugby', S('rugby'), false],
      ['String tennis', S('tennis'), false],
      ['String.Array [rugby, baseball] (holds a value that is not listed)', A(['rugby', 'baseball']), true],
      ['String.Array [rugby, tennis]', A(['rugby', 'tennis']), false],
      ['Number 5 (not a listed value)', N(5), true],
    ],
  );
  bodyTable(
    'customer_interests',
    [{ 'anything-but': ['rugby', 'tennis'] }],
    [
      ['"baseball"', 'baseball', true],
      ['"rugby"', 'rugby', false],
      ['["rugby", "baseball"]', ['rugby', 'baseball'], true],
      ['["rugby", "tennis"]', ['rugby', 'tennis'], false],
      ['true', true, true],
      ['null (no value)', null, false],
      ['absent', undefined, false],
    ],
  );

  // The SNS guide's numeric example.
  attributeTable(
    'price',
    [{ 'anything-but': [100, 500] }],
    [
      ['Number 101', N(101), true],
      ['Number 100.1', N(100.1), true],
      ['Number 100', N(100), false],
      ['Number 1e2', N('1e2'), false],
      ['Number 500', N(500), false],
      ['String.Array [100, 50]', A([100, 50]), true],
      ['String.Array [100, 500]', A([100, 500]), false],
      ['String 100 (a string is not the number 100)', S('100'), true],
    ],
  );
  bodyTable(
    'price',
    [{ 'anything-but': [100, 500] }],
    [
      ['101', 101, true],
      ['100', 100, false],
      ['[100, 50]', [100, 50], true],
    ],
  );
  attributeTable(
    'price',
    [{ 'anything-but': 100 }],
    [
      ['Number 99.99999', N('99.99999'), true],
      ['Number 100.00000', N('100.00000'), false],
    ],
  );

  attributeTable(
    'event',
    [{ 'anything-but': { prefix: 'order-' } }],
    [
      ['String data-entry', S('data-entry'), true],
      ['String order-cancelled', S('order-cancelled'), false],
      ['String order-', S('order-'), false],
      ['String Order-x', S('Order-x'), true],
      ['String.Array [order-a, other]', A(['order-a', 'other']), true],
      ['Number 5 (prefixes are for strings only)', N(5), false],
      ['absent', undefined, false],
    ],
  );
  bodyTable(
    'event',
    [{ 'anything-but': { prefix: 'order-' } }],
    [
      ['"data-entry"', 'data-entry', true],
      ['"order-placed"', 'order-placed', false],
    ],
  );

  // "anything-but can be combined with "exists": false" (SNS guide).
  attributeTable(
    'event',
    [{ 'anything-but': 'order_cancelled' }, { exists: false }],
    [
      ['absent', undefined, true],
      ['String order_placed', S('order_placed'), true],
      ['String order_cancelled', S('order_cancelled'), false],
    ],
  );
});

describe('numeric range matching', () => {
  const cases: Array<[unknown[], Array<[number, boolean]>]> = [
    [
      ['<', 0],
      [
        [-1, true],
        [-0.00001, true],
        [0, false],
        [1, false],
        [-1e9, true],
      ],
    ],
    [
      ['<=', 5],
      [
        [5, true],
        [5.00001, false],
        [-5, true],
      ],
    ],
    [
      ['>', 0],
      [
        [0, false],
        [0.00001, true],
        [1e9, true],
      ],
    ],
    [
      ['>=', 5],
      [
        [5, true],
        [4.99999, false],
      ],
    ],
    [
      ['=', 0],
      [
        [0, true],
        [-0, true],
        [0.00001, false],
      ],
    ],
    [
      ['>', 0, '<=', 150],
      [
        [0, false],
        [0.00001, true],
        [75, true],
        [150, true],
        [150.00001, false],
        [-1, false],
      ],
    ],
    [
      ['>=', 0, '<', 150],
      [
        [0, true],
        [149.99999, true],
        [150, false],
      ],
    ],
    [
      ['>=', -10, '<=', -5],
      [
        [-10, true],
        [-7.5, true],
        [-5, true],
        [-4, false],
        [-11, false],
      ],
    ],
  ];
  for (const [range, points] of cases) {
    it.each(points)(`${JSON.stringify(range)} vs %d: %s`, (n, expected) => {
      const policy = { price_usd: [{ numeric: range }] };
      expect(byAttributes(policy, { price_usd: N(n) })).toBe(expected);
      expect(byAttributes(policy, { price_usd: A([n]) })).toBe(expected);
      expect(byBody(policy, { price_usd: n })).toBe(expected);
      expect(byBody(policy, { price_usd: ['x', n] })).toBe(expected);
    });
  }

  attributeTable(
    'price_usd',
    [{ numeric: ['>', 0] }],
    [
      ['String 5 (numeric needs a Number)', S('5'), false],
      ['String.Array ["5"]', A(['5']), false],
      ['Number abc', N('abc'), false],
      ['Number Infinity', N('Infinity'), false],
      ['Number 1e400 (overflows)', N('1e400'), false],
      ['Number " 5" (not a decimal text)', N(' 5'), false],
      ['Number .5', N('.5'), true],
      ['Number 5.', N('5.'), true],
      ['Number -5', N('-5'), false],
      ['Binary', B, false],
      ['absent', undefined, false],
    ],
  );
  bodyTable(
    'price_usd',
    [{ numeric: ['>', 0] }],
    [
      ['"5"', '5', false],
      ['true', true, false],
      ['null', null, false],
      ['{"v": 5}', { v: 5 }, false],
    ],
  );

  it('compares message numbers beyond the policy range as plain numbers', () => {
    expect(byAttributes({ n: [{ numeric: ['>', 1e9 - 1] }] }, { n: N('1e12') })).toBe(true);
    expect(byBody({ n: [{ numeric: ['<', -1e9 + 1] }] }, { n: -1e300 })).toBe(true);
  });
});

describe('exists matching', () => {
  attributeTable(
    'store',
    [{ exists: true }],
    [
      ['String fans', S('fans'), true],
      ['String ""', S(''), true],
      ['Number 0', N(0), true],
      ['String.Array [a]', A(['a']), true],
      ['String.Array [] (no value)', A([]), false],
      ['String.Array [null] (no value)', A([null]), false],
      ['String.Array not JSON', { dataType: 'String.Array', stringValue: '[oops' }, false],
      ['Binary (ignored by SNS)', B, false],
      ['absent', undefined, false],
    ],
  );
  attributeTable(
    'store',
    [{ exists: false }],
    [
      ['String fans', S('fans'), false],
      ['String.Array [] (no value)', A([]), true],
      ['Binary (ignored by SNS)', B, true],
      ['absent', undefined, true],
    ],
  );
  bodyTable(
    'store',
    [{ exists: true }],
    [
      ['"fans"', 'fans', true],
      ['""', '', true],
      ['0', 0, true],
      ['false', false, true],
      ['["a"]', ['a'], true],
      ['null', null, false],
      ['[]', [], false],
      ['[null]', [null], false],
      ['{"a": 1} (intermediate node, not a leaf)', { a: 1 }, false],
      ['absent', undefined, false],
    ],
  );
  bodyTable(
    'store',
    [{ exists: false }],
    [
      ['"fans"', 'fans', false],
      ['absent', undefined, true],
      ['null', null, true],
      ['{"a": 1} (intermediate node, not a leaf)', { a: 1 }, true],
    ],
  );

  it('matches the SNS guide examples', () => {
    const present = { store: S('fans'), customer_interests: A(['baseball', 'basketball']) };
    const missing = { customer_interests: A(['baseball', 'basketball']) };
    expect(byAttributes({ store: [{ exists: true }] }, present)).toBe(true);
    expect(byAttributes({ store: [{ exists: true }] }, missing)).toBe(false);
    expect(byAttributes({ store: [{ exists: false }] }, present)).toBe(false);
    expect(byAttributes({ store: [{ exists: false }] }, missing)).toBe(true);
    const bodyPresent = { store: 'fans', customer_interests: ['baseball', 'basketball'] };
    const bodyMissing = { customer_interests: ['baseball', 'basketball'] };
    expect(byBody({ store: [{ exists: true }] }, bodyPresent)).toBe(true);
    expect(byBody({ store: [{ exists: true }] }, bodyMissing)).toBe(false);
    expect(byBody({ store: [{ exists: false }] }, bodyPresent)).toBe(false);
    expect(byBody({ store: [{ exists: false }] }, bodyMissing)).toBe(true);
  });

  it('"exists": false does not match an empty attribute set (SNS guide note)', () => {
    const policy = { store: [{ exists: false }] };
    expect(byAttributes(policy, {})).toBe(false);
    expect(byAttributes(policy, null)).toBe(false);
    expect(byAttributes(policy, undefined)).toBe(false);
    expect(byAttributes(policy, { image: B })).toBe(false); // Binary attributes are ignored
    expect(byAttributes(policy, { image: B, other: S('x') })).toBe(true);
  });

  it('does not mistake inherited object properties for attributes or body keys', () => {
    expect(byAttributes({ constructor: [{ exists: true }] }, OTHER)).toBe(false);
    expect(byAttributes({ toString: [{ exists: false }] }, OTHER)).toBe(true);
    expect(byBody({ constructor: [{ exists: true }] }, { other: 1 })).toBe(false);
    const inherited = Object.assign(Object.create({ store: S('fans') }) as MessageAttributes, OTHER);
    expect(byAttributes({ store: ['fans'] }, inherited)).toBe(false);
    const proto = parseFilterPolicy('{"__proto__": ["x"]}', 'MessageBody');
    expect(proto.keys).toEqual(['__proto__']);
    expect(matchesFilterPolicy(proto, { body: '{"__proto__": "x"}' })).toBe(true);
    expect(matchesFilterPolicy(proto, { body: '{"other": "x"}' })).toBe(false);
  });
});

describe('cidr matching', () => {
  attributeTable(
    'source_ip',
    [{ cidr: '10.0.0.0/24' }],
    [
      ['String 10.0.0.0', S('10.0.0.0'), true],
      ['String 10.0.0.255', S('10.0.0.255'), true],
      ['String 10.1.1.0', S('10.1.1.0'), false],
      ['String 10.0.1.0', S('10.0.1.0'), false],
      ['String 010.0.0.5 (nonstandard)', S('010.0.0.5'), false],
      ['String 10.0.0.5/32 (a network, not an address)', S('10.0.0.5/32'), false],
      ['String ::ffff:10.0.0.5 (IPv6)', S('::ffff:10.0.0.5'), false],
      ['String not an IP', S('not an ip'), false],
      ['String.Array [192.168.0.1, 10.0.0.7]', A(['192.168.0.1', '10.0.0.7']), true],
      ['Number 10', N(10), false],
      ['absent', undefined, false],
    ],
  );
  attributeTable(
    'source_ip',
    [{ cidr: '10.0.0.77/24' }],
    [['String 10.0.0.1 (host bits ignored)', S('10.0.0.1'), true]],
  );
  attributeTable(
    'source_ip',
    [{ cidr: '2001:db8::/32' }],
    [
      ['String 2001:db8::1', S('2001:db8::1'), true],
      ['String 2001:DB8:0:0:0:0:0:1', S('2001:DB8:0:0:0:0:0:1'), true],
      ['String 2001:db9::1', S('2001:db9::1'), false],
      ['String 10.0.0.1', S('10.0.0.1'), false],
    ],
  );
  attributeTable(
    'source_ip',
    [{ cidr: '0.0.0.0/0' }],
    [
      ['String 255.255.255.255', S('255.255.255.255'), true],
      ['String ::1', S('::1'), false],
    ],
  );
  bodyTable(
    'source_ip',
    [{ cidr: '192.168.1.1/32' }, { cidr: '::1/128' }],
    [
      ['"192.168.1.1"', '192.168.1.1', true],
      ['"192.168.1.2"', '192.168.1.2', false],
      ['"::1"', '::1', true],
      ['"0:0:0:0:0:0:0:1"', '0:0:0:0:0:0:0:1', true],
      ['["1.1.1.1", "::1"]', ['1.1.1.1', '::1'], true],
    ],
  );
});

describe('AND across keys, OR within a key', () => {
  it('needs every key to match (the SNS guide AND example)', () => {
    const policy = { customer_interests: ['rugby'], price_usd: [{ numeric: ['>', 100] }] };
    expect(byAttributes(policy, { customer_interests: S('rugby'), price_usd: N(101) })).toBe(true);
    expect(byAttributes(policy, { customer_interests: S('rugby'), price_usd: N(100) })).toBe(false);
    expect(byAttributes(policy, { customer_interests: S('tennis'), price_usd: N(101) })).toBe(false);
    expect(byAttributes(policy, { customer_interests: S('rugby') })).toBe(false);
    expect(byBody(policy, { customer_interests: 'rugby', price_usd: 101 })).toBe(true);
    expect(byBody(policy, { customer_interests: 'rugby' })).toBe(false);
  });

  it('needs one of a key’s values to match (the SNS guide OR example)', () => {
    const policy = { customer_interests: ['rugby', 'football', 'baseball'] };
    for (const v of ['rugby', 'football', 'baseball'])
      expect(byAttributes(policy, { customer_interests: S(v) })).toBe(true);
    expect(byAttributes(policy, { customer_interests: S('tennis') })).toBe(false);
  });

  it('mixes value kinds within one key', () => {
    const policy = { v: ['exact', { prefix: 'pre' }, { numeric: ['>', 10] }, { exists: false }, null] };
    expect(byBody(policy, { v: 'exact' })).toBe(true);
    expect(byBody(policy, { v: 'prefixed' })).toBe(true);
    expect(byBody(policy, { v: 11 })).toBe(true);
    expect(byBody(policy, {})).toBe(true);
    expect(byBody(policy, { v: null })).toBe(true);
    expect(byBody(policy, { v: 10 })).toBe(false);
    expect(byBody(policy, { v: 'other' })).toBe(false);
  });
});

describe('$or', () => {
  const standard = {
    source: ['aws.cloudwatch'],
    $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
  };
  it.each([
    [{ source: 'aws.cloudwatch', metricName: 'CPUUtilization' }, true],
    [{ source: 'aws.cloudwatch', namespace: 'AWS/EC2' }, true],
    [{ source: 'aws.cloudwatch', metricName: 'CPUUtilization', namespace: 'AWS/EC2' }, true],
    [{ source: 'aws.cloudwatch', metricName: 'ReadLatency', namespace: 'AWS/EC2' }, true],
    [{ source: 'aws.cloudwatch', metricName: 'ReadLatency' }, false],
    [{ source: 'aws.cloudwatch' }, false],
    [{ metricName: 'CPUUtilization', namespace: 'AWS/EC2' }, false],
    [{ source: 'aws.ec2', metricName: 'CPUUtilization' }, false],
  ])('"source" && ("metricName" || "namespace") with %j: %s', (message, expected) => {
    const attributes = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, S(v)]));
    expect(byAttributes(standard, attributes)).toBe(expected);
    expect(byBody(standard, message)).toBe(expected);
  });

  const nested = {
    source: ['aws.cloudwatch'],
    $or: [
      { metricName: ['CPUUtilization', 'ReadLatency'] },
      { $or: [{ metricType: ['MetricType'] }, { namespace: ['AWS/EC2'] }] },
    ],
  };
  it.each([
    [{ source: 'aws.cloudwatch', metricName: 'ReadLatency' }, true],
    [{ source: 'aws.cloudwatch', metricType: 'MetricType' }, true],
    [{ source: 'aws.cloudwatch', namespace: 'AWS/EC2' }, true],
    [{ source: 'aws.cloudwatch', namespace: 'AWS/ES' }, false],
    [{ metricType: 'MetricType' }, false],
  ])('nested $or with %j: %s', (message, expected) => {
    const attributes = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, S(v)]));
    expect(byAttributes(nested, attributes)).toBe(expected);
    expect(byBody(nested, message)).toBe(expected);
  });

  it('works inside nested body objects', () => {
    const policy = { source: ['aws.cloudwatch'], detail: { $or: [{ state: ['ALARM'] }, { previous: ['OK'] }] } };
    expect(byBody(policy, { source: 'aws.cloudwatch', detail: { state: 'ALARM' } })).toBe(true);
    expect(byBody(policy, { source: 'aws.cloudwatch', detail: { previous: 'OK' } })).toBe(true);
    expect(byBody(policy, { source: 'aws.cloudwatch', detail: { state: 'OK' } })).toBe(false);
    expect(byBody(policy, { source: 'aws.cloudwatch' })).toBe(false);
  });

  it('lets branches differ in shape: one nested, one flat', () => {
    const policy = { $or: [{ a: { b: ['x'] } }, { c: ['y'] }] };
    expect(byBody(policy, { a: { b: 'x' } })).toBe(true);
    expect(byBody(policy, { c: 'y' })).toBe(true);
    expect(byBody(policy, { a: { b: 'y' }, c: 'x' })).toBe(false);
  });

  it('takes "$or" as an ordinary attribute name when it is not an OR (SNS guide)', () => {
    const policy = { $or: [{ prefix: 'abc' }, { suffix: 'xyz' }] };
    expect(byAttributes(policy, { $or: S('abcd') })).toBe(true);
    expect(byAttributes(policy, { $or: S('wxyz') })).toBe(true);
    expect(byAttributes(policy, { $or: S('nope') })).toBe(false);
    expect(byAttributes(policy, { other: S('abc') })).toBe(false);
  });
});

describe('payload-based (MessageBody) filtering', () => {
  it('walks nested keys', () => {
    const policy = { store: { name: ['example_corp'] } };
    expect(byBody(policy, { store: { name: 'example_corp' } })).toBe(true);
    expect(byBody(policy, { store: { name: 'other' } })).toBe(false);
    expect(byBody(policy, { store: 'example_corp' })).toBe(false);
    expect(byBody(policy, { 'store.name': 'example_corp' })).toBe(false);
    expect(byBody(policy, { name: 'example_corp' })).toBe(false);
  });

  it('walks three levels and arrays on the way', () => {
    const policy = { a: { b: { c: [{ numeric: ['>', 100] }] } } };
    expect(byBody(policy, { a: { b: { c: 150 } } })).toBe(true);
    expect(byBody(policy, { a: [{ b: { c: 50 } }, { b: [{ c: 1 }, { c: 150 }] }] })).toBe(true);
    expect(byBody(policy, { a: [{ b: { c: 50 } }, { b: { c: 99 } }] })).toBe(false);
    expect(byBody(policy, { a: { b: { c: { d: 150 } } } })).toBe(false);
    expect(byBody(policy, { a: [[{ b: { c: 101 } }]] })).toBe(true);
  });

  it('matches a sub-policy against one array element at a time', () => {
    const policy = { orders: { item: ['book'], price: [{ numeric: ['>', 100] }] } };
    expect(byBody(policy, { orders: [{ item: 'book', price: 150 }] })).toBe(true);
    expect(
      byBody(policy, {
        orders: [
          { item: 'pen', price: 1 },
          { item: 'book', price: 150 },
        ],
      }),
    ).toBe(true);
    expect(
      byBody(policy, {
        orders: [
          { item: 'book', price: 50 },
          { item: 'pen', price: 150 },
        ],
      }),
    ).toBe(false);
  });

  it('sees a missing or empty path as absent keys', () => {
    const policy = { a: { b: [{ exists: false }] } };
    expect(byBody(policy, {})).toBe(true);
    expect(byBody(policy, { a: [] })).toBe(true);
    expect(byBody(policy, { a: 'scalar' })).toBe(true);
    expect(byBody(policy, { a: { c: 1 } })).toBe(true);
    expect(byBody(policy, { a: { b: 1 } })).toBe(false);
    expect(byBody({ a: { b: ['x'] } }, { a: [] })).toBe(false);
  });

  it.each([
    ['not JSON', 'rugby'],
    ['a JSON string', '"rugby"'],
    ['a JSON array', '[{"customer_interests": "rugby"}]'],
    ['a JSON number', '5'],
    ['JSON null', 'null'],
    ['empty', ''],
  ])('matches nothing when the body is %s', (_, body) => {
    expect(byBody({ customer_interests: ['rugby'] }, body)).toBe(false);
    expect(byBody({ customer_interests: [{ exists: false }] }, body)).toBe(false);
    expect(byBody({ customer_interests: [{ 'anything-but': 'x' }] }, body)).toBe(false);
  });

  it('matches nothing without a body', () => {
    const p = parseFilterPolicy({ a: [{ exists: false }] }, 'MessageBody');
    expect(matchesFilterPolicy(p, {})).toBe(false);
    expect(matchesFilterPolicy(p, { body: null })).toBe(false);
  });

  it('ignores the attributes, and an attribute policy ignores the body', () => {
    const body = parseFilterPolicy({ store: ['fans'] }, 'MessageBody');
    const attrs = parseFilterPolicy({ store: ['fans'] });
    const onlyAttributes = { attributes: { store: S('fans') }, body: '{}' };
    const onlyBody = { attributes: { other: S('x') }, body: '{"store": "fans"}' };
    expect(matchesFilterPolicy(body, onlyAttributes)).toBe(false);
    expect(matchesFilterPolicy(body, onlyBody)).toBe(true);
    expect(matchesFilterPolicy(attrs, onlyAttributes)).toBe(true);
    expect(matchesFilterPolicy(attrs, onlyBody)).toBe(false);
  });

  it('accepts a body the caller has already parsed', () => {
    const p = parseFilterPolicy({ store: { name: ['example_corp'] } }, 'MessageBody');
    expect(matchesFilterPolicy(p, { parsedBody: { store: { name: 'example_corp' } } })).toBe(true);
    expect(
      matchesFilterPolicy(p, { parsedBody: { store: { name: 'x' } }, body: '{"store":{"name":"example_corp"}}' }),
    ).toBe(false);
    expect(matchesFilterPolicy(p, { parsedBody: null })).toBe(false);
  });
});

describe('message attribute data types', () => {
  it.each([
    ['String', { dataType: 'String', stringValue: 'a' }, ['a'], true],
    ['String.custom', { dataType: 'String.uuid', stringValue: 'a' }, [{ prefix: 'a' }], true],
    ['Number', { dataType: 'Number', stringValue: '1.5' }, [{ numeric: ['=', 1.5] }], true],
    ['Number.custom', { dataType: 'Number.float', stringValue: '1.5' }, [{ numeric: ['=', 1.5] }], true],
    ['Number.Array (a custom Number, not an array)', { dataType: 'Number.Array', stringValue: '[1]' }, [1], false],
    ['String.Array', { dataType: 'String.Array', stringValue: '["a", 1, true, null]' }, [1], true],
    [
      'String.Array holding objects',
      { dataType: 'String.Array', stringValue: '[{"a": 1}]' },
      [{ exists: true }],
      false,
    ],
    ['String.Array that is not an array', { dataType: 'String.Array', stringValue: '"a"' }, ['a'], true],
    ['String.Array without a value', { dataType: 'String.Array' }, [{ exists: true }], false],
    ['String without a value', { dataType: 'String' }, [{ exists: true }], false],
    ['Binary', { dataType: 'Binary', binaryValue: new Uint8Array([97]) }, [{ exists: true }], false],
    ['Binary with a stringValue', { dataType: 'Binary', stringValue: 'a' }, ['a'], false],
    ['Binary.custom', { dataType: 'Binary.gif', binaryValue: 'AA==' }, [{ exists: false }], true],
    ['an unknown type', { dataType: 'Blob', stringValue: 'a' } as unknown as MessageAttributeValue, ['a'], false],
  ])('%s', (_, attribute, matchValues, expected) => {
    expect(byAttributes({ k: matchValues }, { ...OTHER, k: attribute as MessageAttributeValue })).toBe(expected);
  });
});

describe('the SNS guide example message and policies', () => {
  const attributes: MessageAttributes = {
    customer_interests: A(['soccer', 'rugby', 'hockey']),
    store: S('example_corp'),
    event: S('order_placed'),
    price_usd: N('210.75'),
  };
  const body = {
    customer_interests: ['soccer', 'rugby', 'hockey'],
    store: 'example_corp',
    event: 'order_placed',
    price_usd: 210.75,
  };
  const accepts = {
    store: ['example_corp'],
    event: [{ 'anything-but': 'order_cancelled' }],
    customer_interests: ['rugby', 'football', 'baseball'],
    price_usd: [{ numeric: ['>=', 100] }],
  };
  const rejects = {
    store: ['example_corp'],
    event: ['order_cancelled'],
    encrypted: [false],
    customer_interests: ['basketball', 'baseball'],
  };

  it('a policy that accepts the example message', () => {
    expect(byAttributes(accepts, attributes)).toBe(true);
    expect(byBody(accepts, body)).toBe(true);
  });

  it('a policy that rejects the example message', () => {
    expect(byAttributes(rejects, attributes)).toBe(false);
    expect(byBody(rejects, body)).toBe(false);
  });

  it('rejects for each single mismatch of the accepting policy', () => {
    const variants: Array<Partial<Record<keyof typeof accepts, unknown[]>>> = [
      { store: ['other_corp'] },
      { event: [{ 'anything-but': 'order_placed' }] },
      { customer_interests: ['football'] },
      { price_usd: [{ numeric: ['>=', 210.76] }] },
    ];
    for (const variant of variants) {
      const policy = { ...accepts, ...variant };
      expect(byAttributes(policy, attributes), JSON.stringify(variant)).toBe(false);
      expect(byBody(policy, body), JSON.stringify(variant)).toBe(false);
    }
  });
});

describe('no policy', () => {
  it('takes every message', () => {
    const empty = parseFilterPolicy('{}');
    const emptyBody = parseFilterPolicy('{}', 'MessageBody');
    for (const message of [
      {},
      { body: 'not json' },
      { attributes: {} },
      { attributes: { a: B } },
    ] as FilterableMessage[]) {
      expect(matchesFilterPolicy(null, message)).toBe(true);
      expect(matchesFilterPolicy(undefined, message)).toBe(true);
      expect(matchesFilterPolicy(empty, message)).toBe(true);
      expect(matchesFilterPolicy(emptyBody, message)).toBe(true);
    }
  });
});

describe('prepareMessage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('parses the body once for any number of body policies', () => {
    const policies = ['a', 'b', 'c'].map((k) => parseFilterPolicy({ [k]: [{ exists: true }] }, 'MessageBody'));
    const parse = vi.spyOn(JSON, 'parse');
    const prepared = prepareMessage({ body: '{"a": 1, "c": 3}' });
    expect(policies.map((p) => matchesFilterPolicy(p, prepared))).toEqual([true, false, true]);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('does not parse the body for attribute policies', () => {
    const policy = parseFilterPolicy({ a: ['x'] });
    const parse = vi.spyOn(JSON, 'parse');
    expect(matchesFilterPolicy(policy, prepareMessage({ attributes: { a: S('x') }, body: '{"a": "x"}' }))).toBe(true);
    expect(parse).not.toHaveBeenCalled();
  });

  it('decodes a String.Array attribute once for any number of policies', () => {
    const policies = [['x'], ['y'], [{ prefix: 'z' }]].map((v) => parseFilterPolicy({ tags: v }));
    const parse = vi.spyOn(JSON, 'parse');
    const prepared = prepareMessage({ attributes: { tags: A(['x', 'zz']) } });
    expect(policies.map((p) => matchesFilterPolicy(p, prepared))).toEqual([true, false, true]);
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('remembers a body that is not JSON', () => {
    const policy = parseFilterPolicy({ a: [{ exists: false }] }, 'MessageBody');
    const prepared = prepareMessage({ body: 'plain text' });
    expect(matchesFilterPolicy(policy, prepared)).toBe(false);
    expect(matchesFilterPolicy(policy, prepared)).toBe(false);
    expect(prepared.body).toBeUndefined();
  });
});
