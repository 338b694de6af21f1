/**
 * Verifies AWS Signature Version 4 on an incoming request, so that the AWS SDKs, the AWS CLI
 * and boto3 can call Herald's SNS and SQS endpoints with ordinary access keys.
 *
 * Both forms are accepted: the `Authorization: AWS4-HMAC-SHA256 ...` header and the presigned
 * query string (`X-Amz-Algorithm`, `X-Amz-Credential`, ...). The canonical request follows the
 * rules AWS applies to every service but S3: the path is normalised (empty and `.` segments
 * dropped, `..` resolved) and then percent-encoded once more as received, which is the
 * "double encoding" the spec describes; the query is decoded and re-encoded per RFC 3986.
 *
 * Pure: the clock, the credential lookup and the request bytes are inputs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { hexDigest } from '../digest.js';

/** Header values by lower-cased name; an array for a header sent more than once (Node's `req.headersDistinct`). */
export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface SigV4Request {
  method: string;
  /** The path exactly as it arrived, still percent-encoded, without the query. */
  path: string;
  /** The query string exactly as it arrived, without the leading `?`. */
  query: string;
  headers: HeaderValues;
  body: Uint8Array;
}

export interface SigV4Options {
  nowMs: number;
  lookupSecret: (accessKeyId: string) => string | undefined;
  /** When set, the credential scope must name this service (`sqs`, `sns`). */
  service?: string;
}

/** The codes SQS and SNS answer with; the SDKs map them to typed errors. */
export type SigV4ErrorCode =
  'MissingAuthenticationToken' | 'IncompleteSignature' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch';

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; service: string }
  | { ok: false; code: SigV4ErrorCode; status: 400 | 403; message: string };

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** AWS refuses requests whose date is more than 15 minutes from its clock, either way. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** A presigned URL may live at most seven days (the life of a derived signing key). */
export const MAX_EXPIRES_SECONDS = 604_800;

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const fail = (code: SigV4ErrorCode, message: string): SigV4Result => ({
  ok: false,
  code,
  status: code === 'IncompleteSignature' ? 400 : 403,
  message,
});
const incomplete = (message: string) => fail('IncompleteSignature', message);

// ---------------------------------------------------------------------------------------------
// Canonical request

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Text that RFC 3986 encoding leaves as it is (with `/` kept, for paths). */
const PLAIN = /^[A-Za-z0-9\-._~]*$/;
const PLAIN_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** RFC 3986 encoding of the UTF-8 bytes of `text`; `keep` lists extra characters left as they are. */
function encode(text: string | Buffer, keep = ''): string {
  if (typeof text === 'string' && (keep === '' ? PLAIN : keep === '/' ? PLAIN_PATH : null)?.test(text)) return text;
  let out = '';
  for (const byte of typeof text === 'string' ? Buffer.from(text, 'utf8') : text) {
    const ch = String.fromCharCode(byte);
    out +=
      byte < 0x80 && (UNRESERVED.test(ch) || keep.includes(ch))
        ? ch
        : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Percent-decodes to bytes; a `%` not followed by two hex digits stays a literal `%`. `+` stays `+`. */
function decode(text: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === 0x25 ? raw.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(raw[i]);
  }
  return Buffer.from(bytes);
}

/**
 * The canonical URI for every service but S3: drop empty and `.` segments, resolve `..`, keep
 * the leading and trailing slash, then encode what arrived once more (`%20` becomes `%2520`).
 * The SDKs sign their already-encoded path the same way, so both sides meet.
 */
export function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return encode('/' + segments.join('/') + trailing, '/');
}

/** Query parameters as decoded `[name, value]` byte pairs, in arrival order; a name without `=` has value "". */
function queryPairs(query: string): Array<[Buffer, Buffer]> {
  const pairs: Array<[Buffer, Buffer]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push(eq < 0 ? [decode(part), Buffer.alloc(0)] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]);
  }
  return pairs;
}

/** Sorted by encoded name, then encoded value (repeated names keep every value); `omit` drops a parameter by name. */
export function canonicalQuery(query: string, omit?: string): string {
  return queryPairs(query)
    .filter(([name]) => omit === undefined || name.toString('utf8') !== omit)
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

const values = (headers: HeaderValues, name: string): readonly string[] => {
  const v = headers[name];
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
};

/** A header value as signed: trimmed, inner whitespace runs collapsed to one space. */
const canonicalValue = (v: string) => (/[^\S ]| {2}/.test(v) ? v.trim().replace(/\s+/g, ' ') : v.trim());

/** One `name:value` line per signed header: values trimmed, inner whitespace runs collapsed, repeats joined by commas. */
export function canonicalHeaders(headers: HeaderValues, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const v = headers[name];
    const text = v === undefined ? '' : typeof v === 'string' ? canonicalValue(v) : v.map(canonicalValue).join(',');
    out += `${name}:${text}\n`;
  }
  return out;
}

export interface CanonicalParts {
  method: string;
  path: string;
  query: string;
  headers: HeaderValues;
  signedHeaders: readonly string[];
  payloadHash: string;
  /** For presigned requests: the query parameter not covered by the signature. */
  omitQuery?: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  return [
    p.method.toUpperCase(),
    canonicalUri(p.path),
    canonicalQuery(p.query, p.omitQuery),
    canonicalHeaders(p.headers, p.signedHeaders),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
}

const sha256Hex = (data: string | Uint8Array) => hexDigest('sha256', data);
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

// Every request from one client derives the same key for a day: HMAC it four times only once.
const signingKeys = new Map<string, Buffer>();
const MAX_CACHED_KEYS = 10_000;

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), cached. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  // Scope parts never hold '/' (the credential is split on it) and header values never hold '\n'.
  const id = `${date}/${region}/${service}\n${secret}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
    if (signingKeys.size >= MAX_CACHED_KEYS) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// Verification

interface Claim {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  /** Presigned only: lifetime in seconds. */
  expiresSeconds?: number;
  omitQuery?: string;
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Every request a client signs within one second carries the same date: parse it once. */
let lastAmzDate = '';
let lastAmzDateMs: number | undefined;

function amzDateMs(amzDate: string): number | undefined {
  if (amzDate === lastAmzDate) return lastAmzDateMs;
  const m = AMZ_DATE.exec(amzDate);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 20261332 over into February: refuse dates that do not exist.
  const valid = new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '') === amzDate;
  lastAmzDate = amzDate;
  lastAmzDateMs = valid ? ms : undefined;
  return lastAmzDateMs;
}

const toAmzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

function single(headers: HeaderValues, name: string): string | undefined {
  const v = values(headers, name);
  return v.length === 1 ? v[0] : undefined;
}

function fromHeader(authorization: string, headers: HeaderValues): Claim | SigV4Result {
  if (!authorization.startsWith(ALGORITHM + ' '))
    return incomplete(`Unsupported AWS 'algorithm': '${authorization.split(' ')[0]}'; only ${ALGORITHM} is accepted.`);
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((f) => !fields.get(f));
  let amzDate = single(headers, 'x-amz-date');
  if (amzDate === undefined) {
    const date = single(headers, 'date');
    // A Date header signs as its ISO 8601 basic form.
    if (date !== undefined && HTTP_DATE.test(date) && !Number.isNaN(Date.parse(date)))
      amzDate = toAmzDate(Date.parse(date));
  }
  const problems = missing.map((f) => `Authorization header requires '${f}' parameter.`);
  if (amzDate === undefined)
    problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (problems.length > 0) return incomplete(problems.join(' '));
  return {
    credential: fields.get('Credential')!,
    signedHeaders: fields.get('SignedHeaders')!,
    signature: fields.get('Signature')!,
    amzDate: amzDate!,
  };
}

function fromQuery(query: string): Claim | SigV4Result {
  const params = new Map<string, string>();
  for (const [nameBytes, value] of queryPairs(query)) {
    const name = nameBytes.toString('utf8');
    // A second X-Amz-Signature would be left out of the canonical query along with the first.
    if (name.startsWith('X-Amz-') && params.has(name))
      return incomplete(`'${name}' must appear only once in the query string.`);
    params.set(name, value.toString('utf8'));
  }
  if (params.get('X-Amz-Algorithm') !== ALGORITHM)
    return incomplete(
      `Unsupported AWS 'algorithm': '${params.get('X-Amz-Algorithm')}'; only ${ALGORITHM} is accepted.`,
    );
  const names = ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-Expires'];
  const missing = names.filter((n) => !params.get(n));
  if (missing.length > 0)
    return incomplete(missing.map((n) => `AWS query-string parameters must include '${n}'.`).join(' '));
  const expires = params.get('X-Amz-Expires')!;
  if (!/^\d{1,6}$/.test(expires) || Number(expires) < 1 || Number(expires) > MAX_EXPIRES_SECONDS)
    return incomplete(
      `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_EXPIRES_SECONDS}; got '${expires}'.`,
    );
  return {
    credential: params.get('X-Amz-Credential')!,
    signedHeaders: params.get('X-Amz-SignedHeaders')!,
    signature: params.get('X-Amz-Signature')!,
    amzDate: params.get('X-Amz-Date')!,
    expiresSeconds: Number(expires),
    omitQuery: 'X-Amz-Signature',
  };
}

/** `x-amz-content-sha256` when sent (and then it must match the body), else the body's SHA-256. */
function payloadHash(req: SigV4Request): string | SigV4Result {
  const declared = values(req.headers, 'x-amz-content-sha256');
  if (declared.length === 0) return sha256Hex(req.body);
  if (declared.length > 1) return incomplete("Only one 'x-amz-content-sha256' header may be sent.");
  if (declared[0] === UNSIGNED_PAYLOAD) return UNSIGNED_PAYLOAD;
  if (!/^[0-9a-fA-F]{64}$/.test(declared[0]))
    return incomplete(`'x-amz-content-sha256' must be ${UNSIGNED_PAYLOAD} or a hex SHA-256 digest.`);
  if (declared[0].toLowerCase() !== sha256Hex(req.body))
    return fail(
      'SignatureDoesNotMatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  return declared[0];
}

function checkClock(claim: Claim, nowMs: number): SigV4Result | undefined {
  const dateMs = amzDateMs(claim.amzDate);
  if (dateMs === undefined) return incomplete(`Date must be in ISO-8601 'basic format'. Got '${claim.amzDate}'.`);
  if (dateMs - nowMs > MAX_SKEW_MS)
    return fail(
      'SignatureDoesNotMatch',
      `Signature not yet current: ${claim.amzDate} is still later than ${toAmzDate(nowMs + MAX_SKEW_MS)} (${toAmzDate(nowMs)} + 15 min.)`,
    );
  if (claim.expiresSeconds !== undefined) {
    const endMs = dateMs + claim.expiresSeconds * 1000;
    if (nowMs > endMs)
      return fail(
        'SignatureDoesNotMatch',
        `Signature expired: ${toAmzDate(endMs)} is now earlier than ${toAmzDate(nowMs)}`,
      );
  } else if (nowMs - dateMs > MAX_SKEW_MS) {
    return fail(
      'SignatureDoesNotMatch',
      `Signature expired: ${claim.amzDate} is now earlier than ${toAmzDate(nowMs - MAX_SKEW_MS)} (${toAmzDate(nowMs)} - 15 min.)`,
    );
  }
  return undefined;
}

export function verifySigV4(req: SigV4Request, opts: SigV4Options): SigV4Result {
  const authorization = values(req.headers, 'authorization');
  const presigned = /(^|&)X-Amz-Algorithm=/.test(req.query);
  if (authorization.length === 0 && !presigned)
    return fail('MissingAuthenticationToken', 'Request is missing Authentication Token');
  if (authorization.length > 1 || (authorization.length === 1 && presigned))
    return incomplete(
      'Only one authentication mechanism is allowed: the Authorization header or the X-Amz-* query parameters.',
    );
  const claim = authorization.length === 1 ? fromHeader(authorization[0], req.headers) : fromQuery(req.query);
  if ('ok' in claim) return claim;

  const scope = claim.credential.split('/');
  if (scope.length !== 5 || scope.some((s) => s === ''))
    return incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${claim.credential}'.`,
    );
  const [accessKeyId, scopeDate, region, service, terminator] = scope;
  if (terminator !== 'aws4_request')
    return fail(
      'SignatureDoesNotMatch',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`,
    );
  const signedHeaders = claim.signedHeaders.split(';');
  if (!signedHeaders.includes('host')) return incomplete("'Host' must be a signed header.");
  if (!/^[0-9a-f]{64}$/.test(claim.signature)) return fail('SignatureDoesNotMatch', MISMATCH);

  const secret = opts.lookupSecret(accessKeyId);
  if (secret === undefined)
    return fail('InvalidClientTokenId', 'The security token included in the request is invalid.');
  const clock = checkClock(claim, opts.nowMs);
  if (clock) return clock;
  if (scopeDate !== claim.amzDate.slice(0, 8))
    return fail(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${claim.amzDate.slice(0, 8)}', from '${claim.amzDate}'.`,
    );
  if (opts.service !== undefined && service !== opts.service)
    return fail('SignatureDoesNotMatch', `Credential should be scoped to correct service: '${opts.service}'.`);

  const hash = payloadHash(req);
  if (typeof hash !== 'string') return hash;
  const canonical = canonicalRequest({ ...req, signedHeaders, payloadHash: hash, omitQuery: claim.omitQuery });
  const scopeText = [scopeDate, region, service, 'aws4_request'].join('/');
  const expected = createHmac('sha256', signingKey(secret, scopeDate, region, service))
    .update(stringToSign(claim.amzDate, scopeText, canonical), 'utf8')
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(claim.signature, 'hex'))) return fail('SignatureDoesNotMatch', MISMATCH);
  return { ok: true, accessKeyId, region, service };
}
