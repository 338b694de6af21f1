/**
 * What SNS-style subscriptions receive ("Amazon SNS message and JSON formats"): the signed
 * JSON documents (Notification, SubscriptionConfirmation, UnsubscribeConfirmation) and the `x-amz-sns-*` headers that
 * go with them over HTTP. Herald serves the URLs these documents name (SigningCertURL,
 * SubscribeURL, UnsubscribeURL) on its SNS endpoint, `publicUrl`.
 *
 * Signatures use the topic's `SignatureVersion` attribute: "1" (SHA1withRSA, the default) or
 * "2" (SHA256withRSA). FIFO topics' notifications are not signed and carry a SequenceNumber.
 */
import { randomUUID } from 'node:crypto';
import type { Attributes, MessageAttributes, Subscription, Topic } from '../types.js';
import { subscriptionArn, topicArn, type AwsNames } from './arns.js';
import { signSnsMessage, type SignatureVersion, type SnsSignable } from './sns-signature.js';
import type { SigningIdentity } from './sns-signing-key.js';

/** Paths on the SNS endpoint. */
export const SIGNING_CERT_PATH = '/SimpleNotificationService-herald.pem';

export interface SnsMessageInput {
  messageId: string;
  body: string;
  subject?: string;
  attributes: Attributes;
  messageAttributes?: MessageAttributes;
  publishedAtMs: number;
}

export interface SnsMessagesOptions {
  names: AwsNames;
  /** Base URL subscribers reach Herald's SNS endpoint at (no trailing slash). */
  publicUrl: () => string;
  identity: () => Promise<SigningIdentity>;
}

export class SnsMessages {
  constructor(private readonly opts: SnsMessagesOptions) {}

  get names(): AwsNames {
    return this.opts.names;
  }

  topicArn(topic: string): string {
    return topicArn(this.opts.names, topic);
  }

  subscriptionArn(sub: Pick<Subscription, 'topic' | 'id'>): string {
    return subscriptionArn(this.opts.names, sub.topic, sub.id);
  }

  certificateUrl(): string {
    return this.opts.publicUrl() + SIGNING_CERT_PATH;
  }

  subscribeUrl(topic: string, token: string): string {
    const q = new URLSearchParams({ Action: 'ConfirmSubscription', TopicArn: this.topicArn(topic), Token: token });
    return `${this.opts.publicUrl()}/?${q}`;
  }

  unsubscribeUrl(sub: Pick<Subscription, 'topic' | 'id'>): string {
    const q = new URLSearchParams({ Action: 'Unsubscribe', SubscriptionArn: this.subscriptionArn(sub) });
    return `${this.opts.publicUrl()}/?${q}`;
  }

  /** The JSON `Notification` document of a standard topic (what non-raw HTTP and SQS subscriptions get). */
  async notification(topic: Topic, sub: Subscription, m: SnsMessageInput): Promise<string> {
    const signable: SnsSignable = {
      Type: 'Notification',
      MessageId: m.messageId,
      TopicArn: this.topicArn(topic.name),
      Message: m.body,
      Timestamp: new Date(m.publishedAtMs).toISOString(),
      ...(m.subject !== undefined ? { Subject: m.subject } : {}),
    };
    const doc: Record<string, unknown> = {
      Type: signable.Type,
      MessageId: signable.MessageId,
      TopicArn: signable.TopicArn,
      ...(m.subject !== undefined ? { Subject: m.subject } : {}),
      Message: signable.Message,
      Timestamp: signable.Timestamp,
      ...(await this.signature(topic, signable)),
      UnsubscribeURL: this.unsubscribeUrl(sub),
    };
    return JSON.stringify(withAttributes(doc, m));
  }

  /**
   * The `Notification` document of a FIFO topic, made from the message's SequenceNumber (the
   * store numbers the message when it accepts it). As on SNS it carries `SequenceNumber` and is
   * not signed: FIFO topics deliver only to SQS queues, whose messages are not verified by
   * signature.
   */
  fifoNotification(topic: Topic, sub: Subscription, m: SnsMessageInput): (sequenceNumber: string) => string {
    const before = {
      Type: 'Notification',
      MessageId: m.messageId,
    };
    const after = withAttributes(
      {
        TopicArn: this.topicArn(topic.name),
        ...(m.subject !== undefined ? { Subject: m.subject } : {}),
        Message: m.body,
        Timestamp: new Date(m.publishedAtMs).toISOString(),
        UnsubscribeURL: this.unsubscribeUrl(sub),
      },
      m,
    );
    return (sequenceNumber) => JSON.stringify({ ...before, SequenceNumber: sequenceNumber, ...after });
  }

  /** The `SubscriptionConfirmation` POST for a pending subscription: body and headers. */
  async confirmation(topic: Topic, sub: Subscription): Promise<{ body: string; headers: Record<string, string> }> {
    if (!sub.confirmationToken) throw new Error(`subscription ${sub.id} is not awaiting confirmation`);
    const arn = this.topicArn(topic.name);
    return this.tokenMessage(
      topic,
      'SubscriptionConfirmation',
      sub.confirmationToken,
      `You have chosen to subscribe to the topic ${arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      {},
    );
  }

  /**
   * The `UnsubscribeConfirmation` POST to an HTTP/S subscription just deleted: its `Token` (and
   * the `SubscribeURL` made from it) restores the subscription. Signed over the same fields as a
   * SubscriptionConfirmation, as SNS documents.
   */
  async unsubscribeConfirmation(
    topic: Topic,
    sub: Subscription,
    token: string,
  ): Promise<{ body: string; headers: Record<string, string> }> {
    const subscriptionArn = this.subscriptionArn(sub);
    return this.tokenMessage(
      topic,
      'UnsubscribeConfirmation',
      token,
      `You have chosen to deactivate subscription ${subscriptionArn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
      { 'x-amz-sns-subscription-arn': subscriptionArn },
    );
  }

  /** A signed message carrying a token and the SubscribeURL made from it (both confirmations). */
  private async tokenMessage(
    topic: Topic,
    type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation',
    token: string,
    message: string,
    extraHeaders: Record<string, string>,
  ): Promise<{ body: string; headers: Record<string, string> }> {
    const arn = this.topicArn(topic.name);
    const signable: SnsSignable = {
      Type: type,
      MessageId: randomUUID(),
      Token: token,
      TopicArn: arn,
      Message: message,
      SubscribeURL: this.subscribeUrl(topic.name, token),
      Timestamp: new Date().toISOString(),
    };
    const body = JSON.stringify({
      Type: signable.Type,
      MessageId: signable.MessageId,
      Token: signable.Token,
      TopicArn: arn,
      Message: signable.Message,
      SubscribeURL: signable.SubscribeURL,
      Timestamp: signable.Timestamp,
      ...(await this.signature(topic, signable)),
    });
    return {
      body,
      headers: {
        'x-amz-sns-message-type': type,
        'x-amz-sns-message-id': signable.MessageId,
        'x-amz-sns-topic-arn': arn,
        ...extraHeaders,
        'content-type': 'text/plain; charset=UTF-8',
        'user-agent': 'Amazon Simple Notification Service Agent',
      },
    };
  }

  /** Headers of a notification POST to an HTTP/S subscription. */
  notificationHeaders(sub: Subscription, messageId: string): Record<string, string> {
    return {
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-message-id': messageId,
      'x-amz-sns-topic-arn': this.topicArn(sub.topic),
      'x-amz-sns-subscription-arn': this.subscriptionArn(sub),
      ...(sub.raw ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
    };
  }

  private async signature(topic: Topic, signable: SnsSignable) {
    const version: SignatureVersion = topic.attributes.SignatureVersion === '2' ? '2' : '1';
    const identity = await this.opts.identity();
    return {
      SignatureVersion: version,
      Signature: signSnsMessage(signable, identity.privateKey, version),
      SigningCertURL: this.certificateUrl(),
    };
  }
}

/** The document with `MessageAttributes` (`{Type, Value}`, Binary as base64) when the message has any. */
function withAttributes(doc: Record<string, unknown>, m: SnsMessageInput): Record<string, unknown> {
  const attrs: Record<string, { Type: string; Value: string }> = {};
  for (const k in m.attributes) attrs[k] = { Type: 'String', Value: m.attributes[k] };
  for (const k in m.messageAttributes) {
    const { dataType, stringValue, binaryValue } = m.messageAttributes[k];
    const value =
      binaryValue === undefined
        ? (stringValue ?? '')
        : typeof binaryValue === 'string'
          ? binaryValue
          : Buffer.from(binaryValue).toString('base64');
    attrs[k] = { Type: dataType, Value: value };
  }
  if (Object.keys(attrs).length > 0) doc.MessageAttributes = attrs;
  return doc;
}
