/**
 * Herald's error type. Domain code throws `HeraldError` with a stable `code`; the HTTP
 * boundary (src/api/errors.ts) maps it to `{ "error": { "code", "message" } }` with `status`.
 * Messages name the field or option that fixes the problem.
 */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'topic_not_found'
  | 'queue_not_found'
  | 'subscription_not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'message_too_large'
  | 'unsupported_media_type'
  | 'throttled'
  | 'unavailable'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  topic_not_found: 404,
  queue_not_found: 404,
  subscription_not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  message_too_large: 413,
  unsupported_media_type: 415,
  throttled: 429,
  unavailable: 503,
  internal: 500,
};

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.code = code;
    this.status = STATUS[code];
  }
}

export const invalid = (message: string) => new HeraldError('invalid_request', message);
