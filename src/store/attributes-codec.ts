/**
 * How a published message's attributes are kept in the `attributes` TEXT column of the
 * `messages` and `deliveries` tables (both stores): JSON, or NULL when there are none.
 *
 * - Plain attributes (the native API's) are string values, so rows written before typed
 *   attributes existed read back unchanged.
 * - Typed attributes from the SNS API (`MessageAttributes`: String, Number, Binary as base64,
 *   String.Array, custom suffixes) are objects `{"dataType", "stringValue" | "binaryValue"}`.
 * - The SNS `Subject` rides along under the key `#subject`: no attribute name can start with
 *   `#`, so it never collides, and readers that only want plain attributes skip it.
 *
 * Keeping these in the one column (rather than new columns) leaves every insert, lease and
 * dead-letter statement of both stores as it was. A dead-lettered delivery's queue message
 * keeps this text whole (a redrive back to its subscription restores everything) and its typed
 * attributes in its own `message_attributes` column too (see ../published-message.ts), where SQS
 * receivers read them.
 */
import type { Attributes, MessageAttributes, MessageAttributeValue } from '../types.js';

export interface MessageExtras {
  messageAttributes?: MessageAttributes;
  subject?: string;
}

const SUBJECT = '#subject';

export function encodeAttributes(attributes: Attributes, extras: MessageExtras = {}): string | null {
  const typed = extras.messageAttributes;
  let plain = extras.subject === undefined;
  if (typed) for (const _ in typed) plain = false;
  if (plain) {
    for (const _ in attributes) return JSON.stringify(attributes);
    return null;
  }
  const out: Record<string, unknown> = { ...attributes };
  for (const k in typed) {
    const { dataType, stringValue, binaryValue } = typed[k];
    out[k] =
      binaryValue !== undefined
        ? {
            dataType,
            binaryValue: typeof binaryValue === 'string' ? binaryValue : Buffer.from(binaryValue).toString('base64'),
          }
        : { dataType, stringValue };
  }
  if (extras.subject !== undefined) out[SUBJECT] = extras.subject;
  return JSON.stringify(out);
}

/** The plain (string) attributes. */
export function decodeAttributes(text: string | null): Attributes {
  if (!text) return {};
  const parsed = JSON.parse(text) as Record<string, unknown>;
  let plain = true;
  for (const k in parsed) if (typeof parsed[k] !== 'string' || k.startsWith('#')) plain = false;
  if (plain) return parsed as Attributes;
  const out: Attributes = {};
  for (const k in parsed) {
    const v = parsed[k];
    if (!k.startsWith('#') && typeof v === 'string') out[k] = v;
  }
  return out;
}

/** Typed attributes and subject kept with the plain ones (empty for native messages). */
export function decodeExtras(text: string | null): MessageExtras {
  if (!text || (!text.includes('"dataType"') && !text.includes(`"${SUBJECT}"`))) return {};
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const extras: MessageExtras = {};
  for (const k in parsed) {
    const v = parsed[k];
    if (k === SUBJECT && typeof v === 'string') extras.subject = v;
    else if (typeof v === 'object' && v !== null) (extras.messageAttributes ??= {})[k] = v as MessageAttributeValue;
  }
  return extras;
}
