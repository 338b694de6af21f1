/**
 * One webhook attempt over HTTP: a POST through a shared keep-alive pool, a hard timeout,
 * and a coarse classification of what went wrong. No retry logic lives here.
 */
import { Agent } from 'undici';
import type { ErrorClass } from '../types.js';
import { parseRetryAfter } from './retry-schedule.js';

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
}

const USER_AGENT = 'Herald-Webhooks/0.1';
const MAX_ERROR_LENGTH = 300;

export class HttpSender {
  private readonly agent: Agent;

  constructor(opts: { connectionsPerOrigin: number }) {
    this.agent = new Agent({
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: { timeout: 10_000 },
    });
  }

  async send(url: URL, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
    const started = performance.now();
    // undici's own timers bound the wait for the answer's headers and for each body chunk;
    // an AbortController per request would cost more than the request's signing.
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { 'content-type': headers['content-type'] ?? 'application/json', 'user-agent': USER_AGENT, ...headers },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      // Drain (and bound) the answer so the connection can be reused.
      await res.body.dump({ limit: 64 * 1024 });
      const latencyMs = performance.now() - started;
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        return { ok: true, status, latencyMs, errorClass: null, error: null, retryAfterMs: null, endpointFault: false };
      }
      const retryAfterHeader = status === 429 || status === 503 ? res.headers['retry-after'] : undefined;
      const retryAfterMs = parseRetryAfter(Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader, Date.now());
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
    } catch (error) {
      const latencyMs = performance.now() - started;
      const errorClass = classify(error);
      const message = errorClass === 'timeout' ? `no answer within ${timeoutMs} ms` : describe(error);
      return { ok: false, status: null, latencyMs, errorClass, error: message, retryAfterMs: null, endpointFault: true };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  destroy(): Promise<void> {
    return this.agent.destroy();
  }
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
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'connection_reset';
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'tls';
  return 'network';
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return (code && !message.includes(code) ? `${code}: ${message}` : message).slice(0, MAX_ERROR_LENGTH);
}
