/** SNS topic actions: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, and tags. */
import { parseSnsDeliveryPolicy } from '../../../aws/sns-delivery-policy.js';
import type { Topic } from '../../../types.js';
import type { SnsAction, SnsContext } from './context.js';
import { invalidParameter, SnsError } from './errors.js';
import { bool, entryMap, memberList, memberRecords, required, type Params } from './params.js';
import { topicByArn } from './resources.js';
import { entries } from './xml.js';

const PAGE = 100;
const MAX_TAGS = 50;

/** Topic attributes that can be set, with their checks; FifoTopic only at creation. */
const SETTABLE: Record<string, (v: string) => void> = {
  DisplayName: (v) => {
    if (v.length > 100) throw invalidParameter('DisplayName: at most 100 characters');
  },
  Policy: (v) => {
    try {
      JSON.parse(v);
    } catch {
      throw invalidParameter('Policy: must be a JSON policy document');
    }
  },
  DeliveryPolicy: (v) => void parseSnsDeliveryPolicy(v),
  SignatureVersion: (v) => {
    if (v !== '1' && v !== '2')
      throw invalidParameter('SignatureVersion: must be 1 (SHA1withRSA) or 2 (SHA256withRSA)');
  },
  TracingConfig: (v) => {
    if (v !== 'PassThrough' && v !== 'Active') throw invalidParameter('TracingConfig: must be PassThrough or Active');
  },
  KmsMasterKeyId: () => undefined,
};

/**
 * FIFO: `FifoTopic` (at creation; the name must end in .fifo, as on SNS) and
 * `ContentBasedDeduplication` are the topic's FIFO settings in the domain, not SNS attributes.
 */
function fifoSettings(
  name: string,
  attrs: Record<string, string>,
): { contentBasedDeduplication?: boolean } | undefined {
  const fifo = bool('FifoTopic', attrs.FifoTopic, false);
  if (fifo !== name.endsWith('.fifo'))
    throw invalidParameter(
      fifo
        ? 'Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.'
        : 'Name: a topic named .fifo needs the FifoTopic attribute set to true',
    );
  const cbd = attrs.ContentBasedDeduplication;
  if (cbd === undefined) return fifo ? {} : undefined;
  const on = bool('ContentBasedDeduplication', cbd, false);
  if (on && !fifo) throw invalidParameter('ContentBasedDeduplication: applies to FIFO topics only');
  return { contentBasedDeduplication: on };
}

function checkAttributes(attrs: Record<string, string>, creating: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attrs)) {
    if ((name === 'FifoTopic' && creating) || name === 'ContentBasedDeduplication') continue; // see fifoSettings
    const check = SETTABLE[name];
    if (!check) throw invalidParameter(`AttributeName: ${name} is not a topic attribute Herald supports`);
    check(value);
    out[name] = value;
  }
  return out;
}

function checkTags(tags: Array<{ Key?: string; Value?: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) {
    if (!t.Key || t.Key.length > 128) throw invalidParameter('Tags: a tag Key must be 1-128 characters');
    if ((t.Value ?? '').length > 256) throw invalidParameter(`Tags: the value of tag ${t.Key} exceeds 256 characters`);
    out[t.Key] = t.Value ?? '';
  }
  return out;
}

const tagsOf = (p: Params) => checkTags(memberRecords(p, 'Tags'));

function defaultPolicy(ctx: SnsContext, arn: string): string {
  return JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': ctx.config.aws.accountId } },
      },
    ],
  });
}

const createTopic: SnsAction = async (ctx, p) => {
  const name = required(p, 'Name');
  const given = entryMap(p, 'Attributes');
  const attributes = checkAttributes(given, true);
  const tags = tagsOf(p);
  const { topic, created } = await ctx.topics.create(name, fifoSettings(name, given));
  const arn = ctx.sns.topicArn(topic.name);
  if (!created) {
    // Idempotent: the same request answers the same topic; different attributes are refused.
    for (const [k, v] of Object.entries(attributes)) {
      if ((topic.attributes[k] ?? '') !== v)
        throw invalidParameter(`Attributes: topic already exists with different attributes (${k})`);
    }
    if (
      topic.fifo &&
      given.ContentBasedDeduplication !== undefined &&
      bool('ContentBasedDeduplication', given.ContentBasedDeduplication, false) !== topic.contentBasedDeduplication
    )
      throw invalidParameter('Attributes: topic already exists with different attributes (ContentBasedDeduplication)');
    if (Object.keys(tags).length > 0) await saveTopic(ctx, { ...topic, tags: { ...topic.tags, ...tags } });
    return { TopicArn: arn };
  }
  if (Object.keys(attributes).length > 0 || Object.keys(tags).length > 0)
    await saveTopic(ctx, { ...topic, attributes, tags });
  return { TopicArn: arn };
};

async function saveTopic(ctx: SnsContext, topic: Topic): Promise<void> {
  if (Object.keys(topic.tags).length > MAX_TAGS)
    throw new SnsError(
      'TagLimitExceeded',
      `Could not complete request: tag quota of per resource exceeded (${MAX_TAGS})`,
    );
  await ctx.topics.updateSettings(topic);
}

const deleteTopic: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p).catch((error: unknown) => {
    // Deleting a topic that does not exist succeeds, as on SNS.
    if (error instanceof SnsError && error.code === 'NotFound') return null;
    throw error;
  });
  if (topic) await ctx.topics.delete(topic.name);
  return null;
};

const listTopics: SnsAction = async (ctx, p) => {
  const after = p.NextToken ? Buffer.from(p.NextToken, 'base64url').toString('utf8') : undefined;
  const topics = await ctx.topics.list(PAGE + 1, after);
  const page = topics.slice(0, PAGE);
  return {
    Topics: page.map((t) => ({ TopicArn: ctx.sns.topicArn(t.name) })),
    NextToken: topics.length > PAGE ? Buffer.from(page[page.length - 1].name).toString('base64url') : undefined,
  };
};

const getTopicAttributes: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p);
  const arn = ctx.sns.topicArn(topic.name);
  const subs = await ctx.store.listSubscriptions(topic.name);
  const pending = subs.filter((s) => s.status === 'pending_confirmation').length;
  const attrs: Record<string, string> = {
    TopicArn: arn,
    Owner: ctx.config.aws.accountId,
    Policy: defaultPolicy(ctx, arn),
    DisplayName: '',
    SubscriptionsConfirmed: String(subs.length - pending),
    SubscriptionsPending: String(pending),
    SubscriptionsDeleted: '0',
    SignatureVersion: '1',
    EffectiveDeliveryPolicy: JSON.stringify({
      http: {
        defaultHealthyRetryPolicy: {
          minDelayTarget: 20,
          maxDelayTarget: 20,
          numRetries: 3,
          numMaxDelayRetries: 0,
          numNoDelayRetries: 0,
          numMinDelayRetries: 0,
          backoffFunction: 'linear',
        },
        disableSubscriptionOverrides: false,
      },
    }),
    ...topic.attributes,
  };
  if (topic.attributes.DeliveryPolicy) attrs.EffectiveDeliveryPolicy = topic.attributes.DeliveryPolicy;
  if (topic.fifo) {
    attrs.FifoTopic = 'true';
    attrs.ContentBasedDeduplication = String(topic.contentBasedDeduplication);
  }
  return { Attributes: entries(attrs) };
};

const setTopicAttributes: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p);
  const name = required(p, 'AttributeName');
  const value = p.AttributeValue ?? '';
  if (name === 'FifoTopic')
    throw invalidParameter('AttributeName: FifoTopic can only be set when the topic is created');
  if (name === 'ContentBasedDeduplication') {
    if (!topic.fifo) throw invalidParameter('ContentBasedDeduplication: applies to FIFO topics only');
    await ctx.topics.update(topic.name, { contentBasedDeduplication: bool(name, value, false) });
    return null;
  }
  const next = { ...topic.attributes };
  if (value === '' && name !== 'DisplayName') delete next[name];
  else Object.assign(next, checkAttributes({ [name]: value }, false));
  await saveTopic(ctx, { ...topic, attributes: next });
  return null;
};

/** Tag actions name topics by ResourceArn and answer ResourceNotFound for unknown ones. */
async function taggedTopic(ctx: SnsContext, p: Params): Promise<Topic> {
  return topicByArn(ctx, p, 'ResourceArn').catch((error: unknown) => {
    if (error instanceof SnsError && error.code === 'NotFound')
      throw new SnsError('ResourceNotFound', 'Resource does not exist', 404);
    throw error;
  });
}

const tagResource: SnsAction = async (ctx, p) => {
  const topic = await taggedTopic(ctx, p);
  await saveTopic(ctx, { ...topic, tags: { ...topic.tags, ...tagsOf(p) } });
  return {};
};

const untagResource: SnsAction = async (ctx, p) => {
  const topic = await taggedTopic(ctx, p);
  const tags = { ...topic.tags };
  for (const key of memberList(p, 'TagKeys')) delete tags[key];
  await saveTopic(ctx, { ...topic, tags });
  return {};
};

const listTagsForResource: SnsAction = async (ctx, p) => {
  const topic = await taggedTopic(ctx, p);
  return { Tags: Object.entries(topic.tags).map(([Key, Value]) => ({ Key, Value })) };
};

export const topicActions: Record<string, SnsAction> = {
  CreateTopic: createTopic,
  DeleteTopic: deleteTopic,
  ListTopics: listTopics,
  GetTopicAttributes: getTopicAttributes,
  SetTopicAttributes: setTopicAttributes,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
};
