/**
 * Errors of the AWS front door. An `AwsError` carries the error's name as the JSON protocol
 * spells it (`QueueDoesNotExist`, the SDKs' typed exception) and, where the service's older
 * Query protocol spells it differently, that code (`AWS.SimpleQueueService.NonExistentQueue`).
 * server.ts renders it in whichever protocol the request used.
 */
import { HeraldError } from '../../errors.js';

export class AwsError extends Error {
  constructor(
    /** Name in the JSON protocol's `__type` (after the `#`). */
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Code in Query XML and in `x-amzn-query-error`; defaults to `code`. */
    readonly queryCode = code,
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

export const invalidParameter = (message: string) => new AwsError('InvalidParameterValue', message);
export const missingParameter = (name: string) =>
  new AwsError('MissingParameter', `The request must contain the parameter ${name}.`);

/** Herald's domain errors in AWS terms (services map the ones they know better first). */
export function fromHeraldError(error: HeraldError): AwsError {
  switch (error.code) {
    case 'invalid_request':
    case 'invalid_json':
    case 'message_too_large':
    case 'conflict':
      return invalidParameter(error.message);
    case 'not_found':
      return new AwsError('ResourceNotFoundException', error.message, 404);
    case 'throttled':
      return new AwsError('RequestThrottled', error.message, 403);
    case 'unavailable':
      return new AwsError('ServiceUnavailable', error.message, 503);
    default:
      return new AwsError('InternalFailure', error.message, 500);
  }
}
