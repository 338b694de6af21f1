/**
 * Typed message attributes (SNS/SQS `MessageAttributes`): validation, size, and the text
 * form both stores keep them in. Binary values are held as base64 text from validation on,
 * so a stored message reads back exactly as it was sent and its MD5 digest does not change.
 */
import { HeraldError, invalid } from './errors.js';
import type { MessageAttributeDataType, MessageAttributes, MessageAttributeValue } from './types.js';

const NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;
const DATA_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,246})?$|^String\.Array$/;

/** Check and normalise attributes from an adapter; Binary values become base64 text. */
export function validMessageAttributes(v: MessageAttributes, field = 'MessageAttributes'): MessageAttributes {
  const out: MessageAttributes = {};
  for (const [name, value] of Object.entries(v)) {
    if (!NAME.test(name)) {
      throw invalid(
        `${field} name "${name.slice(0, 40)}" must be 1-256 letters, digits, "_", "-" or ".", without a leading, trailing or double ".", and not start with "AWS." or "Amazon."`,
      );
    }
    const { dataType, stringValue, binaryValue } = value ?? ({} as MessageAttributeValue);
    if (typeof dataType !== 'string' || !DATA_TYPE.test(dataType)) {
      throw invalid(`${field}.${name}.DataType must be String, Number or Binary, optionally with a ".suffix"`);
    }
    const base = dataType.split('.')[0];
    if (base === 'Binary') {
      if (binaryValue === undefined || binaryValue === null) throw invalid(`${field}.${name}.BinaryValue is required`);
      const b64 = typeof binaryValue === 'string' ? binaryValue : Buffer.from(binaryValue).toString('base64');
      out[name] = { dataType: dataType as MessageAttributeDataType, binaryValue: b64 };
      continue;
    }
    if (typeof stringValue !== 'string' || stringValue === '') {
      throw invalid(`${field}.${name}.StringValue is required and must not be empty`);
    }
    if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(stringValue.trim())) {
      throw invalid(`${field}.${name}.StringValue "${stringValue.slice(0, 40)}" is not a number`);
    }
    out[name] = { dataType: dataType as MessageAttributeDataType, stringValue };
  }
  return out;
}

/** Bytes the attributes cost against a size limit, as SQS counts: name, type and value. */
export function messageAttributesSize(attributes: MessageAttributes | undefined): number {
  let n = 0;
  for (const [name, a] of Object.entries(attributes ?? {})) {
    n += Buffer.byteLength(name) + Buffer.byteLength(a.dataType);
    if (a.stringValue !== undefined) n += Buffer.byteLength(a.stringValue);
    if (a.binaryValue !== undefined) {
      n += typeof a.binaryValue === 'string' ? Buffer.from(a.binaryValue, 'base64').length : a.binaryValue.length;
    }
  }
  return n;
}

/** Stored as JSON, or NULL when there are none. */
export function encodeMessageAttributes(attributes: MessageAttributes | undefined): string | null {
  if (!attributes) return null;
  for (const _ in attributes) return JSON.stringify(attributes);
  return null;
}

export function decodeMessageAttributes(text: string | null | undefined): MessageAttributes | undefined {
  return text ? (JSON.parse(text) as MessageAttributes) : undefined;
}

export const messageTooLarge = (size: number, limit: number, what = 'message') =>
  new HeraldError('message_too_large', `${what} is ${size} bytes (body and attributes); the limit is ${limit}`);
