/** SQS message actions: send, receive, delete, change visibility, each with its batch form. */
import {
  md5OfMessageAttributes,
  md5OfMessageBody,
  type MessageAttributes as Md5Attributes,
} from '../../../../aws/sqs-md5.js';
import { HeraldError } from '../../../../errors.js';
import { validMessageAttributes } from '../../../../message-attributes.js';
import type { MessageAttributes, ReceivedMessage } from '../../../../types.js';
import { isFifoName, type ValidMessage } from '../../../../validation.js';
import type { AwsCall, AwsContext } from '../../services.js';
import { AwsError, invalidParameter, missingParameter } from '../../errors.js';
import {
  batchEntries,
  objectMap,
  optionalInt,
  optionalString,
  requiredString,
  stringList,
  type Input,
} from '../input.js';
import { queueArn } from '../names.js';
import { queueOf } from './queues.js';

/** Characters SQS accepts in a body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
const INVALID_BODY = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const RECEIPT = /^[0-9a-z]{1,20}\.[0-9a-z]{1,20}$/;

const receiptInvalid = (handle: string) =>
  new AwsError(
    'ReceiptHandleIsInvalid',
    `The input receipt handle "${handle.slice(0, 80)}" is not a valid receipt handle.`,
    404,
  );

/** The API's attribute values (Binary as base64 text) into the digest's form (bytes). */
function md5Input(attributes: MessageAttributes): Md5Attributes {
  const out: Record<string, { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }> = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] =
      a.binaryValue !== undefined
        ? { DataType: a.dataType, BinaryValue: Buffer.from(a.binaryValue as string, 'base64') }
        : { DataType: a.dataType, StringValue: a.stringValue };
  }
  return out;
}

function typedAttributes(raw: Record<string, Input>, field: string): MessageAttributes {
  const names = Object.keys(raw);
  if (names.length > 10)
    throw invalidParameter(`Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
  const given: MessageAttributes = {};
  for (const name of names) {
    const v = raw[name] ?? {};
    given[name] = {
      dataType: v.DataType as MessageAttributes[string]['dataType'],
      ...(v.StringValue !== undefined ? { stringValue: String(v.StringValue) } : {}),
      ...(v.BinaryValue !== undefined ? { binaryValue: String(v.BinaryValue) } : {}),
    };
  }
  try {
    return validMessageAttributes(given, field);
  } catch (error) {
    if (error instanceof HeraldError) throw invalidParameter(error.message);
    throw error;
  }
}

interface Outgoing {
  message: ValidMessage;
  digest: Record<string, string>;
}

/** One SendMessage input (or batch entry) checked and turned into a domain message. */
function outgoing(input: Input, fifo: boolean): Outgoing {
  const body = optionalString(input, 'MessageBody');
  if (body === undefined || body === '') throw missingParameter('MessageBody');
  // The domain refuses it too; SQS answers this one as a missing parameter.
  if (fifo && !optionalString(input, 'MessageGroupId')) throw missingParameter('MessageGroupId');
  if (INVALID_BODY.test(body)) {
    throw new AwsError(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  }
  const typed = typedAttributes(objectMap(input, 'MessageAttributes'), 'MessageAttributes');
  const system = objectMap(input, 'MessageSystemAttributes');
  for (const name of Object.keys(system)) {
    if (name !== 'AWSTraceHeader') throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
  }
  const trace = system.AWSTraceHeader;
  let traceHeader: string | undefined;
  if (trace) {
    if (trace.DataType !== 'String' || typeof trace.StringValue !== 'string' || trace.StringValue === '') {
      throw invalidParameter('AWSTraceHeader must be a String with a StringValue.');
    }
    traceHeader = trace.StringValue;
  }
  const delaySeconds = optionalInt(input, 'DelaySeconds', 0, 900);
  const digest: Record<string, string> = { MD5OfMessageBody: md5OfMessageBody(body) };
  const md5Attrs = md5OfMessageAttributes(md5Input(typed));
  if (md5Attrs) digest.MD5OfMessageAttributes = md5Attrs;
  if (traceHeader) {
    digest.MD5OfMessageSystemAttributes = md5OfMessageAttributes({
      AWSTraceHeader: { DataType: 'String', StringValue: traceHeader },
    })!;
  }
  const message: ValidMessage = {
    body,
    attributes: {},
    ...(Object.keys(typed).length > 0 ? { messageAttributes: typed } : {}),
    ...(traceHeader ? { traceHeader } : {}),
    delaySeconds,
    idempotencyKey: undefined,
    // The FIFO rules (group required, deduplication) are the domain's: Queues.send applies them.
    groupId: optionalString(input, 'MessageGroupId'),
    deduplicationId: optionalString(input, 'MessageDeduplicationId'),
  };
  return { message, digest };
}

const refused = (message: string) => invalidParameter(`One or more parameters are invalid. Reason: ${message}`);

export async function sendMessage(ctx: AwsContext, call: AwsCall) {
  const queue = queueOf(ctx, call.input);
  const { message, digest } = outgoing(call.input, isFifoName(queue));
  const [result] = await ctx.queues.send(queue, [message]);
  if ('error' in result) throw refused(result.error.message);
  // A FIFO duplicate answers with the first message's id, as SQS does.
  return {
    MessageId: result.id,
    ...digest,
    ...(result.sequenceNumber ? { SequenceNumber: result.sequenceNumber } : {}),
  };
}

export async function sendMessageBatch(ctx: AwsContext, call: AwsCall) {
  const queue = queueOf(ctx, call.input);
  const entries = batchEntries(call.input);
  const Successful: object[] = [];
  const Failed: object[] = [];
  const valid: Array<{ id: string } & Outgoing> = [];
  for (const e of entries) {
    try {
      valid.push({ id: e.Id as string, ...outgoing(e, isFifoName(queue)) });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      Failed.push({ Id: e.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
    }
  }
  const results =
    valid.length > 0
      ? await ctx.queues.send(
          queue,
          valid.map((v) => v.message),
        )
      : [];
  results.forEach((r, i) => {
    if ('error' in r) {
      Failed.push({ Id: valid[i].id, SenderFault: true, Code: 'InvalidParameterValue', Message: r.error.message });
    } else {
      const sequence = r.sequenceNumber ? { SequenceNumber: r.sequenceNumber } : {};
      Successful.push({ Id: valid[i].id, MessageId: r.id, ...valid[i].digest, ...sequence });
    }
  });
  return { Successful, Failed };
}

const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
];

function systemAttributes(ctx: AwsContext, m: ReceivedMessage, names: string[]): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const all: Record<string, string> = {
    SenderId: ctx.aws.accountId,
    SentTimestamp: String(Date.parse(m.sentAt)),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(Date.parse(m.firstReceivedAt)),
  };
  if (m.traceHeader) all.AWSTraceHeader = m.traceHeader;
  if (m.sourceQueue) all.DeadLetterQueueSourceArn = queueArn(ctx.aws, m.sourceQueue);
  if (m.messageGroupId) all.MessageGroupId = m.messageGroupId;
  if (m.messageDeduplicationId) all.MessageDeduplicationId = m.messageDeduplicationId;
  if (m.sequenceNumber) all.SequenceNumber = m.sequenceNumber;
  if (names.includes('All')) return all;
  const out: Record<string, string> = {};
  for (const n of names) if (all[n] !== undefined) out[n] = all[n];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `All` / `.*`, exact names, and `prefix.*` as SQS matches them. */
function selectMessageAttributes(attributes: MessageAttributes, names: string[]): MessageAttributes {
  const out: MessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    const wanted = names.some(
      (n) => n === 'All' || n === '.*' || n === name || (n.endsWith('.*') && name.startsWith(n.slice(0, -1))),
    );
    if (wanted) out[name] = value;
  }
  return out;
}

/** Plain string attributes (sent through the native API) read as String attributes, beside the typed ones. */
function typedOf(m: ReceivedMessage): MessageAttributes {
  if (m.messageAttributes && Object.keys(m.attributes).length === 0) return m.messageAttributes;
  const out: MessageAttributes = {};
  for (const [k, v] of Object.entries(m.attributes)) out[k] = { dataType: 'String', stringValue: v };
  Object.assign(out, m.messageAttributes);
  return out;
}

export async function receiveMessage(ctx: AwsContext, call: AwsCall) {
  const queue = queueOf(ctx, call.input);
  const max = optionalInt(call.input, 'MaxNumberOfMessages', 1, 10) ?? 1;
  const waitSeconds = optionalInt(call.input, 'WaitTimeSeconds', 0, 20);
  const visibility = optionalInt(call.input, 'VisibilityTimeout', 0, 43_200);
  const systemNames = [
    ...stringList(call.input, 'AttributeNames'),
    ...stringList(call.input, 'MessageSystemAttributeNames'),
  ];
  for (const n of systemNames) {
    if (n !== 'All' && !SYSTEM_ATTRIBUTES.includes(n)) {
      throw new AwsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
    }
  }
  const attributeNames = stringList(call.input, 'MessageAttributeNames');
  const received = await ctx.queues.receive(
    queue,
    {
      max,
      ...(waitSeconds !== undefined ? { waitSeconds } : {}),
      ...(visibility !== undefined ? { visibilityTimeoutSeconds: visibility } : {}),
    },
    call.signal,
  );
  if (received.length === 0) return {};
  return {
    Messages: received.map((m) => {
      const selected = selectMessageAttributes(typedOf(m), attributeNames);
      const attrs = systemAttributes(ctx, m, systemNames);
      const md5 = md5OfMessageAttributes(md5Input(selected));
      return {
        MessageId: m.id,
        ReceiptHandle: m.receipt,
        MD5OfBody: md5OfMessageBody(m.body),
        Body: m.body,
        ...(attrs ? { Attributes: attrs } : {}),
        ...(md5 ? { MD5OfMessageAttributes: md5, MessageAttributes: toApi(selected) } : {}),
      };
    }),
  };
}

function toApi(attributes: MessageAttributes): Record<string, object> {
  const out: Record<string, object> = {};
  for (const [name, a] of Object.entries(attributes)) {
    out[name] =
      a.binaryValue !== undefined
        ? { DataType: a.dataType, BinaryValue: a.binaryValue }
        : { DataType: a.dataType, StringValue: a.stringValue };
  }
  return out;
}

function receiptOf(input: Input): string {
  const handle = requiredString(input, 'ReceiptHandle');
  if (!RECEIPT.test(handle)) throw receiptInvalid(handle);
  return handle;
}

export async function deleteMessage(ctx: AwsContext, call: AwsCall) {
  // Deleting a message already deleted (or received again since) succeeds, as on SQS.
  await ctx.queues.ack(queueOf(ctx, call.input), [receiptOf(call.input)]);
  return {};
}

export async function deleteMessageBatch(ctx: AwsContext, call: AwsCall) {
  const queue = queueOf(ctx, call.input);
  const Successful: object[] = [];
  const Failed: object[] = [];
  const receipts: string[] = [];
  for (const e of batchEntries(call.input)) {
    try {
      receipts.push(receiptOf(e));
      Successful.push({ Id: e.Id });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      Failed.push({ Id: e.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
    }
  }
  if (receipts.length > 0) await ctx.queues.ack(queue, receipts);
  return { Successful, Failed };
}

async function changeOne(ctx: AwsContext, queue: string, input: Input): Promise<void> {
  const receipt = receiptOf(input);
  const seconds = optionalInt(input, 'VisibilityTimeout', 0, 43_200);
  if (seconds === undefined) throw missingParameter('VisibilityTimeout');
  try {
    await ctx.queues.changeVisibility(queue, receipt, seconds);
  } catch (error) {
    if (error instanceof HeraldError && error.code === 'invalid_request') {
      throw new AwsError(
        'MessageNotInflight',
        'The message referred to is not in flight.',
        400,
        'AWS.SimpleQueueService.MessageNotInflight',
      );
    }
    throw error;
  }
}

export async function changeMessageVisibility(ctx: AwsContext, call: AwsCall) {
  await changeOne(ctx, queueOf(ctx, call.input), call.input);
  return {};
}

export async function changeMessageVisibilityBatch(ctx: AwsContext, call: AwsCall) {
  const queue = queueOf(ctx, call.input);
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const e of batchEntries(call.input)) {
    try {
      await changeOne(ctx, queue, e);
      Successful.push({ Id: e.Id });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      Failed.push({ Id: e.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
    }
  }
  return { Successful, Failed };
}
