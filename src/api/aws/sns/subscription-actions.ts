/**
 * SNS subscription actions. Subscriptions made here are `sns`-style: HTTP/S ones are sent a
 * SubscriptionConfirmation and get nothing until confirmed; `sqs` ones copy SNS's JSON
 * notification (or the bare message when RawMessageDelivery is set) into a Herald queue.
 */
import {
  parseSnsDeliveryPolicy,
  toHeraldDeliveryPolicy,
  toSnsDeliveryPolicy,
} from '../../../aws/sns-delivery-policy.js';
import { queueArn } from '../../../aws/arns.js';
import { HeraldError } from '../../../errors.js';
import type { SubscribeInput, SubscriptionPatch } from '../../../topics/subscriptions.js';
import type { DeliveryPolicy, Subscription, Topic } from '../../../types.js';
import * as validate from '../../../validation.js';
import type { SnsAction, SnsContext } from './context.js';
import { invalidParameter, SnsError } from './errors.js';
import { bool, entryMap, required, type Params } from './params.js';
import { queueFromArn, subscriptionByArn, topicByArn } from './resources.js';
import { entries, type XmlObject } from './xml.js';

const PAGE = 100;
const PROTOCOLS = ['sqs', 'http', 'https'];
const NOT_YET = ['email', 'email-json', 'sms', 'application', 'lambda', 'firehose'];
const SUBSCRIBE_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
]);

const snsProtocol = (s: Subscription) => (s.protocol === 'queue' ? 'sqs' : s.protocol);
const snsEndpoint = (ctx: SnsContext, s: Subscription) =>
  s.protocol === 'queue' ? queueArn(ctx.sns.names, s.endpoint) : s.endpoint;
const shownArn = (ctx: SnsContext, s: Subscription) =>
  s.status === 'pending_confirmation' ? 'PendingConfirmation' : ctx.sns.subscriptionArn(s);

/** The Herald fields an SNS attribute sets (validated with SNS's field names). */
async function patchFor(
  ctx: SnsContext,
  topic: Topic,
  protocol: string,
  name: string,
  value: string,
  scope: Subscription['filterPolicyScope'],
): Promise<SubscriptionPatch> {
  switch (name) {
    case 'RawMessageDelivery':
      return { raw: bool('RawMessageDelivery', value, false) };
    case 'FilterPolicy':
      return { filterPolicy: validate.filterPolicy(value, scope, null, 'FilterPolicy') };
    case 'FilterPolicyScope':
      return { filterPolicyScope: validate.filterPolicyScope(value, 'FilterPolicyScope') };
    case 'DeliveryPolicy':
      if (protocol === 'sqs' || protocol === 'queue')
        throw invalidParameter('DeliveryPolicy: only HTTP/S subscriptions have a delivery policy');
      return { deliveryPolicy: value === '' ? defaultPolicy(ctx, topic) : deliveryPolicy(ctx, value) };
    case 'RedrivePolicy':
      return { deadLetterQueue: value === '' ? null : redriveTarget(value) };
    default:
      throw invalidParameter(`AttributeName: ${name} is not a subscription attribute Herald supports`);
  }
}

function deliveryPolicy(ctx: SnsContext, text: string): DeliveryPolicy {
  return toHeraldDeliveryPolicy(parseSnsDeliveryPolicy(text), ctx.config.delivery.defaultPolicy);
}

/** A topic's DeliveryPolicy (http.defaultHealthyRetryPolicy) applies to its HTTP/S subscriptions. */
function defaultPolicy(ctx: SnsContext, topic: Topic): DeliveryPolicy {
  const text = topic.attributes.DeliveryPolicy;
  return text ? deliveryPolicy(ctx, text) : ctx.config.delivery.defaultPolicy;
}

function redriveTarget(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidParameter('RedrivePolicy: must be JSON: {"deadLetterTargetArn":"arn:aws:sqs:..."}');
  }
  const arn = (json as { deadLetterTargetArn?: unknown } | null)?.deadLetterTargetArn;
  if (typeof arn !== 'string') throw invalidParameter('RedrivePolicy: deadLetterTargetArn is missing');
  return queueFromArn('RedrivePolicy: deadLetterTargetArn', arn);
}

const subscribe: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p);
  const protocol = required(p, 'Protocol').toLowerCase();
  if (!PROTOCOLS.includes(protocol)) {
    if (NOT_YET.includes(protocol))
      throw invalidParameter(`Protocol: ${protocol} is not supported yet by Herald (use sqs, http or https)`);
    throw invalidParameter(`Protocol: unknown protocol ${protocol.slice(0, 50)}`);
  }
  const endpointText = required(p, 'Endpoint');
  const endpoint = protocol === 'sqs' ? queueFromArn('Endpoint', endpointText) : endpointText;
  const heraldProtocol = protocol === 'sqs' ? 'queue' : protocol;
  const attrs = entryMap(p, 'Attributes');
  const input: SubscribeInput = { protocol: heraldProtocol, endpoint, style: 'sns' };
  const scope = validate.filterPolicyScope(attrs.FilterPolicyScope, 'FilterPolicyScope');
  for (const [name, value] of Object.entries(attrs)) {
    if (!SUBSCRIBE_ATTRIBUTES.has(name))
      throw invalidParameter(`Attributes: ${name} is not a subscription attribute Herald supports`);
    Object.assign(input, await patchFor(ctx, topic, protocol, name, value, scope));
  }
  if (protocol !== 'sqs' && input.deliveryPolicy === undefined) input.deliveryPolicy = defaultPolicy(ctx, topic);

  // Subscribing the same endpoint again answers the existing subscription, as SNS does.
  const existing = (await ctx.store.listSubscriptions(topic.name)).find(
    (s) => s.protocol === heraldProtocol && s.endpoint === normalise(heraldProtocol, endpoint),
  );
  // Its create may still be waiting for its fsync: answer with it only once it is durable.
  if (existing) await ctx.store.sync();
  // A pending one is sent its confirmation again, as SNS does.
  if (existing?.status === 'pending_confirmation') ctx.subscriptions.requestConfirmation(existing);
  const sub = existing ?? (await ctx.subscriptions.subscribe(topic.name, input));
  const returnArn = bool('ReturnSubscriptionArn', p.ReturnSubscriptionArn, false);
  return {
    SubscriptionArn: returnArn
      ? ctx.sns.subscriptionArn(sub)
      : shownArn(ctx, sub).replace('PendingConfirmation', 'pending confirmation'),
  };
};

function normalise(protocol: string, endpoint: string): string {
  try {
    return protocol === 'queue' ? endpoint : new URL(endpoint).toString();
  } catch {
    return endpoint;
  }
}

const confirmSubscription: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p);
  const token = required(p, 'Token');
  try {
    const sub = await ctx.subscriptions.confirm(topic.name, token);
    return { SubscriptionArn: ctx.sns.subscriptionArn(sub) };
  } catch (error) {
    if (error instanceof HeraldError && error.code === 'invalid_request') throw invalidParameter('Invalid token');
    throw error;
  }
};

const unsubscribe: SnsAction = async (ctx, p) => {
  const sub = await subscriptionByArn(ctx, p);
  await ctx.subscriptions.delete(sub.id);
  return null;
};

function member(ctx: SnsContext, s: Subscription): XmlObject {
  return {
    SubscriptionArn: shownArn(ctx, s),
    Owner: ctx.config.aws.accountId,
    Protocol: snsProtocol(s),
    Endpoint: snsEndpoint(ctx, s),
    TopicArn: ctx.sns.topicArn(s.topic),
  };
}

function page(ctx: SnsContext, subs: Subscription[], p: Params): XmlObject {
  const start = p.NextToken ? Number.parseInt(Buffer.from(p.NextToken, 'base64url').toString('utf8'), 10) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidParameter('NextToken: not a token this API returned');
  const sorted = subs.sort((a, b) => (a.topic + a.createdAt + a.id < b.topic + b.createdAt + b.id ? -1 : 1));
  const slice = sorted.slice(start, start + PAGE);
  const next = start + PAGE < sorted.length ? Buffer.from(String(start + PAGE)).toString('base64url') : undefined;
  return { Subscriptions: slice.map((s) => member(ctx, s)), NextToken: next };
}

const listSubscriptions: SnsAction = async (ctx, p) => page(ctx, await ctx.store.listAllSubscriptions(), p);

const listSubscriptionsByTopic: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p);
  return page(ctx, await ctx.store.listSubscriptions(topic.name), p);
};

const getSubscriptionAttributes: SnsAction = async (ctx, p) => {
  const s = await subscriptionByArn(ctx, p);
  const pending = s.status === 'pending_confirmation';
  const attrs: Record<string, string> = {
    SubscriptionArn: ctx.sns.subscriptionArn(s),
    TopicArn: ctx.sns.topicArn(s.topic),
    Owner: ctx.config.aws.accountId,
    Protocol: snsProtocol(s),
    Endpoint: snsEndpoint(ctx, s),
    PendingConfirmation: String(pending),
    ConfirmationWasAuthenticated: String(!pending),
    RawMessageDelivery: String(s.raw),
  };
  if (s.filterPolicy !== null) {
    attrs.FilterPolicy = s.filterPolicy;
    attrs.FilterPolicyScope = s.filterPolicyScope;
  }
  if (s.protocol !== 'queue') {
    const policy = JSON.stringify(toSnsDeliveryPolicy(s.deliveryPolicy));
    attrs.DeliveryPolicy = policy;
    attrs.EffectiveDeliveryPolicy = policy;
  }
  if (s.deadLetterQueue)
    attrs.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: queueArn(ctx.sns.names, s.deadLetterQueue) });
  return { Attributes: entries(attrs) };
};

const setSubscriptionAttributes: SnsAction = async (ctx, p) => {
  const s = await subscriptionByArn(ctx, p);
  const topic = (await ctx.store.getTopic(s.topic)) as Topic;
  const name = required(p, 'AttributeName');
  const value = p.AttributeValue ?? '';
  let patch: SubscriptionPatch;
  if (name === 'FilterPolicyScope' && s.filterPolicy !== null) {
    // The policy must make sense in its new scope.
    const scope = validate.filterPolicyScope(value, 'FilterPolicyScope');
    patch = {
      filterPolicyScope: scope,
      filterPolicy: validate.filterPolicy(s.filterPolicy, scope, null, 'FilterPolicy'),
    };
  } else patch = await patchFor(ctx, topic, s.protocol, name, value, s.filterPolicyScope);
  try {
    await ctx.subscriptions.update(s.id, patch);
  } catch (error) {
    if (error instanceof HeraldError && error.code === 'queue_not_found')
      throw new SnsError('InvalidParameter', `Invalid parameter: RedrivePolicy: ${error.message}`);
    throw error;
  }
  return null;
};

export const subscriptionActions: Record<string, SnsAction> = {
  Subscribe: subscribe,
  ConfirmSubscription: confirmSubscription,
  Unsubscribe: unsubscribe,
  ListSubscriptions: listSubscriptions,
  ListSubscriptionsByTopic: listSubscriptionsByTopic,
  GetSubscriptionAttributes: getSubscriptionAttributes,
  SetSubscriptionAttributes: setSubscriptionAttributes,
};
