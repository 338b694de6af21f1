/**
 * Queue URLs and ARNs. A queue URL is `<origin>/<account>/<name>` with the origin the client
 * used (so it works through whatever host name or port mapping reached Herald); an ARN is
 * `arn:aws:sqs:<region>:<account>:<name>`.
 */
import type { AwsConfig } from '../../../config.js';
import { AwsError } from '../errors.js';

export const queueDoesNotExist = (what = 'The specified queue does not exist.') =>
  new AwsError('QueueDoesNotExist', what, 400, 'AWS.SimpleQueueService.NonExistentQueue');

export const queueUrl = (origin: string, aws: AwsConfig, name: string) => `${origin}/${aws.accountId}/${name}`;
export const queueArn = (aws: AwsConfig, name: string) => `arn:aws:sqs:${aws.region}:${aws.accountId}:${name}`;

/** The queue name in a queue URL (any host), or a bare name; wrong account: no such queue. */
export function nameFromUrl(url: string, aws: AwsConfig): string {
  let path = url;
  if (/^https?:\/\//i.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      throw queueDoesNotExist();
    }
  }
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 1) return decodeURIComponent(parts[0]);
  if (parts.length !== 2 || parts[0] !== aws.accountId) throw queueDoesNotExist();
  return decodeURIComponent(parts[1]);
}

/** The queue name in an SQS ARN of this account and region. */
export function nameFromArn(arn: string, aws: AwsConfig, what = 'arn'): string {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') {
    throw new AwsError(
      'InvalidParameterValue',
      `Value ${arn} for parameter ${what} is invalid. Reason: not an SQS queue ARN.`,
    );
  }
  if (parts[4] !== aws.accountId || parts[3] !== aws.region)
    throw queueDoesNotExist(`The queue ${arn} does not exist.`);
  return parts[5];
}
