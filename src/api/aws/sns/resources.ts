/** Finding the topic or subscription an SNS request names by ARN. */
import { parseQueueArn, parseSubscriptionArn, parseTopicArn } from '../../../aws/arns.js';
import type { Subscription, Topic } from '../../../types.js';
import type { SnsContext } from './context.js';
import { invalidParameter, notFound } from './errors.js';
import { required, type Params } from './params.js';

export async function topicByArn(ctx: SnsContext, p: Params, name = 'TopicArn'): Promise<Topic> {
  const arn = required(p, name);
  const topic = parseTopicArn(arn);
  if (topic === null) throw invalidParameter(`${name}: not a topic ARN: ${arn.slice(0, 300)}`);
  const found = await ctx.store.getTopic(topic);
  if (!found) throw notFound('Topic does not exist');
  return found;
}

export async function subscriptionByArn(ctx: SnsContext, p: Params): Promise<Subscription> {
  const arn = required(p, 'SubscriptionArn');
  const parsed = parseSubscriptionArn(arn);
  if (!parsed) throw invalidParameter(`SubscriptionArn: not a subscription ARN: ${arn.slice(0, 300)}`);
  const sub = await ctx.store.getSubscription(parsed.id);
  if (!sub || sub.topic !== parsed.topic) throw notFound('Subscription does not exist');
  return sub;
}

/** A Herald queue named by an SQS queue ARN (endpoints and dead-letter targets). */
export function queueFromArn(field: string, arn: string): string {
  const queue = parseQueueArn(arn);
  if (queue === null)
    throw invalidParameter(
      `${field}: not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>): ${arn.slice(0, 300)}`,
    );
  return queue;
}
