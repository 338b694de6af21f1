/**
 * A pass-through HTTP proxy on 127.0.0.1 in front of Herald's AWS endpoint that notes what each
 * request was: which service signed it, which wire protocol carried it (JSON with
 * `X-Amz-Target`, or a Query form with `Action`) and which action. Requests are forwarded
 * unchanged, Host header included, so their SigV4 signatures still verify.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  /** The service of the signature's credential scope (`sqs`, `sns`). */
  service: string;
  protocol: 'json' | 'query';
  action: string;
  /** The Query form (query string and body); empty for JSON requests. */
  params: Record<string, string>;
  userAgent: string;
}

export interface RecordingProxy {
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

function describeCall(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): RecordedCall {
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(headers.authorization))?.[1] ?? '';
  const userAgent = String(headers['user-agent'] ?? '');
  const target = headers['x-amz-target'];
  if (typeof target === 'string')
    return { service, protocol: 'json', action: target.split('.')[1], params: {}, userAgent };
  const form = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  if (method === 'POST') for (const [k, v] of new URLSearchParams(body.toString('utf8'))) form.set(k, v);
  const params = Object.fromEntries(form);
  return { service, protocol: 'query', action: params.Action ?? '', params, userAgent };
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const calls: RecordedCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      calls.push(describeCall(req.method ?? 'GET', req.url ?? '/', req.headers, body));
      const upstream = request(
        { hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
