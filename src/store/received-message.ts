/**
 * The optional parts of a received queue message, read off its row the same way in every
 * store (the stores differ in how the row is fetched and in the receipt it gets).
 */
import { decodeMessageAttributes } from '../message-attributes.js';
import type { ReceivedMessage } from '../types.js';

/** The columns of a queue-message row both stores name alike. */
export interface ReceivedRowExtras {
  seq: number;
  message_attributes: string | null;
  trace_header: string | null;
  source: string | null;
  topic: string | null;
  last_error: string | null;
  group_id: string | null;
  dedup_id: string | null;
}

/**
 * A FIFO queue's SequenceNumber (the row number) or a FIFO topic's (its counter), as the large
 * numeric string SQS and SNS return: 20 digits, so text order is numeric order.
 */
export const sequenceNumber = (seq: number) => String(seq).padStart(20, '0');

/** Fill in what the row carries beyond id, body, attributes, receipt and times. */
export function withRowExtras(m: ReceivedMessage, r: ReceivedRowExtras, fifo: boolean): ReceivedMessage {
  const typed = decodeMessageAttributes(r.message_attributes);
  if (typed) m.messageAttributes = typed;
  if (r.trace_header) m.traceHeader = r.trace_header;
  if (r.source?.startsWith('queue:')) m.sourceQueue = r.source.slice(6);
  else if (r.source?.startsWith('subscription:')) m.sourceSubscription = r.source.slice(13);
  if (r.topic) m.topic = r.topic;
  if (r.last_error) m.lastError = r.last_error;
  if (r.group_id !== null) m.messageGroupId = r.group_id;
  if (fifo) {
    if (r.dedup_id !== null) m.messageDeduplicationId = r.dedup_id;
    m.sequenceNumber = sequenceNumber(r.seq);
  }
  return m;
}
