/**
 * Publish and PublishBatch. Messages keep their SNS attribute data types and Subject all the
 * way to filter policies and to the JSON notifications subscribers receive.
 *
 * `MessageStructure=json`: the message is a JSON object of texts by protocol with a `default`
 * one. It becomes the domain's message with texts by protocol (`bodies`: `sqs` is Herald's
 * `queue`, `http` and `https` the same names; keys of protocols Herald does not deliver to are
 * dropped), so the topic service plans and stores each subscription's text as it does any
 * message, and the native API can publish the same way.
 */
import { messageAttributesSize, validMessageAttributes } from '../../../message-attributes.js';
import type {
  MessageAttributeDataType,
  MessageAttributes,
  MessageAttributeValue,
  Protocol,
  ProtocolBodies,
  Topic,
} from '../../../types.js';
import * as validate from '../../../validation.js';
import type { SnsAction, SnsContext } from './context.js';
import { invalidParameter, SnsError, toSnsError } from './errors.js';
import { indexes, memberRecords, required, type Params } from './params.js';
import { topicByArn } from './resources.js';
import type { XmlObject } from './xml.js';

const MAX_BATCH = 10;
const MAX_ATTRIBUTES = 10;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` / `.Value.BinaryValue`. */
function messageAttributes(p: Params): MessageAttributes | undefined {
  const list = indexes(p, 'MessageAttributes.entry');
  if (list.length === 0) return undefined;
  if (list.length > MAX_ATTRIBUTES)
    throw invalidParameter(`MessageAttributes: at most ${MAX_ATTRIBUTES} message attributes`);
  const raw: MessageAttributes = {};
  for (const i of list) {
    const at = `MessageAttributes.entry.${i}`;
    const name = p[`${at}.Name`] ?? '';
    const value: MessageAttributeValue = { dataType: (p[`${at}.Value.DataType`] ?? '') as MessageAttributeDataType };
    if (p[`${at}.Value.StringValue`] !== undefined) value.stringValue = p[`${at}.Value.StringValue`];
    if (p[`${at}.Value.BinaryValue`] !== undefined) value.binaryValue = p[`${at}.Value.BinaryValue`];
    raw[name] = value;
  }
  // The same checks as the SQS adapter's; then what SNS adds for String.Array.
  const checked = validMessageAttributes(raw, 'MessageAttributes');
  for (const [name, a] of Object.entries(checked)) {
    if (a.dataType !== 'String.Array') continue;
    let ok = false;
    try {
      ok = Array.isArray(JSON.parse(a.stringValue ?? ''));
    } catch {
      /* reported below */
    }
    if (!ok) throw invalidParameter(`The message attribute '${name}' with type 'String.Array' must be a JSON array`);
  }
  return checked;
}

/** SNS protocols whose texts Herald delivers, by Herald's protocol names. */
const PROTOCOL_KEYS: ReadonlyArray<[string, Protocol]> = [
  ['sqs', 'queue'],
  ['http', 'http'],
  ['https', 'https'],
];

/**
 * A `MessageStructure=json` message: a JSON object whose `default` text goes to every protocol
 * without its own. As on SNS, keys whose values are not strings are ignored (so a `default`
 * that is not a string is missing), and the errors read as SNS's.
 */
function structured(structure: string, text: string): { body: string; bodies?: ProtocolBodies } {
  if (structure !== 'json') throw invalidParameter('MessageStructure: Invalid value: must be json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidParameter('Message Structure - JSON message body failed to parse');
  const texts = parsed as Record<string, unknown>;
  if (typeof texts.default !== 'string')
    throw invalidParameter('Message Structure - No default entry in JSON message body');
  const bodies: ProtocolBodies = {};
  for (const [key, protocol] of PROTOCOL_KEYS) {
    const value = texts[key];
    if (typeof value === 'string') bodies[protocol] = value;
  }
  return Object.keys(bodies).length > 0 ? { body: texts.default, bodies } : { body: texts.default };
}

/** One message of a Publish or a batch entry, validated as SNS does. */
function message(ctx: SnsContext, p: Params, topic: Topic): validate.ValidMessage {
  // FIFO topics need a group (and a deduplication id unless content-based): Topics.publish
  // applies those rules; standard topics take neither, as on SNS.
  if (!topic.fifo && p.MessageGroupId !== undefined)
    throw invalidParameter(
      'MessageGroupId: The request includes MessageGroupId parameter that is not valid for this topic type',
    );
  if (!topic.fifo && p.MessageDeduplicationId !== undefined)
    throw invalidParameter(
      'MessageDeduplicationId: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
    );
  const text = p.Message;
  if (text === undefined || text === '') throw invalidParameter('Empty message');
  const { body, bodies } = p.MessageStructure === undefined ? { body: text } : structured(p.MessageStructure, text);
  const subject = p.Subject;
  if (subject !== undefined && (subject.length === 0 || subject.length > 100 || !/^[\x20-\x7e]*$/.test(subject)))
    throw invalidParameter('Subject: must be 1-100 printable ASCII characters, without line breaks');
  const typed = messageAttributes(p);
  // SNS counts the Message as sent (the whole JSON of a structured one).
  const size = Buffer.byteLength(text) + messageAttributesSize(typed);
  if (size > ctx.config.maxMessageBytes)
    throw invalidParameter(`Message too long: ${size} bytes; the limit is ${ctx.config.maxMessageBytes}`);
  return {
    body,
    ...(bodies ? { bodies } : {}),
    attributes: {},
    messageAttributes: typed,
    subject,
    delaySeconds: undefined,
    idempotencyKey: undefined,
    groupId: p.MessageGroupId,
    deduplicationId: p.MessageDeduplicationId,
  };
}

const publish: SnsAction = async (ctx, p) => {
  if (p.PhoneNumber !== undefined) throw invalidParameter('PhoneNumber: SMS is not supported yet by Herald');
  const params = p.TopicArn === undefined && p.TargetArn !== undefined ? { ...p, TopicArn: p.TargetArn } : p;
  const topic = await topicByArn(ctx, params);
  const m = message(ctx, p, topic);
  const [result] = await ctx.topics.publish(topic.name, [m]);
  if ('error' in result) throw invalidParameter(result.error.message);
  return { MessageId: result.id, SequenceNumber: result.sequenceNumber };
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
      valid.push({ id: r.Id, m: message(ctx, r, topic) });
    } catch (error) {
      const sns = toSnsError(error);
      if (!sns) throw error;
      failed.push({ Id: r.Id, Code: sns.code, Message: sns.message, SenderFault: true });
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
      else successful.push({ Id: valid[i].id, MessageId: result.id, SequenceNumber: result.sequenceNumber });
    });
  }
  return { Successful: successful, Failed: failed };
};

export const publishActions: Record<string, SnsAction> = { Publish: publish, PublishBatch: publishBatch };
