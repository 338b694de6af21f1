/**
 * What a subscriber receives. Non-raw subscriptions get a JSON envelope naming the
 * message, its topic and time; raw ones get the bare body (HTTP carries the attributes
 * as headers instead).
 */
import type { Attributes, Envelope } from '../types.js';

export function envelope(m: {
  id: string;
  topic: string;
  body: string;
  attributes: Attributes;
  publishedAtMs: number;
}): string {
  const e: Envelope = {
    type: 'Notification',
    id: m.id,
    topic: m.topic,
    timestamp: new Date(m.publishedAtMs).toISOString(),
    attributes: m.attributes,
    body: m.body,
  };
  return JSON.stringify(e);
}

/** Header name carrying one attribute in raw HTTP deliveries. */
export const ATTRIBUTE_HEADER_PREFIX = 'x-herald-attr-';

/** Attribute values may hold anything; header values may not, so unsafe ones are percent-encoded. */
export function attributeHeaders(attributes: Attributes): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const k in attributes) {
    const v = attributes[k];
    headers[ATTRIBUTE_HEADER_PREFIX + k.toLowerCase()] =
      /^[\x20-\x7e]*$/.test(v) && !v.includes('%') ? v : encodeURIComponent(v);
  }
  return headers;
}
