/**
 * Requests from the AWS Signature Version 4 test suite (first published in the AWS General
 * Reference, now kept in awslabs/aws-c-auth tests/aws-signing-test-suite/v4), as signed
 * requests: `header` cases carry an Authorization header, `query` cases are presigned URLs with
 * X-Amz-Expires=3600. All sign at 2015-08-30T12:36:00Z with the suite's example key, region
 * us-east-1, service "service". Only the cases that apply to non-S3 services are here (the
 * "-normalized" path cases, not the S3 "-unnormalized" ones). Request lines are written as the
 * suite writes them: a space or a non-ASCII character in the path is the signer's raw path.
 */
export const SUITE = {
  accessKeyId: 'AKIDEXAMPLE',
  secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
  nowMs: Date.UTC(2015, 7, 30, 12, 36, 0),
};

const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';
const DATE = 'X-Amz-Date:20150830T123600Z';
const HOST = 'Host:example.amazonaws.com';
const PRESIGN =
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request' +
  '&X-Amz-Date=20150830T123600Z';
const lines = (...l: string[]) => l.join('\n');

export const HEADER_CASES: Record<string, string> = {
  'get-vanilla': lines(
    'GET / HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    DATE,
    '',
    '',
  ),
  'get-unreserved': lines(
    'GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f`,
    DATE,
    '',
    '',
  ),
  'get-utf8': lines(
    'GET /ሴ HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85`,
    DATE,
    '',
    '',
  ),
  'get-header-key-duplicate': lines(
    'GET / HTTP/1.1',
    HOST,
    'My-Header1:value2',
    'My-Header1:value2',
    'My-Header1:value1',
    `Authorization:${AUTH}, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea`,
    DATE,
    '',
    '',
  ),
  'get-header-value-order': lines(
    'GET / HTTP/1.1',
    HOST,
    'My-Header1:value4',
    'My-Header1:value1',
    'My-Header1:value3',
    'My-Header1:value2',
    `Authorization:${AUTH}, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01`,
    DATE,
    '',
    '',
  ),
  'get-header-value-multiline': lines(
    'GET / HTTP/1.1',
    HOST,
    'My-Header1:value1',
    '  value2',
    '     value3',
    `Authorization:${AUTH}, SignedHeaders=host;my-header1;x-amz-date, Signature=ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790`,
    DATE,
    '',
    '',
  ),
  'get-header-value-trim': lines(
    'GET / HTTP/1.1',
    HOST,
    'My-Header1: value1',
    'My-Header2: "a   b   c"',
    `Authorization:${AUTH}, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736`,
    DATE,
    '',
    '',
  ),
  'get-relative-normalized': lines(
    'GET /example/.. HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    DATE,
    '',
    '',
  ),
  'get-relative-relative-normalized': lines(
    'GET /example1/example2/../.. HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    DATE,
    '',
    '',
  ),
  'get-slash-normalized': lines(
    'GET // HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    DATE,
    '',
    '',
  ),
  'get-slash-dot-slash-normalized': lines(
    'GET /./ HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    DATE,
    '',
    '',
  ),
  'get-slash-pointless-dot-normalized': lines(
    'GET /./example HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5`,
    DATE,
    '',
    '',
  ),
  'get-slashes-normalized': lines(
    'GET //example// HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84`,
    DATE,
    '',
    '',
  ),
  'get-space-normalized': lines(
    'GET /example space/ HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-empty-query-key': lines(
    'GET /?Param1=value1 HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-query-order-key': lines(
    'GET /?Param1=value2&Param1=Value1 HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-query-order-key-case': lines(
    'GET /?Param2=value2&Param1=value1 HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-query-order-value': lines(
    'GET /?Param1=value2&Param1=value1 HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-query-order-encoded': lines(
    'GET /?Param-3=Value3&Param=Value2&%E1%88%B4=Value1 HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-utf8-query': lines(
    'GET /?ሴ=bar HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04`,
    DATE,
    '',
    '',
  ),
  'get-vanilla-with-session-token': lines(
    'GET / HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8`,
    DATE,
    'X-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267',
    '',
    '',
  ),
  'post-vanilla': lines(
    'POST / HTTP/1.1',
    HOST,
    `Authorization:${AUTH}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
    DATE,
    '',
    '',
  ),
  'post-header-key-sort': lines(
    'POST / HTTP/1.1',
    HOST,
    'My-Header1:value1',
    `Authorization:${AUTH}, SignedHeaders=host;my-header1;x-amz-date, Signature=c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c`,
    DATE,
    '',
    '',
  ),
  'post-x-www-form-urlencoded': lines(
    'POST / HTTP/1.1',
    'Content-Type:application/x-www-form-urlencoded',
    HOST,
    'Content-Length:13',
    'x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    `Authorization:${AUTH}, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b`,
    DATE,
    '',
    'Param1=value1',
  ),
  'post-x-www-form-urlencoded-parameters': lines(
    'POST / HTTP/1.1',
    'Content-Type:application/x-www-form-urlencoded; charset=utf-8',
    HOST,
    'Content-Length:13',
    'x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    `Authorization:${AUTH}, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=328d1b9eaadca9f5818ef05e8392801e091653bafec24fcab71e7344e7f51422`,
    DATE,
    '',
    'Param1=value1',
  ),
};

export const QUERY_CASES: Record<string, string> = {
  'get-utf8': lines(
    `GET /ሴ?${PRESIGN}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=10eae3f14a260bd3911cc6d008d3c576d143b05b62f09782a7a4b37f52178e44 HTTP/1.1`,
    HOST,
    DATE,
    '',
    '',
  ),
  'get-header-key-duplicate': lines(
    `GET /?${PRESIGN}&X-Amz-SignedHeaders=host%3Bmy-header1&X-Amz-Expires=3600&X-Amz-Signature=3349ee0b81b4b589da0ff28a395c3591e04de515651dd74f298fa992d1507a97 HTTP/1.1`,
    HOST,
    'My-Header1:value2',
    'My-Header1:value2',
    'My-Header1:value1',
    DATE,
    '',
    '',
  ),
  'get-space-normalized': lines(
    `GET /example space/?${PRESIGN}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=7a1f416954786484c9824d93c1f26ef64acb9b1b6c9154d08c9f07d0e394abf6 HTTP/1.1`,
    HOST,
    DATE,
    '',
    '',
  ),
  'get-slashes-normalized': lines(
    `GET //example//?${PRESIGN}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=c1834e8fb0307243711f0f907f6ab7311ed300d87f13792d7ee4da89ab93e082 HTTP/1.1`,
    HOST,
    DATE,
    '',
    '',
  ),
  'get-vanilla-query-unreserved': lines(
    `GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz&${PRESIGN}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=8e76a88a7433637b12778d5592799b29ad21ecd6cf6325051c21d86f0acda2bf HTTP/1.1`,
    HOST,
    DATE,
    '',
    '',
  ),
  'get-vanilla-utf8-query': lines(
    `GET /?ሴ=bar&${PRESIGN}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=0bdd809b1519ac4f0c1dc3540e2cc46bd0c7f778eda408b2ebf3b913d21ff600 HTTP/1.1`,
    HOST,
    DATE,
    '',
    '',
  ),
  'get-vanilla-query-order-encoded': lines(
    `GET /?Param-3=Value3&Param=Value2&%E1%88%B4=Value1&${PRESIGN}&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787 HTTP/1.1`,
    HOST,
    DATE,
    '',
    '',
  ),
  // The suite's .sreq leaves out the x-amz-content-sha256 header it signed (its .creq shows it): restored here.
  'post-x-www-form-urlencoded': lines(
    `POST /?${PRESIGN}&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-content-sha256&X-Amz-Expires=3600&X-Amz-Signature=c2348f57d08c84939944d6c878b3f7be56316f8e7fd6817e81eded279a362d69 HTTP/1.1`,
    'Content-Type:application/x-www-form-urlencoded',
    HOST,
    'Content-Length:13',
    'x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    DATE,
    '',
    'Param1=value1',
  ),
};

/** Canonical requests the suite publishes (`.creq`), for the cases that test one rule each. */
export const CANONICAL: Record<string, string> = {
  'get-header-key-duplicate':
    'GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'get-header-value-trim':
    'GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:"a b c"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'get-vanilla-query-order-key':
    'GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'get-vanilla-query-order-key-case':
    'GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'get-unreserved':
    'GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

/** The suite's string to sign for get-vanilla (`.sts`). */
export const GET_VANILLA_STS =
  'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63';

export interface ParsedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string[]>;
  body: Buffer;
}

/** Parses a suite `.req`/`.sreq`: folded continuation lines become further values of the header above. */
export function parseRequest(text: string): ParsedRequest {
  const split = text.indexOf('\n\n');
  const head = text.slice(0, split).split('\n');
  const body = Buffer.from(text.slice(split + 2), 'utf8');
  const requestLine = head[0];
  const method = requestLine.slice(0, requestLine.indexOf(' '));
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(' '));
  const q = target.indexOf('?');
  const headers: Record<string, string[]> = {};
  let last = '';
  for (const line of head.slice(1)) {
    if (/^\s/.test(line)) {
      headers[last].push(line);
      continue;
    }
    const colon = line.indexOf(':');
    last = line.slice(0, colon).toLowerCase();
    (headers[last] ??= []).push(line.slice(colon + 1));
  }
  return {
    method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    headers,
    body,
  };
}
