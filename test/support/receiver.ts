/** A real webhook receiver on 127.0.0.1 whose answers a test scripts. */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** Header names and values as they came on the wire (repeats included). */
  rawHeaders: string[];
  body: string;
  at: number;
}

/** Decide the answer for a request: a status, or a function that writes the response itself. */
export type Responder = (
  req: Received,
  n: number,
) => number | { status: number; headers?: Record<string, string>; delayMs?: number };

export interface Receiver {
  url: string;
  requests: Received[];
  respond: Responder;
  close(): Promise<void>;
}

export async function startReceiver(respond: Responder = () => 200): Promise<Receiver> {
  const requests: Received[] = [];
  const receiver = { requests, respond } as Receiver;
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '/',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(r);
      const answer = receiver.respond(r, requests.length);
      const a = typeof answer === 'number' ? { status: answer } : answer;
      const send = () => {
        res.writeHead(a.status, a.headers);
        res.end();
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/**
 * A responder that answers `status` after `delayMs` and keeps the most requests it held
 * open at once (`peak`), for tests of concurrency limits.
 */
export function concurrencyProbe(
  delayMs: number,
  status = 200,
): { respond: Responder; peak: () => number; reset: () => void } {
  let open = 0;
  let peak = 0;
  return {
    respond: () => {
      open++;
      peak = Math.max(peak, open);
      setTimeout(() => open--, delayMs);
      return { status, delayMs };
    },
    peak: () => peak,
    reset: () => {
      peak = 0;
    },
  };
}
