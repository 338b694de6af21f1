/**
 * What both stores do when a published message becomes a queue message: a topic's queue copy
 * (see `QueueCopy` in store.ts), or a delivery dead-lettered into a queue.
 */
import { encodeMessageAttributes } from '../message-attributes.js';
import { decodeExtras } from './attributes-codec.js';
import type { CopyBody } from './store.js';

/** The text a copy is stored with: its body, or its body made from the message's sequence number. */
export function copyBody(body: CopyBody, sequenceNumber: string | undefined): string {
  if (typeof body === 'string') return body;
  if (sequenceNumber === undefined)
    throw new Error('a queue copy whose body needs a sequence number, of a message that has none (set sequenced)');
  return body(sequenceNumber);
}

/**
 * The `message_attributes` column of a dead-lettered delivery's queue message: the message's
 * typed attributes (SNS `MessageAttributes`, data types kept), so receivers read them as SQS
 * message attributes. The `attributes` column keeps the delivery's whole attributes text (plain
 * attributes, typed ones and the subject), which a redrive back to the subscription restores.
 */
export function deadLetterAttributes(attributes: string | null): string | null {
  return encodeMessageAttributes(decodeExtras(attributes).messageAttributes);
}
