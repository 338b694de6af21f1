/**
 * SNS message signatures, as subscribers verify them ("Verifying the signatures of Amazon SNS
 * messages"): the string to sign is "Name\nValue\n" for a fixed list of fields in byte order of
 * their names, signed with SHA1withRSA (SignatureVersion 1) or SHA256withRSA (SignatureVersion 2)
 * and sent base64-encoded in `Signature`.
 *
 *   Notification:                Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type
 *   SubscriptionConfirmation and
 *   UnsubscribeConfirmation:     Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type
 */
import { sign, type KeyObject } from 'node:crypto';
import { invalid } from '../errors.js';

export type SnsMessageType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
export type SignatureVersion = '1' | '2';

/** The signed fields of an SNS HTTP/HTTPS message, with the names and values it is sent with. */
export interface SnsSignable {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  /** ISO 8601 with milliseconds, as SNS sends it: 2012-05-02T00:54:06.655Z. */
  Timestamp: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

const FIELDS: Record<SnsMessageType, ReadonlyArray<keyof SnsSignable>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};
const OPTIONAL = new Set<keyof SnsSignable>(['Subject']);

export function snsStringToSign(message: SnsSignable): string {
  const fields = FIELDS[message.Type];
  if (!fields)
    throw invalid(
      `SNS message Type must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation, not ${JSON.stringify(message.Type)}`,
    );
  let text = '';
  for (const field of fields) {
    const value = message[field];
    if (value === undefined || value === null) {
      if (OPTIONAL.has(field)) continue;
      throw invalid(`SNS ${message.Type} messages are signed over ${field}, which is missing`);
    }
    text += `${field}\n${value}\n`;
  }
  return text;
}

/** The base64 `Signature` for the message; SignatureVersion "1" is SHA1withRSA, "2" SHA256withRSA. */
export function signSnsMessage(message: SnsSignable, privateKey: KeyObject, version: SignatureVersion): string {
  if (version !== '1' && version !== '2')
    throw invalid(`SignatureVersion must be "1" or "2", not ${JSON.stringify(version)}`);
  return sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(snsStringToSign(message), 'utf8'), privateKey).toString(
    'base64',
  );
}
