/**
 * SNS error answers: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`, with
 * the codes the AWS SDKs map to their typed exceptions (NotFoundException for `NotFound`,
 * InvalidParameterException for `InvalidParameter`, ...). Domain errors are translated here,
 * once.
 */
import { HeraldError } from '../../../errors.js';

export class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = 'SnsError';
  }
}

export const invalidParameter = (message: string) => new SnsError('InvalidParameter', `Invalid parameter: ${message}`);
export const notFound = (message: string) => new SnsError('NotFound', message, 404);

/** The SNS error for anything a handler threw. */
export function toSnsError(error: unknown): SnsError | null {
  if (error instanceof SnsError) return error;
  if (!(error instanceof HeraldError)) return null;
  switch (error.code) {
    case 'topic_not_found':
      return notFound('Topic does not exist');
    case 'subscription_not_found':
      return notFound('Subscription does not exist');
    case 'queue_not_found':
      return invalidParameter(error.message);
    case 'invalid_request':
    case 'invalid_json':
    case 'message_too_large':
    case 'payload_too_large':
    case 'conflict':
      return invalidParameter(error.message);
    case 'throttled':
      return new SnsError('Throttled', error.message, 400);
    case 'unauthorized':
      return new SnsError('AuthorizationError', error.message, 403);
    case 'unavailable':
      return new SnsError('ServiceUnavailable', error.message, 503, 'Receiver');
    default:
      return null;
  }
}
