/**
 * The MD5 digests SQS returns with SendMessage, SendMessageBatch and ReceiveMessage
 * (`MD5OfMessageBody` / `MD5OfBody`, `MD5OfMessageAttributes`, `MD5OfMessageSystemAttributes`).
 * SDKs compare them with their own computation and fail the call on a mismatch, so they must
 * match AWS byte for byte.
 *
 * Attributes are digested as AWS documents ("Calculating the MD5 message digest for message
 * attributes"): sorted by name, each as
 *   4-byte big-endian length + UTF-8 name,
 *   4-byte length + UTF-8 data type (the full type, e.g. `Number.float`, `Binary.gif`),
 *   1 transport byte (1 for String and Number types, 2 for Binary types),
 *   4-byte length + the value (UTF-8 for String and Number, the raw bytes for Binary).
 * System attributes (`AWSTraceHeader`) use the same encoding.
 */
import { hexDigest } from '../digest.js';
import { invalid } from '../errors.js';

/** One attribute as the SQS API carries it, with a Binary value already decoded from base64. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}

export type MessageAttributes = Readonly<Record<string, MessageAttributeValue>>;

const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

/** Hex MD5 of the body's UTF-8 bytes. */
export function md5OfMessageBody(body: string): string {
  return hexDigest('md5', body);
}

function lengthPrefixed(bytes: Uint8Array): Buffer[] {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, Buffer.from(bytes)];
}

/** The byte string that is digested; exported so tests can check the layout itself. */
export function encodeMessageAttributes(attributes: MessageAttributes): Buffer {
  const parts: Buffer[] = [];
  // Plain code-unit order, as SQS sorts; names are limited to [A-Za-z0-9_.-] anyway.
  for (const name of Object.keys(attributes).sort()) {
    const { DataType: type, StringValue: text, BinaryValue: bytes } = attributes[name];
    // The type's base (before any ".custom" suffix) decides the transport; the full type is digested.
    const base = typeof type === 'string' ? type.split('.')[0] : '';
    parts.push(...lengthPrefixed(Buffer.from(name, 'utf8')), ...lengthPrefixed(Buffer.from(type, 'utf8')));
    if (base === 'String' || base === 'Number') {
      if (typeof text !== 'string')
        throw invalid(`MessageAttributes.${name}.StringValue is required for DataType ${type}`);
      parts.push(Buffer.of(STRING_TRANSPORT), ...lengthPrefixed(Buffer.from(text, 'utf8')));
    } else if (base === 'Binary') {
      if (!(bytes instanceof Uint8Array))
        throw invalid(`MessageAttributes.${name}.BinaryValue is required for DataType ${type}`);
      parts.push(Buffer.of(BINARY_TRANSPORT), ...lengthPrefixed(bytes));
    } else {
      throw invalid(
        `MessageAttributes.${name}.DataType must be String, Number or Binary (optionally with a .suffix), not ${JSON.stringify(type)}`,
      );
    }
  }
  return Buffer.concat(parts);
}

/** Hex MD5 of the encoded attributes; undefined when there are none, as SQS then leaves the field out. */
export function md5OfMessageAttributes(attributes: MessageAttributes | undefined): string | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return hexDigest('md5', encodeMessageAttributes(attributes));
}

/** `MD5OfMessageSystemAttributes`: the same digest over the system attributes (`AWSTraceHeader`). */
export const md5OfMessageSystemAttributes = md5OfMessageAttributes;
