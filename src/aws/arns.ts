/**
 * Amazon Resource Names for Herald's topics, subscriptions and queues, as the AWS adapters
 * show them: `arn:aws:sns:<region>:<account>:<topic>`,
 * `arn:aws:sns:<region>:<account>:<topic>:<subscription id>` and
 * `arn:aws:sqs:<region>:<account>:<queue>`. The region and account are configured; ARNs
 * naming another account or region are still accepted by name (one Herald is one account).
 */
export interface AwsNames {
  region: string;
  accountId: string;
}

export const topicArn = (n: AwsNames, topic: string) => `arn:aws:sns:${n.region}:${n.accountId}:${topic}`;
export const subscriptionArn = (n: AwsNames, topic: string, id: string) => `${topicArn(n, topic)}:${id}`;
export const queueArn = (n: AwsNames, queue: string) => `arn:aws:sqs:${n.region}:${n.accountId}:${queue}`;

const ARN = /^arn:aws[a-z-]*:(sns|sqs):[a-z0-9-]*:\d*:([^:]+)(?::([^:]+))?$/;

function parse(service: 'sns' | 'sqs', arn: unknown): { name: string; id?: string } | null {
  if (typeof arn !== 'string') return null;
  const m = ARN.exec(arn);
  if (!m || m[1] !== service) return null;
  return { name: m[2], id: m[3] };
}

/** The topic an SNS topic ARN names, or null when it is not one. */
export function parseTopicArn(arn: unknown): string | null {
  const p = parse('sns', arn);
  return p && p.id === undefined ? p.name : null;
}

export function parseSubscriptionArn(arn: unknown): { topic: string; id: string } | null {
  const p = parse('sns', arn);
  return p && p.id !== undefined ? { topic: p.name, id: p.id } : null;
}

export function parseQueueArn(arn: unknown): string | null {
  const p = parse('sqs', arn);
  return p && p.id === undefined ? p.name : null;
}
