import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  signingKey,
  stringToSign,
  verifySigV4,
  type SigV4Options,
  type SigV4Request,
  type SigV4Result,
} from '../../src/aws/sigv4.js';
import {
  CANONICAL,
  GET_VANILLA_STS,
  HEADER_CASES,
  parseRequest,
  QUERY_CASES,
  SUITE,
  type ParsedRequest,
} from '../support/sigv4-suite.js';
import { sqsClient } from '../support/sqs-client.js';

const suiteOpts = (over: Partial<SigV4Options> = {}): SigV4Options => ({
  nowMs: SUITE.nowMs,
  lookupSecret: (id) => (id === SUITE.accessKeyId ? SUITE.secret : undefined),
  ...over,
});
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MISMATCH = expect.objectContaining({ ok: false, code: 'SignatureDoesNotMatch', status: 403 });
const failure = (code: string, message?: RegExp | string) =>
  expect.objectContaining({ ok: false, code, ...(message ? { message: expect.stringMatching(message) } : {}) });

/** Replaces the last hex digit of a signature so it differs by one bit pattern. */
const flipLastHex = (text: string) =>
  text.replace(
    /([0-9a-f]{63})([0-9a-f])(?![0-9a-f])/,
    (_, head: string, last: string) => head + (last === '0' ? '1' : '0'),
  );

describe('the AWS SigV4 test suite', () => {
  for (const [name, text] of Object.entries(HEADER_CASES)) {
    it(`accepts ${name} (Authorization header)`, () => {
      expect(verifySigV4(parseRequest(text), suiteOpts())).toEqual({
        ok: true,
        accessKeyId: 'AKIDEXAMPLE',
        region: 'us-east-1',
        service: 'service',
      });
    });
    it(`rejects ${name} with one signature digit changed`, () => {
      expect(verifySigV4(parseRequest(flipLastHex(text)), suiteOpts())).toEqual(MISMATCH);
    });
  }

  for (const [name, text] of Object.entries(QUERY_CASES)) {
    it(`accepts ${name} (presigned)`, () => {
      expect(verifySigV4(parseRequest(text), suiteOpts())).toMatchObject({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    });
    it(`rejects ${name} presigned with one signature digit changed`, () => {
      expect(verifySigV4(parseRequest(flipLastHex(text)), suiteOpts())).toEqual(MISMATCH);
    });
  }

  const signedHeadersOf = (r: ParsedRequest) => /SignedHeaders=([^,]+)/.exec(r.headers.authorization[0])![1].split(';');
  for (const [name, expected] of Object.entries(CANONICAL)) {
    it(`builds the suite's canonical request for ${name} byte for byte`, () => {
      const r = parseRequest(HEADER_CASES[name]);
      expect(canonicalRequest({ ...r, signedHeaders: signedHeadersOf(r), payloadHash: EMPTY_SHA256 })).toBe(expected);
    });
  }

  it("builds the suite's string to sign for get-vanilla", () => {
    const r = parseRequest(HEADER_CASES['get-vanilla']);
    const creq = canonicalRequest({ ...r, signedHeaders: ['host', 'x-amz-date'], payloadHash: EMPTY_SHA256 });
    expect(stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', creq)).toBe(GET_VANILLA_STS);
  });

  it('the suite signs an S3-style unnormalised path differently: those signatures are refused', () => {
    // get-slash-dot-slash-unnormalized signs "/./" literally, as S3 does; non-S3 services normalise to "/".
    const s3Style = HEADER_CASES['get-slash-dot-slash-normalized'].replace(
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      createHmac('sha256', signingKey(SUITE.secret, '20150830', 'us-east-1', 'service'))
        .update(
          stringToSign(
            '20150830T123600Z',
            '20150830/us-east-1/service/aws4_request',
            'GET\n/./\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n' + EMPTY_SHA256,
          ),
        )
        .digest('hex'),
    );
    expect(verifySigV4(parseRequest(s3Style), suiteOpts())).toEqual(MISMATCH);
  });
});

describe('signingKey', () => {
  it("matches the AWS documentation's derived key example", () => {
    // docs.aws.amazon.com, "Examples of how to derive a signing key for Signature Version 4".
    expect(signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex')).toBe(
      'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d',
    );
  });

  it('is derived once per secret, date, region and service', () => {
    const a = signingKey('s1', '20261123', 'us-east-1', 'sqs');
    expect(signingKey('s1', '20261123', 'us-east-1', 'sqs')).toBe(a);
    for (const other of [
      signingKey('s2', '20261123', 'us-east-1', 'sqs'),
      signingKey('s1', '20261124', 'us-east-1', 'sqs'),
      signingKey('s1', '20261123', 'eu-west-1', 'sqs'),
      signingKey('s1', '20261123', 'us-east-1', 'sns'),
    ])
      expect(other.equals(a)).toBe(false);
  });
});

describe('canonicalUri', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['//', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['/a//b///c', '/a/b/c'],
    ['/a/./b/.', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../a', '/a'],
    ['/a/b/../..', '/'],
    ['/a/b/../../', '/'],
    ['/..', '/'],
    ['/...', '/...'],
    ['/a%20b', '/a%2520b'],
    ['/a%2Fb', '/a%252Fb'],
    ['/%2E%2E/x', '/%252E%252E/x'],
    ['/a b', '/a%20b'],
    ['/ሴ', '/%E1%88%B4'],
    ["/!'()*+,;=:@$&", '/%21%27%28%29%2A%2B%2C%3B%3D%3A%40%24%26'],
    ['/-_.~AZaz09', '/-_.~AZaz09'],
    ['/123456789012/my-queue', '/123456789012/my-queue'],
  ])('%j becomes %j', (path, expected) => {
    expect(canonicalUri(path)).toBe(expected);
  });
});

describe('canonicalQuery', () => {
  it.each([
    ['', ''],
    ['b=2&a=1', 'a=1&b=2'],
    ['a=2&a=1&a=10', 'a=1&a=10&a=2'],
    ['a', 'a='],
    ['a=', 'a='],
    ['a&a=x&a=', 'a=&a=&a=x'],
    ['a=1&&b=2&', 'a=1&b=2'],
    ['B=1&a=1', 'B=1&a=1'],
    ['a-b=1&a=2&a_b=3&a.b=4&a~b=5', 'a=2&a-b=1&a.b=4&a_b=3&a~b=5'],
    ['k=a b', 'k=a%20b'],
    ['k=a%20b', 'k=a%20b'],
    ['k=a+b', 'k=a%2Bb'],
    ['k=a%2Bb', 'k=a%2Bb'],
    ['k=%7e%2d', 'k=~-'],
    ['k=%e1%88%b4', 'k=%E1%88%B4'],
    ['k=ሴ', 'k=%E1%88%B4'],
    ['k=100%', 'k=100%25'],
    ['k=%zz%4', 'k=%25zz%254'],
    ['k=a=b', 'k=a%3Db'],
    ["k=!'()*", 'k=%21%27%28%29%2A'],
    ['%41=1', 'A=1'],
    ['Action=SendMessage&MessageBody=hi&Version=2012-11-05', 'Action=SendMessage&MessageBody=hi&Version=2012-11-05'],
  ])('%j becomes %j', (query, expected) => {
    expect(canonicalQuery(query)).toBe(expected);
  });

  it('sorts by encoded name first, so "a=2" precedes "a-b=1" whatever the values', () => {
    expect(canonicalQuery('a-b=0&a=z')).toBe('a=z&a-b=0');
  });

  it('leaves out only the named parameter', () => {
    expect(canonicalQuery('X-Amz-Signature=abc&X-Amz-Date=1&z=2', 'X-Amz-Signature')).toBe('X-Amz-Date=1&z=2');
  });
});

describe('canonicalHeaders', () => {
  it('trims, collapses inner whitespace runs and joins repeated values with commas', () => {
    const headers = { host: ' h ', 'x-a': ['  one  two ', '\tthree\t\tfour'], 'x-b': 'a \t b' };
    expect(canonicalHeaders(headers, ['host', 'x-a', 'x-b'])).toBe('host:h\nx-a:one two,three four\nx-b:a b\n');
  });

  it('writes a signed header that is absent as empty (and so fails verification)', () => {
    expect(canonicalHeaders({}, ['x-missing'])).toBe('x-missing:\n');
  });
});

// -----------------------------------------------------------------------------------------------
// Cross-check: requests signed by the AWS SDK's own signer (@smithy/signature-v4) verify.

const KEY = { accessKeyId: 'AKIAHERALDEXAMPLE', secretAccessKey: 'herald/secret+key/EXAMPLE0123456789abcdef' };
const lookup = (id: string) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined);
const NOW = Date.UTC(2026, 10, 23, 11, 0, 0);

/** The SDK's query encoding (RFC 3986: encodeURIComponent plus !'()*). */
const escape = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

const ODD = [
  '',
  ' ',
  'a b',
  'a+b',
  'a=b',
  'a&b',
  '100%',
  '%41',
  'ሴ',
  '✓ ok',
  "!'()*",
  '~-._',
  '/x/y',
  'é',
  '😀',
  'q?r',
  '#frag',
];

interface Generated {
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  repeated: Record<string, string[]>;
  method: string;
  body?: string;
}

function generate(i: number): Generated {
  const r = rng(i + 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const segments = Array.from({ length: Math.floor(r() * 4) }, () =>
    escape(pick(['q', '123456789012', 'my queue', 'ሴ', 'a.b', "it's", '(x)', '+'])),
  );
  if (r() < 0.2) segments.push('.', '..'); // both sides normalise these away
  const path = '/' + segments.join(r() < 0.2 ? '//' : '/') + (r() < 0.3 ? '/' : '');
  const query: Record<string, string | string[]> = {};
  for (let k = Math.floor(r() * 4); k > 0; k--) {
    const name = pick(['Action', 'a', 'A', 'a-b', 'a_b', 'ሴ', 'k y', 'MessageBody']);
    query[name] = r() < 0.3 ? [pick(ODD), pick(ODD), pick(ODD)] : pick(ODD);
  }
  const headers: Record<string, string> = {
    host: pick(['sqs.us-east-1.amazonaws.com', 'localhost:4566', '127.0.0.1:8080']),
  };
  if (r() < 0.5) headers['x-herald-spaces'] = '  lots   of \t spaces  ';
  if (r() < 0.5)
    headers['content-type'] = pick(['application/x-amz-json-1.0', 'application/x-www-form-urlencoded; charset=utf-8']);
  const repeated: Record<string, string[]> = r() < 0.4 ? { 'x-herald-repeat': [' one ', 'two  2', 'three'] } : {};
  const method = pick(['GET', 'POST', 'POST']);
  const body =
    method === 'GET'
      ? undefined
      : pick([
          JSON.stringify({ QueueUrl: 'http://localhost/123456789012/q', MessageBody: `hello ✓ ${i}` }),
          `Action=SendMessage&MessageBody=${escape('a b & ✓')}&Version=2012-11-05`,
          '',
        ]);
  return { path, query, headers, repeated, method, body };
}

/** What arrives at Herald: the query string as the SDK writes it, repeated headers as separate values. */
function onTheWire(signed: HttpRequest, repeated: Record<string, string[]>, shuffleSeed: number): SigV4Request {
  const r = rng(shuffleSeed);
  const parts: string[] = [];
  for (const [name, value] of Object.entries(signed.query))
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escape(name)}=${escape(v as string)}`);
  parts.sort(() => r() - 0.5); // order on the wire does not matter
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  for (const [name, list] of Object.entries(repeated)) headers[name] = list;
  return {
    method: signed.method,
    path: signed.path,
    query: parts.join('&'),
    headers,
    body: Buffer.from(typeof signed.body === 'string' ? signed.body : ''),
  };
}

function sdkRequest(g: Generated): HttpRequest {
  return new HttpRequest({
    method: g.method,
    protocol: 'https:',
    hostname: g.headers.host,
    path: g.path,
    query: g.query,
    // The SDK signs one value per name. A client that sends a header more than once signs, per the
    // spec, each value trimmed and then joined by commas: that is what the SDK is given here.
    headers: {
      ...g.headers,
      ...Object.fromEntries(Object.entries(g.repeated).map(([n, l]) => [n, l.map((v) => v.trim()).join(',')])),
    },
    body: g.body,
  });
}

const signer = (service = 'sqs', region = 'us-east-1', applyChecksum = true) =>
  new SignatureV4({ credentials: KEY, region, service, sha256: Sha256, applyChecksum });

describe('requests signed by @smithy/signature-v4 (the AWS SDK for JavaScript v3 signer)', () => {
  it('verify, over 300 generated requests with odd paths, queries, headers and bodies', async () => {
    for (let i = 0; i < 300; i++) {
      const g = generate(i);
      const service = i % 2 ? 'sqs' : 'sns';
      const signed = (await signer(service, 'eu-west-1', i % 3 !== 0).sign(sdkRequest(g), {
        signingDate: new Date(NOW - (i % 7) * 60_000),
      })) as HttpRequest;
      const wire = onTheWire(signed, g.repeated, i + 99);
      const result = verifySigV4(wire, { nowMs: NOW, lookupSecret: lookup });
      expect(result, `request ${i}: ${JSON.stringify(wire)}`).toEqual({
        ok: true,
        accessKeyId: KEY.accessKeyId,
        region: 'eu-west-1',
        service,
      });
      // ... and the same request with its body or one query value changed does not.
      if (wire.body.length > 0)
        expect(
          verifySigV4(
            { ...wire, body: Buffer.concat([wire.body, Buffer.from(' ')]) },
            { nowMs: NOW, lookupSecret: lookup },
          ),
        ).toEqual(MISMATCH);
      if (wire.query !== '')
        expect(verifySigV4({ ...wire, query: wire.query + 'x' }, { nowMs: NOW, lookupSecret: lookup })).toEqual(
          MISMATCH,
        );
    }
  });

  it('verify when presigned, over 200 generated requests', async () => {
    for (let i = 0; i < 200; i++) {
      const g = generate(1000 + i);
      const presigned = (await signer().presign(sdkRequest(g), {
        signingDate: new Date(NOW - 60_000),
        expiresIn: 300 + i,
      })) as HttpRequest;
      expect(presigned.query['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
      const wire = onTheWire(presigned, g.repeated, i);
      expect(verifySigV4(wire, { nowMs: NOW, lookupSecret: lookup }), JSON.stringify(wire)).toMatchObject({ ok: true });
      expect(verifySigV4({ ...wire, path: wire.path + 'x' }, { nowMs: NOW, lookupSecret: lookup })).toEqual(MISMATCH);
    }
  });

  it('verify with x-amz-content-sha256: UNSIGNED-PAYLOAD, whatever the body', async () => {
    const req = sdkRequest({ ...generate(5), method: 'POST', body: 'signed as unsigned' });
    req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const wire = onTheWire((await signer().sign(req, { signingDate: new Date(NOW) })) as HttpRequest, {}, 1);
    expect(verifySigV4(wire, { nowMs: NOW, lookupSecret: lookup })).toMatchObject({ ok: true });
    expect(
      verifySigV4({ ...wire, body: Buffer.from('another body') }, { nowMs: NOW, lookupSecret: lookup }),
    ).toMatchObject({ ok: true });
  });
});

// botocore, the signer behind boto3 and the AWS CLI, canonicalises from the URL string rather
// than from decoded parameters. Run when python3 with botocore is on the machine.
function hasBotocore(): boolean {
  try {
    execFileSync('python3', ['-c', 'import botocore'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasBotocore())('requests signed by botocore (boto3, AWS CLI)', () => {
  interface Signed {
    method: string;
    url: string;
    headers: Array<[string, string]>;
    body: string;
  }
  function botocoreSign(requests: object[]): Signed[] {
    const script = fileURLToPath(new URL('../support/botocore-sign.py', import.meta.url));
    return JSON.parse(execFileSync('python3', [script], { input: JSON.stringify(requests) }).toString()) as Signed[];
  }
  function wireOf(s: Signed): SigV4Request {
    const url = new URL(s.url);
    const headers: Record<string, string[]> = { host: [url.host] }; // what urllib3 sends
    for (const [name, value] of s.headers) (headers[name.toLowerCase()] ??= []).push(value);
    // The raw target, not url.pathname: WHATWG URL parsing would resolve the dot segments.
    const target = s.url.slice(s.url.indexOf('/', 'http://'.length));
    const q = target.indexOf('?');
    return {
      method: s.method,
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? '' : target.slice(q + 1),
      headers,
      body: Buffer.from(s.body, 'utf8'),
    };
  }
  function requestFor(i: number, presign: boolean) {
    const g = generate(5000 + i);
    // botocore's presigner keeps one value per query name.
    const query = Object.entries(g.query).flatMap(([k, v]) =>
      (Array.isArray(v) && !presign ? v : [[v].flat()[0]]).map((x) => `${escape(k)}=${escape(x)}`),
    );
    return {
      method: g.method,
      url: `http://${g.headers.host}${g.path}${query.length ? '?' + query.join('&') : ''}`,
      headers: [
        ...Object.entries(g.headers).filter(([n]) => n !== 'host'),
        ...Object.entries(g.repeated).flatMap(([n, list]) => list.map((v) => [n, v])),
      ],
      body: presign ? '' : (g.body ?? ''),
      presign,
      expires: 600,
      service: i % 2 ? 'sqs' : 'sns',
      region: 'ap-southeast-2',
      accessKeyId: KEY.accessKeyId,
      secret: KEY.secretAccessKey,
    };
  }

  it('verify, header-signed and presigned, over 200 generated requests', () => {
    const requests = Array.from({ length: 200 }, (_, i) => requestFor(i, i % 4 === 3));
    const signed = botocoreSign(requests);
    signed.forEach((s, i) => {
      const wire = wireOf(s);
      const opts = { nowMs: Date.now(), lookupSecret: lookup };
      expect(verifySigV4(wire, opts), `request ${i}: ${JSON.stringify(s)}`).toEqual({
        ok: true,
        accessKeyId: KEY.accessKeyId,
        region: 'ap-southeast-2',
        service: requests[i].service,
      });
      expect(verifySigV4({ ...wire, path: wire.path + 'x' }, opts)).toEqual(MISMATCH);
    });
  });
});

describe('the real SQS client (@aws-sdk/client-sqs)', () => {
  it('signs SendMessage and ReceiveMessage so that Herald verifies them', async () => {
    const seen: SigV4Result[] = [];
    const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
    const sqs = sqsClient(({ request, action, body, input }) => {
      const query = Object.entries(request.query ?? {})
        .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${escape(k)}=${escape(String(x))}`))
        .join('&');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const wire = { method: request.method, path: request.path, query, headers, body };
      seen.push(verifySigV4(wire, { nowMs: Date.now(), lookupSecret: lookup, service: 'sqs' }));
      return action === 'SendMessage'
        ? { MessageId: 'm-1', MD5OfMessageBody: md5(input.MessageBody as string) }
        : { Messages: [{ MessageId: 'm-1', ReceiptHandle: 'r', Body: 'héllo ✓', MD5OfBody: md5('héllo ✓') }] };
    }, KEY);
    const queueUrl = 'http://localhost:4566/000000000000/orders';
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'héllo ✓ & more' }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(seen).toEqual([
      { ok: true, accessKeyId: KEY.accessKeyId, region: 'us-east-1', service: 'sqs' },
      { ok: true, accessKeyId: KEY.accessKeyId, region: 'us-east-1', service: 'sqs' },
    ]);
  });
});

// -----------------------------------------------------------------------------------------------
// Refusals

async function signedRequest(
  over: { body?: string; headers?: Record<string, string>; date?: number } = {},
): Promise<SigV4Request> {
  const req = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: 'localhost',
    path: '/000000000000/orders',
    query: { Action: 'SendMessage' },
    headers: { host: 'localhost:4566', 'content-type': 'application/x-www-form-urlencoded', ...over.headers },
    body: over.body ?? 'MessageBody=hello&Version=2012-11-05',
  });
  return onTheWire((await signer().sign(req, { signingDate: new Date(over.date ?? NOW) })) as HttpRequest, {}, 0);
}
const verify = (req: SigV4Request, over: Partial<SigV4Options> = {}) =>
  verifySigV4(req, { nowMs: NOW, lookupSecret: lookup, ...over });
const withHeader = (req: SigV4Request, name: string, value: string | string[] | undefined) => ({
  ...req,
  headers: { ...req.headers, [name]: value },
});
const authorizationOf = (req: SigV4Request) => req.headers.authorization as string;

describe('verifySigV4 refuses', () => {
  it('a request without any signature: MissingAuthenticationToken (403)', async () => {
    const req = withHeader(await signedRequest(), 'authorization', undefined);
    expect(verify(req)).toEqual({
      ok: false,
      code: 'MissingAuthenticationToken',
      status: 403,
      message: 'Request is missing Authentication Token',
    });
  });

  it('an unknown access key: InvalidClientTokenId (403)', async () => {
    expect(verify(await signedRequest(), { lookupSecret: () => undefined })).toEqual({
      ok: false,
      code: 'InvalidClientTokenId',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
  });

  it('a wrong secret', async () => {
    expect(verify(await signedRequest(), { lookupSecret: () => KEY.secretAccessKey + 'x' })).toEqual(MISMATCH);
  });

  it('a tampered body, header, query, path or method', async () => {
    const req = await signedRequest({ headers: { 'x-herald-tag': 'blue' } });
    expect(verify(req)).toMatchObject({ ok: true });
    expect(verify({ ...req, body: Buffer.from('MessageBody=hellO&Version=2012-11-05') })).toEqual(MISMATCH);
    expect(verify(withHeader(req, 'x-herald-tag', 'red'))).toEqual(MISMATCH);
    expect(verify(withHeader(req, 'x-herald-tag', ['blue', 'blue']))).toEqual(MISMATCH);
    expect(verify(withHeader(req, 'content-type', 'application/json'))).toEqual(MISMATCH);
    expect(verify(withHeader(req, 'host', 'evil:4566'))).toEqual(MISMATCH);
    expect(verify({ ...req, query: 'Action=DeleteQueue' })).toEqual(MISMATCH);
    expect(verify({ ...req, query: req.query + '&Extra=1' })).toEqual(MISMATCH);
    expect(verify({ ...req, path: '/000000000000/other' })).toEqual(MISMATCH);
    expect(verify({ ...req, method: 'PUT' })).toEqual(MISMATCH);
  });

  it('tells apart what is cosmetic: header whitespace and the order of query parameters', async () => {
    const req = await signedRequest({ headers: { 'x-herald-tag': 'blue  sky' } });
    expect(verify(withHeader(req, 'x-herald-tag', '  blue sky\t'))).toMatchObject({ ok: true });
    expect(verify(withHeader(req, 'x-herald-unsigned', 'anything'))).toMatchObject({ ok: true });
    expect(verify({ ...req, method: 'post' })).toMatchObject({ ok: true });
  });

  it('a body that does not match its x-amz-content-sha256 header', async () => {
    const req = await signedRequest(); // the SDK signer sends x-amz-content-sha256 by default
    expect(req.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(verify({ ...req, body: Buffer.from('other') })).toEqual(
      failure('SignatureDoesNotMatch', /x-amz-content-sha256' header does not match/),
    );
    expect(verify(withHeader(req, 'x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'))).toEqual(
      failure('IncompleteSignature', /UNSIGNED-PAYLOAD or a hex SHA-256/),
    );
  });

  it('a request whose signed headers leave out host', async () => {
    const req = await signedRequest();
    const noHost = authorizationOf(req).replace('SignedHeaders=content-type;host;', 'SignedHeaders=content-type;');
    expect(noHost).not.toBe(authorizationOf(req));
    expect(verify(withHeader(req, 'authorization', noHost))).toEqual(
      failure('IncompleteSignature', /'Host' must be a signed header/),
    );
  });

  it('a request more than 15 minutes old or ahead, and accepts one at exactly 15 minutes', async () => {
    const req = await signedRequest();
    const m15 = 15 * 60_000;
    expect(verify(req, { nowMs: NOW + m15 })).toMatchObject({ ok: true });
    expect(verify(req, { nowMs: NOW - m15 })).toMatchObject({ ok: true });
    expect(verify(req, { nowMs: NOW + m15 + 1000 })).toEqual({
      ok: false,
      code: 'SignatureDoesNotMatch',
      status: 403,
      message: 'Signature expired: 20261123T110000Z is now earlier than 20261123T110001Z (20261123T111501Z - 15 min.)',
    });
    expect(verify(req, { nowMs: NOW - m15 - 1000 })).toEqual({
      ok: false,
      code: 'SignatureDoesNotMatch',
      status: 403,
      message:
        'Signature not yet current: 20261123T110000Z is still later than 20261123T105959Z (20261123T104459Z + 15 min.)',
    });
  });

  it('takes the date from a Date header when there is no X-Amz-Date', async () => {
    const req = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: 'localhost',
      path: '/',
      headers: { host: 'localhost', date: 'Mon, 23 Nov 2026 11:00:00 GMT' },
    });
    // The SDK signer always adds X-Amz-Date; sign by hand as a Date-header client would.
    const creq = canonicalRequest({
      method: 'GET',
      path: '/',
      query: '',
      headers: req.headers,
      signedHeaders: ['date', 'host'],
      payloadHash: EMPTY_SHA256,
    });
    const sig = createHmac('sha256', signingKey(KEY.secretAccessKey, '20261123', 'us-east-1', 'sqs'))
      .update(stringToSign('20261123T110000Z', '20261123/us-east-1/sqs/aws4_request', creq))
      .digest('hex');
    const wire: SigV4Request = {
      method: 'GET',
      path: '/',
      query: '',
      headers: {
        ...req.headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/20261123/us-east-1/sqs/aws4_request, SignedHeaders=date;host, Signature=${sig}`,
      },
      body: Buffer.alloc(0),
    };
    expect(verify(wire)).toMatchObject({ ok: true, service: 'sqs' });
    expect(verify(withHeader(wire, 'date', 'Mon, 23 Nov 2026 11:00:01 GMT'))).toEqual(MISMATCH);
    expect(verify(withHeader(wire, 'date', 'yesterday'))).toEqual(
      failure('IncompleteSignature', /'X-Amz-Date' or a 'Date' header/),
    );
    expect(verify(wire, { nowMs: NOW + 16 * 60_000 })).toEqual(failure('SignatureDoesNotMatch', /^Signature expired/));
  });

  it('a credential scope dated another day than the request', async () => {
    const req = await signedRequest();
    const otherDay = authorizationOf(req).replace('/20261123/', '/20261122/');
    expect(verify(withHeader(req, 'authorization', otherDay))).toEqual(
      failure(
        'SignatureDoesNotMatch',
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T110000Z'.",
      ),
    );
  });

  it('a credential scoped to another service, when the caller names one', async () => {
    const req = await signedRequest();
    expect(verify(req, { service: 'sqs' })).toMatchObject({ ok: true });
    expect(verify(req, { service: 'sns' })).toEqual(
      failure('SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sns'."),
    );
  });

  it('malformed Authorization headers: IncompleteSignature (400)', async () => {
    const req = await signedRequest();
    const auth = authorizationOf(req);
    const cases: Array<[string | string[], RegExp]> = [
      ['AWS AKIA:abc', /Unsupported AWS 'algorithm': 'AWS'/],
      [auth.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'), /Unsupported/],
      [auth.replace(/Credential=[^,]+, /, ''), /requires 'Credential' parameter/],
      [auth.replace(/SignedHeaders=[^,]+, /, ''), /requires 'SignedHeaders' parameter/],
      [auth.replace(/, Signature=.*/, ''), /requires 'Signature' parameter/],
      [auth.replace(/Signature=[0-9a-f]+/, 'Signature='), /requires 'Signature' parameter/],
      ['AWS4-HMAC-SHA256 ', /'Credential'.*'SignedHeaders'.*'Signature'/],
      [auth.replace(/Credential=[^/]+\//, 'Credential='), /exactly 5 slash-delimited elements/],
      [auth.replace('us-east-1/', 'us-east-1//'), /exactly 5 slash-delimited elements/],
      [[auth, auth], /Only one authentication mechanism/],
    ];
    for (const [value, message] of cases) {
      const result = verify(withHeader(req, 'authorization', value));
      expect(result, String(value)).toEqual({
        ok: false,
        code: 'IncompleteSignature',
        status: 400,
        message: expect.stringMatching(message),
      });
    }
    expect(verify(withHeader(req, 'authorization', auth.replace('aws4_request', 'aws5_request')))).toEqual(
      failure('SignatureDoesNotMatch', /valid terminator: 'aws4_request', not 'aws5_request'/),
    );
    expect(verify(withHeader(req, 'authorization', auth.replace(/Signature=[0-9a-f]+/, 'Signature=XYZ')))).toEqual(
      MISMATCH,
    );
    expect(
      verify(
        withHeader(
          req,
          'authorization',
          auth.replace(/Signature=([0-9a-f]+)/, (_, s: string) => 'Signature=' + s.toUpperCase()),
        ),
      ),
    ).toEqual(MISMATCH);
    expect(verify(withHeader(req, 'authorization', auth.replace(/Signature=([0-9a-f]+)/, 'Signature=$1aa')))).toEqual(
      MISMATCH,
    );
    expect(verify(withHeader(req, 'x-amz-date', '20261123T110000'))).toEqual(
      failure('IncompleteSignature', /ISO-8601 'basic format'/),
    );
    expect(verify(withHeader(req, 'x-amz-date', '20261131T110000Z'))).toEqual(
      failure('IncompleteSignature', /ISO-8601 'basic format'/),
    );
    expect(verify(withHeader(req, 'x-amz-date', ['20261123T110000Z', '20261123T110000Z']))).toEqual(
      failure('IncompleteSignature', /'X-Amz-Date' or a 'Date'/),
    );
  });
});

describe('verifySigV4 on presigned URLs', () => {
  async function presigned(expiresIn = 300): Promise<SigV4Request> {
    const req = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: 'localhost',
      path: '/000000000000/orders',
      query: { Action: 'ReceiveMessage', 'Odd Name': 'a+b c' },
      headers: { host: 'localhost:4566' },
    });
    return onTheWire((await signer().presign(req, { signingDate: new Date(NOW), expiresIn })) as HttpRequest, {}, 3);
  }

  it('accept until X-Amz-Expires has passed, and not a second later', async () => {
    const req = await presigned(300);
    expect(verify(req, { nowMs: NOW + 300_000 })).toMatchObject({ ok: true });
    expect(verify(req, { nowMs: NOW + 301_000 })).toEqual({
      ok: false,
      code: 'SignatureDoesNotMatch',
      status: 403,
      message: 'Signature expired: 20261123T110500Z is now earlier than 20261123T110501Z',
    });
    const week = await presigned(604_800);
    expect(verify(week, { nowMs: NOW + 604_800_000 })).toMatchObject({ ok: true });
  });

  it('refuse one dated more than 15 minutes ahead', async () => {
    expect(verify(await presigned(), { nowMs: NOW - 15 * 60_000 - 1000 })).toEqual(
      failure('SignatureDoesNotMatch', /^Signature not yet current/),
    );
  });

  it('refuse tampering with any X-Amz-* parameter or the rest of the query', async () => {
    const req = await presigned(300);
    for (const [from, to] of [
      ['X-Amz-Expires=300', 'X-Amz-Expires=3000'],
      ['X-Amz-Date=20261123T110000Z', 'X-Amz-Date=20261123T110100Z'],
      ['Action=ReceiveMessage', 'Action=PurgeQueue'],
      ['Odd%20Name=a%2Bb%20c', 'Odd%20Name=a%20b%20c'],
    ]) {
      expect(req.query).toContain(from);
      expect(verify({ ...req, query: req.query.replace(from, to) }), from).toEqual(MISMATCH);
    }
  });

  it('refuse malformed or missing X-Amz-* parameters', async () => {
    const req = await presigned(300);
    const drop = (name: string) =>
      req.query
        .split('&')
        .filter((p) => !p.startsWith(name + '='))
        .join('&');
    for (const name of ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-Expires'])
      expect(verify({ ...req, query: drop(name) }), name).toEqual(
        failure('IncompleteSignature', `AWS query-string parameters must include '${name}'.`),
      );
    for (const bad of ['0', '604801', '-1', '1e3', 'soon'])
      expect(verify({ ...req, query: req.query.replace('X-Amz-Expires=300', `X-Amz-Expires=${bad}`) }), bad).toEqual(
        failure('IncompleteSignature', /X-Amz-Expires must be a whole number/),
      );
    expect(verify({ ...req, query: req.query.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512') })).toEqual(
      failure('IncompleteSignature', /Unsupported/),
    );
    for (const name of ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Date'])
      expect(verify({ ...req, query: `${req.query}&${name}=again` }), name).toEqual(
        failure('IncompleteSignature', `'${name}' must appear only once in the query string.`),
      );
    expect(verify(withHeader(req, 'authorization', 'AWS4-HMAC-SHA256 Credential=x'))).toEqual(
      failure('IncompleteSignature', /Only one authentication mechanism/),
    );
    expect(
      verify({ ...req, query: req.query.replace(/X-Amz-SignedHeaders=[^&]+/, 'X-Amz-SignedHeaders=x-amz-date') }),
    ).toEqual(failure('IncompleteSignature', /'Host' must be a signed header/));
  });
});
