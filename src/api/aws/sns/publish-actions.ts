/**
 * Publish and PublishBatch. Messages keep their SNS attribute data types and Subject all the
 * way to filter policies and to the JSON notifications subscribers receive.
 *
 * `MessageStructure=json`: the message is a JSON object with a `default` text; Herald
 * delivers `default` to every protocol for now (per-protocol texts are not applied yet).
 */
import type { MessageAttributeDataType } from '../../../types.js';
import * as validate from '../../../validation.js';
import type { SnsAction, SnsContext } from './context.js';
import { invalidParameter, SnsError } from './errors.js';
import { indexes, memberRecords, required, type Params } from './params.js';
import { topicByArn } from './resources.js';
import type { XmlObject } from './xml.js';

const MAX_BATCH = 10;
const MAX_ATTRIBUTES = 10;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,250})?$|^String\.Array$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;

function messageAttributes(p: Params): Pick<validate.ValidMessage, 'attributes' | 'attributeTypes'> {
  const attributes: Record<string, string> = {};
  let attributeTypes: Record<string, MessageAttributeDataType> | undefined;
  const list = indexes(p, 'MessageAttributes.entry');
  if (list.length > MAX_ATTRIBUTES)
    throw invalidParameter(`MessageAttributes: at most ${MAX_ATTRIBUTES} message attributes`);
  for (const i of list) {
    const at = `MessageAttributes.entry.${i}`;
    const name = p[`${at}.Name`] ?? '';
    if (!ATTRIBUTE_NAME.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..'))
      throw invalidParameter(`MessageAttributes: invalid attribute name ${JSON.stringify(name.slice(0, 60))}`);
    if (/^(aws|amazon)\./i.test(name)) throw invalidParameter(`MessageAttributes: attribute name ${name} is reserved`);
    const type = p[`${at}.Value.DataType`] ?? '';
    if (!DATA_TYPE.test(type))
      throw invalidParameter(
        `The message attribute '${name}' has an invalid message attribute type ${JSON.stringify(type)}`,
      );
    const stringValue = p[`${at}.Value.StringValue`];
    const binaryValue = p[`${at}.Value.BinaryValue`];
    let value: string;
    if (type.startsWith('Binary')) {
      if (binaryValue === undefined)
        throw invalidParameter(`The message attribute '${name}' must contain a BinaryValue`);
      value = binaryValue; // base64, as the Query protocol carries it
    } else {
      if (stringValue === undefined || stringValue === '')
        throw invalidParameter(`The message attribute '${name}' must contain non-empty message attribute value`);
      if (type.startsWith('Number') && (!NUMBER.test(stringValue) || !Number.isFinite(Number(stringValue))))
        throw invalidParameter(`The message attribute '${name}' with type 'Number' must be a valid number`);
      if (type === 'String.Array') {
        let ok = false;
        try {
          ok = Array.isArray(JSON.parse(stringValue));
        } catch {
          /* reported below */
        }
        if (!ok)
          throw invalidParameter(`The message attribute '${name}' with type 'String.Array' must be a JSON array`);
      }
      value = stringValue;
    }
    attributes[name] = value;
    if (type !== 'String') (attributeTypes ??= {})[name] = type as MessageAttributeDataType;
  }
  return { attributes, attributeTypes };
}

/** One message of a Publish or a batch entry, validated as SNS does. */
function message(ctx: SnsContext, p: Params): validate.ValidMessage {
  if (p.MessageGroupId !== undefined)
    throw invalidParameter(
      'MessageGroupId: The request includes MessageGroupId parameter that is not valid for this topic type (FIFO topics are not supported yet)',
    );
  if (p.MessageDeduplicationId !== undefined)
    throw invalidParameter(
      'MessageDeduplicationId: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
    );
  let body = p.Message;
  if (body === undefined || body === '') throw invalidParameter('Empty message');
  if (p.MessageStructure !== undefined) {
    if (p.MessageStructure !== 'json') throw invalidParameter('MessageStructure: must be json');
    let structure: unknown;
    try {
      structure = JSON.parse(body);
    } catch {
      throw invalidParameter('Message Structure - JSON message body failed to parse');
    }
    const text = (structure as Record<string, unknown> | null)?.default;
    if (typeof text !== 'string') throw invalidParameter('Message Structure - No default entry in JSON message body');
    body = text;
  }
  const subject = p.Subject;
  if (subject !== undefined && (subject.length === 0 || subject.length > 100 || !/^[\x20-\x7e]*$/.test(subject)))
    throw invalidParameter('Subject: must be 1-100 printable ASCII characters, without line breaks');
  const attrs = messageAttributes(p);
  const size = validate.messageSize(body, attrs.attributes);
  if (size > ctx.config.maxMessageBytes)
    throw invalidParameter(`Message too long: ${size} bytes; the limit is ${ctx.config.maxMessageBytes}`);
  return { body, ...attrs, subject, delaySeconds: undefined, idempotencyKey: undefined };
}

const publish: SnsAction = async (ctx, p) => {
  if (p.PhoneNumber !== undefined) throw invalidParameter('PhoneNumber: SMS is not supported yet by Herald');
  const params = p.TopicArn === undefined && p.TargetArn !== undefined ? { ...p, TopicArn: p.TargetArn } : p;
  const topic = await topicByArn(ctx, params);
  const m = message(ctx, p);
  const [result] = await ctx.topics.publish(topic.name, [m]);
  if ('error' in result) throw invalidParameter(result.error.message);
  return { MessageId: result.id };
};

const publishBatch: SnsAction = async (ctx, p) => {
  const topic = await topicByArn(ctx, p);
  const records = memberRecords(p, 'PublishBatchRequestEntries');
  if (records.length === 0) throw new SnsError('EmptyBatchRequest', 'The batch request does not contain any entries');
  if (records.length > MAX_BATCH)
    throw new SnsError('TooManyEntriesInBatchRequest', `The batch request contains more than ${MAX_BATCH} entries`);
  const ids = new Set<string>();
  for (const r of records) {
    if (!r.Id || !BATCH_ID.test(r.Id))
      throw new SnsError('InvalidBatchEntryId', 'A batch entry Id must be 1-80 letters, digits, "-" and "_"');
    if (ids.has(r.Id)) throw new SnsError('BatchEntryIdsNotDistinct', `Two or more batch entries have the Id ${r.Id}`);
    ids.add(r.Id);
  }
  const total = records.reduce((n, r) => n + Buffer.byteLength(r.Message ?? ''), 0);
  if (total > ctx.config.maxMessageBytes)
    throw new SnsError(
      'BatchRequestTooLong',
      `The batch's messages total ${total} bytes; the limit is ${ctx.config.maxMessageBytes}`,
    );

  const failed: XmlObject[] = [];
  const valid: Array<{ id: string; m: validate.ValidMessage }> = [];
  for (const r of records) {
    try {
      valid.push({ id: r.Id, m: message(ctx, r) });
    } catch (error) {
      if (!(error instanceof SnsError)) throw error;
      failed.push({ Id: r.Id, Code: error.code, Message: error.message, SenderFault: true });
    }
  }
  const successful: XmlObject[] = [];
  if (valid.length > 0) {
    const results = await ctx.topics.publish(
      topic.name,
      valid.map((v) => v.m),
    );
    results.forEach((result, i) => {
      if ('error' in result)
        failed.push({ Id: valid[i].id, Code: 'InvalidParameter', Message: result.error.message, SenderFault: true });
      else successful.push({ Id: valid[i].id, MessageId: result.id });
    });
  }
  return { Successful: successful, Failed: failed };
};

export const publishActions: Record<string, SnsAction> = { Publish: publish, PublishBatch: publishBatch };
