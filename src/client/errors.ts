/**
 * The one error every client call throws: the server's `{ "error": { "code", "message" } }`
 * answer with its HTTP status, or, with status 0 and code `connection_failed`, a request that
 * got no answer (refused, reset, timed out); the underlying error is its `cause`.
 */
export class HeraldError extends Error {
  /** HTTP status of the answer; 0 when no answer arrived. */
  readonly status: number;
  /** Machine-readable code, for example `topic_not_found`, `unauthorized`, `connection_failed`. */
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.status = status;
    this.code = code;
  }

  /** From an error answer's status and body text; bodies that are not Herald's error JSON still make an error. */
  static fromResponse(status: number, text: string): HeraldError {
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null;
      const err = parsed?.error;
      if (err && typeof err.code === 'string') {
        return new HeraldError(status, err.code, typeof err.message === 'string' ? err.message : `HTTP ${status}`);
      }
    } catch {
      // Not JSON: a proxy or something other than Herald answered.
    }
    const snippet = text.trim().slice(0, 200);
    return new HeraldError(status, 'http_error', snippet ? `HTTP ${status}: ${snippet}` : `HTTP ${status}`);
  }
}
