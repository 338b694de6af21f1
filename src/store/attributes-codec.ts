/**
 * How a message's attributes are kept in the stores' `attributes` TEXT column (both stores):
 * JSON, or NULL when there are none (the common case).
 *
 * - A `String` attribute is a plain string value, which is all a native message ever has,
 *   so rows written before typed attributes existed read back unchanged.
 * - A typed attribute from the SNS API (`Number`, `Binary` as base64, `String.Array`, custom
 *   suffixes) is `{"t": dataType, "v": text}`.
 * - The SNS `Subject` of a message rides along under the key `#subject`: no attribute name can
 *   start with `#`, so it never collides, and readers that only want attributes skip it.
 *
 * Keeping these in the one column (rather than new columns on messages, deliveries and queue
 * messages) leaves every insert and lease statement of both stores as it was.
 */
import type { Attributes, MessageAttributeDataType } from '../types.js';

/** Non-`String` data types by attribute name (absent names are `String`). */
export type AttributeTypes = Record<string, MessageAttributeDataType>;

export interface MessageExtras {
  attributeTypes?: AttributeTypes;
  subject?: string;
}

const SUBJECT = '#subject';

export function encodeAttributes(attributes: Attributes, extras: MessageExtras = {}): string | null {
  const types = extras.attributeTypes;
  let typed = extras.subject !== undefined;
  if (types) for (const _ in types) typed = true;
  if (!typed) {
    for (const _ in attributes) return JSON.stringify(attributes);
    return null;
  }
  const out: Record<string, unknown> = {};
  for (const k in attributes) {
    const t = types?.[k];
    out[k] = t && t !== 'String' ? { t, v: attributes[k] } : attributes[k];
  }
  if (extras.subject !== undefined) out[SUBJECT] = extras.subject;
  return JSON.stringify(out);
}

/** The attributes as text values (typed ones by their text, Binary as base64). */
export function decodeAttributes(text: string | null): Attributes {
  if (!text) return {};
  const parsed = JSON.parse(text) as Record<string, string | { t: string; v: string }>;
  let plain = true;
  for (const k in parsed) if (typeof parsed[k] !== 'string' || k.startsWith('#')) plain = false;
  if (plain) return parsed as Attributes;
  const out: Attributes = {};
  for (const k in parsed) {
    if (k.startsWith('#')) continue;
    const v = parsed[k];
    out[k] = typeof v === 'string' ? v : v.v;
  }
  return out;
}

/** Data types and subject kept with the attributes (empty for native messages). */
export function decodeExtras(text: string | null): MessageExtras {
  if (!text || (!text.includes('"t":') && !text.includes(`"${SUBJECT}"`))) return {};
  const parsed = JSON.parse(text) as Record<string, string | { t: MessageAttributeDataType; v: string }>;
  const extras: MessageExtras = {};
  for (const k in parsed) {
    const v = parsed[k];
    if (k === SUBJECT && typeof v === 'string') extras.subject = v;
    else if (typeof v === 'object' && v !== null) (extras.attributeTypes ??= {})[k] = v.t;
  }
  return extras;
}
