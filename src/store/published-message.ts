/**
 * What both stores do alike with a published message: the bodies of its queue copies (see
 * `QueueCopy` in store.ts), the texts its deliveries carry, and the typed attributes of a
 * delivery dead-lettered into a queue.
 */
import { encodeMessageAttributes } from '../message-attributes.js';
import { decodeExtras } from './attributes-codec.js';
import type { CopyBody, PublishEntry } from './store.js';

type Owed = Array<{ subscriptionId: string; dueAtMs: number }>;

/**
 * The message's deliveries by the text they carry: those with the message's body share one
 * stored message (inline when there is one), and each delivery with its own text (its
 * protocol's, SNS `MessageStructure=json`) is stored inline with that text. Texts differ by
 * protocol only, so at most http and https deliveries are apart; keeping them inline spares the
 * shared-message insert a second row per message id, which it joins deliveries on.
 */
export function deliveryTexts(e: PublishEntry): Array<{ body: string; deliveries: Owed }> {
  // The common case, one subscription with the message's text: nothing to group.
  const only = e.deliveries.length === 1 ? e.deliveries[0] : undefined;
  if (only && (only.body === undefined || only.body === e.body)) return [{ body: e.body, deliveries: e.deliveries }];
  const shared: Owed = [];
  const groups: Array<{ body: string; deliveries: Owed }> = [{ body: e.body, deliveries: shared }];
  for (const d of e.deliveries) {
    const owed = { subscriptionId: d.subscriptionId, dueAtMs: d.dueAtMs };
    if (d.body === undefined || d.body === e.body) shared.push(owed);
    else groups.push({ body: d.body, deliveries: [owed] });
  }
  return groups.filter((g) => g.deliveries.length > 0);
}

/**
 * The deliveries of `owed` whose subscription still exists (`live`); the same array when all
 * do. A publish is planned from the subscriptions the catalog knew, and one may have been
 * deleted before the publish commits: a delivery owed to it would stay forever, with no lane
 * to take it, so the stores drop it when they write the message.
 */
export function stillOwed(owed: Owed, live: (subscriptionId: string) => boolean): Owed {
  let kept = owed;
  for (let i = 0; i < owed.length; i++) {
    const alive = live(owed[i].subscriptionId);
    if (!alive && kept === owed) kept = owed.slice(0, i);
    else if (alive && kept !== owed) kept.push(owed[i]);
  }
  return kept;
}

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
