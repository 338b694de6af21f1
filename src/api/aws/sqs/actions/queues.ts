/** SQS queue actions: create, find, list, configure, purge, delete, dead-letter sources. */
import { HeraldError } from '../../../../errors.js';
import type { AwsCall, AwsContext } from '../../services.js';
import { AwsError, invalidParameter } from '../../errors.js';
import { optionalInt, optionalString, requiredString, stringList, stringMap, type Input } from '../input.js';
import { nameFromUrl, queueDoesNotExist, queueUrl } from '../names.js';
import { configFromAttributes, queueAttributes, selectAttributes } from '../queue-attributes.js';

const QUEUE_NAME = /^(?=.{1,80}$)[A-Za-z0-9_-]+(\.fifo)?$/;

export const queueOf = (ctx: AwsContext, input: Input) => nameFromUrl(requiredString(input, 'QueueUrl'), ctx.aws);

export async function createQueue(ctx: AwsContext, call: AwsCall) {
  const name = requiredString(call.input, 'QueueName');
  if (!QUEUE_NAME.test(name)) {
    throw invalidParameter(
      'Can only include alphanumeric characters, hyphens, or underscores, and the .fifo suffix for FIFO queues. 1 to 80 in length',
    );
  }
  const fifo = name.endsWith('.fifo');
  const attributes = stringMap(call.input, 'Attributes');
  if (fifo && attributes.FifoQueue !== 'true') {
    throw invalidParameter('The attribute FifoQueue must be true for a queue whose name ends with .fifo.');
  }
  const cfg = configFromAttributes(attributes, ctx.aws, fifo);
  // CreateQueue's tags are `tags` in JSON and `Tag.N.Key/Value` in Query.
  const tags = { ...stringMap(call.input, 'tags'), ...stringMap(call.input, 'Tags') };
  try {
    const { queue, created } = await ctx.queues.create(name, cfg, tags);
    if (!created && Object.keys(tags).length > 0) await ctx.queues.tag(name, tags);
    return { QueueUrl: queueUrl(call.origin, ctx.aws, queue.name) };
  } catch (error) {
    if (error instanceof HeraldError && error.code === 'conflict') {
      const differing = await differingAttributes(ctx, name, attributes, fifo);
      throw new AwsError(
        'QueueNameExists',
        differing.length > 0
          ? `A queue already exists with the same name and a different value for attribute ${differing.join(', ')}`
          : 'A queue already exists with the same name and a different value for an attribute',
        400,
        'QueueAlreadyExists',
      );
    }
    throw error;
  }
}

/** The attributes of a CreateQueue, by their SQS names, whose values differ from the existing queue's. */
async function differingAttributes(
  ctx: AwsContext,
  name: string,
  attributes: Record<string, string>,
  fifo: boolean,
): Promise<string[]> {
  const existing = await ctx.store.getQueue(name);
  if (!existing) return [];
  return Object.entries(attributes)
    .filter(([attribute, value]) => {
      const asked = configFromAttributes({ [attribute]: value }, ctx.aws, fifo);
      return Object.entries(asked).some(([key, v]) => existing[key as keyof typeof existing] !== v);
    })
    .map(([attribute]) => attribute);
}

export async function getQueueUrl(ctx: AwsContext, call: AwsCall) {
  const name = requiredString(call.input, 'QueueName');
  const owner = optionalString(call.input, 'QueueOwnerAWSAccountId');
  if ((owner && owner !== ctx.aws.accountId) || !(await ctx.store.getQueue(name))) throw queueDoesNotExist();
  return { QueueUrl: queueUrl(call.origin, ctx.aws, name) };
}

/** Opaque page cursors: the last name of the previous page. */
const encodeToken = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
const decodeToken = (token: string) => Buffer.from(token, 'base64url').toString('utf8');

function page<T>(items: T[], nameOf: (t: T) => string, input: Input): { items: T[]; next?: string } {
  const max = optionalInt(input, 'MaxResults', 1, 1000);
  const token = optionalString(input, 'NextToken');
  if (token && max === undefined) throw invalidParameter('MaxResults is required when NextToken is given.');
  const after = token ? decodeToken(token) : '';
  const rest = items.filter((i) => nameOf(i) > after);
  if (max === undefined) return { items: rest.slice(0, 1000) };
  const taken = rest.slice(0, max);
  return rest.length > max ? { items: taken, next: encodeToken(nameOf(taken[taken.length - 1])) } : { items: taken };
}

export async function listQueues(ctx: AwsContext, call: AwsCall) {
  const prefix = optionalString(call.input, 'QueueNamePrefix') ?? '';
  const all = (await ctx.queues.list()).filter((q) => q.name.startsWith(prefix));
  const { items, next } = page(all, (q) => q.name, call.input);
  return {
    ...(items.length > 0 ? { QueueUrls: items.map((q) => queueUrl(call.origin, ctx.aws, q.name)) } : {}),
    ...(next ? { NextToken: next } : {}),
  };
}

export async function listDeadLetterSourceQueues(ctx: AwsContext, call: AwsCall) {
  const sources = await ctx.queues.deadLetterSources(queueOf(ctx, call.input));
  const { items, next } = page(sources, (q) => q.name, call.input);
  return { queueUrls: items.map((q) => queueUrl(call.origin, ctx.aws, q.name)), ...(next ? { NextToken: next } : {}) };
}

export async function getQueueAttributes(ctx: AwsContext, call: AwsCall) {
  const queue = await ctx.queues.get(queueOf(ctx, call.input));
  const attributes = selectAttributes(
    queueAttributes(queue, queue.stats, ctx.aws),
    stringList(call.input, 'AttributeNames'),
  );
  return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
}

export async function setQueueAttributes(ctx: AwsContext, call: AwsCall) {
  const name = queueOf(ctx, call.input);
  const cfg = configFromAttributes(stringMap(call.input, 'Attributes'), ctx.aws, name.endsWith('.fifo'));
  await ctx.queues.update(name, cfg);
  return {};
}

export async function deleteQueue(ctx: AwsContext, call: AwsCall) {
  await ctx.queues.delete(queueOf(ctx, call.input));
  return {};
}

export async function purgeQueue(ctx: AwsContext, call: AwsCall) {
  await ctx.queues.purge(queueOf(ctx, call.input));
  return {};
}

export async function tagQueue(ctx: AwsContext, call: AwsCall) {
  const tags = stringMap(call.input, 'Tags');
  if (Object.keys(tags).length === 0) throw invalidParameter('Tags must hold at least one tag.');
  await ctx.queues.tag(queueOf(ctx, call.input), tags);
  return {};
}

export async function untagQueue(ctx: AwsContext, call: AwsCall) {
  const keys = stringList(call.input, 'TagKeys');
  if (keys.length === 0) throw invalidParameter('TagKeys must name at least one tag.');
  await ctx.queues.untag(queueOf(ctx, call.input), keys);
  return {};
}

export async function listQueueTags(ctx: AwsContext, call: AwsCall) {
  const queue = await ctx.queues.get(queueOf(ctx, call.input));
  return Object.keys(queue.tags).length > 0 ? { Tags: queue.tags } : {};
}
