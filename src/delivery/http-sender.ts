/**
 * One webhook attempt over HTTP: a POST through a shared keep-alive pool, a hard timeout,
 * and a coarse classification of what went wrong. No retry logic lives here.
 */
import { Agent, type Dispatcher } from 'undici';
import type { ErrorClass } from '../types.js';
import { parseRetryAfter } from './retry-schedule.js';
import type { WebhookSender } from './threaded-sender.js';

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  errorClass: ErrorClass | null;
  error: string | null;
  /** Delay the endpoint asked for (Retry-After on 429/503), in ms. */
  retryAfterMs: number | null;
  /** Whether the failure says the endpoint is unhealthy (counts towards its circuit breaker). */
  endpointFault: boolean;
  /**
   * Set when Herald's own sender failed rather than the endpoint (a sender thread died, or
   * the sender is closing): the request may not have left, so it is no attempt at all.
   */
  notSent?: true;
  /** When the request left (ms since the epoch): later than the engine's hand-off if the sender queued it. */
  startedAtMs?: number;
}

/** A request the sender itself failed or withdrew (see AttemptResult.notSent): no attempt, no breaker. */
export const notSent = (message: string): AttemptResult => ({
  ok: false,
  status: null,
  latencyMs: 0,
  errorClass: 'network',
  error: message,
  retryAfterMs: null,
  endpointFault: false,
  notSent: true,
});

/** Where a webhook goes, split once from its URL (see `targetOf`). */
export interface Target {
  origin: string;
  path: string;
}

export function targetOf(endpoint: string): Target {
  const url = new URL(endpoint);
  return { origin: url.origin, path: url.pathname + url.search };
}

const USER_AGENT = 'Herald-Webhooks/0.1';
const MAX_ERROR_LENGTH = 300;

export class HttpSender implements WebhookSender {
  /** Every request starts when handed over: the engine keeps each lane's limit itself. */
  readonly queues = false;
  private readonly agent: Agent;

  constructor(opts: { connectionsPerOrigin: number }) {
    this.agent = new Agent({
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: { timeout: 10_000 },
    });
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing waits here: a request handed over has started. */
  cancelQueued(): void {}

  resumeLane(): void {}

  /**
   * POST through undici's `dispatch` with a handler object: no response stream and no
   * promise chain per request, which at tens of thousands of deliveries a second is most of
   * the client's cost. The response body is discarded as it arrives, so a large answer
   * holds no memory, and the connection goes back to the pool for reuse.
   *
   * `timeoutMs` bounds the wait for the headers and each wait between body chunks (undici's
   * timeouts), and the answer as a whole: an answer still arriving past it (a trickle that
   * never idles long enough for undici) is cut off there and taken for what its status said.
   * (A deadline timer per request for the rest, the connection wait included, cost a third
   * more CPU per request in the sender-alone probe, docs/benchmarks.md.)
   */
  send(target: Target, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
    const started = performance.now();
    const startedAtMs = Date.now();
    return new Promise<AttemptResult>((resolve) => {
      let status = 0;
      let retryAfter: string | undefined;
      let settled = false;
      const settle = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        r.startedAtMs = startedAtMs;
        resolve(r);
      };
      const handler: Dispatcher.DispatchHandler = {
        // Its presence tells undici this is a handler of the current (controller) interface.
        onRequestStart() {},
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          const h = responseHeaders['retry-after'];
          retryAfter = Array.isArray(h) ? h[0] : h;
        },
        onResponseData(controller) {
          // Discarded; but an answer must not outlast its timeout, however it trickles in.
          if (Date.now() - startedAtMs > timeoutMs) {
            settle(answered(status, retryAfter, performance.now() - started));
            controller.abort(new Error(`answer not complete within ${timeoutMs} ms`));
          }
        },
        onResponseEnd() {
          settle(answered(status, retryAfter, performance.now() - started));
        },
        onResponseError(_controller, error) {
          // An error after the status arrived (body cut short) still has the endpoint's answer.
          if (status >= 200 && status < 300) return settle(answered(status, undefined, performance.now() - started));
          const errorClass = classify(error);
          settle({
            ok: false,
            status: null,
            latencyMs: performance.now() - started,
            errorClass,
            error: errorClass === 'timeout' ? `no answer within ${timeoutMs} ms` : describe(error),
            retryAfterMs: null,
            endpointFault: true,
          });
        },
      };
      try {
        this.agent.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
            body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          handler,
        );
      } catch (error) {
        handler.onResponseError!(null as unknown as Dispatcher.DispatchController, error as Error);
      }
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}

/** What an endpoint's status (and Retry-After) says about the attempt. */
export function answered(status: number, retryAfterHeader: string | undefined, latencyMs: number): AttemptResult {
  if (status >= 200 && status < 300) {
    return { ok: true, status, latencyMs, errorClass: null, error: null, retryAfterMs: null, endpointFault: false };
  }
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(retryAfterHeader, Date.now()) : null;
  return {
    ok: false,
    status,
    latencyMs,
    errorClass: status >= 500 ? 'http_5xx' : status >= 400 ? 'http_4xx' : 'http_other',
    error: `endpoint answered HTTP ${status}`,
    retryAfterMs,
    // A 4xx (including 429) comes from a live endpoint; only 5xx says it is struggling.
    endpointFault: status >= 500,
  };
}

function errorCode(error: unknown): string {
  let e = error as { code?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 4; i++) {
    if (e.code) return e.code;
    e = e.cause as typeof e;
  }
  return '';
}

export function classify(error: unknown): ErrorClass {
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED')
    return 'connection_reset';
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.includes('CERT') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
  )
    return 'tls';
  return 'network';
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return (code && !message.includes(code) ? `${code}: ${message}` : message).slice(0, MAX_ERROR_LENGTH);
}
