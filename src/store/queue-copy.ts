/** What both stores do with a topic's queue copies (see `QueueCopy` in store.ts). */
import type { CopyBody } from './store.js';

/** The text a copy is stored with: its body, or its body made from the message's sequence number. */
export function copyBody(body: CopyBody, sequenceNumber: string | undefined): string {
  if (typeof body === 'string') return body;
  if (sequenceNumber === undefined)
    throw new Error('a queue copy whose body needs a sequence number, of a message that has none (set sequenced)');
  return body(sequenceNumber);
}
