import { describe, expect, it } from 'vitest';
import {
  parseQueueArn,
  parseSubscriptionArn,
  parseTopicArn,
  queueArn,
  subscriptionArn,
  topicArn,
} from '../../src/aws/arns.js';
import { decodeAttributes, decodeExtras, encodeAttributes } from '../../src/store/attributes-codec.js';

const names = { region: 'eu-west-1', accountId: '123456789012' };

describe('ARNs', () => {
  it('are built from the configured region and account, and parsed back', () => {
    expect(topicArn(names, 'orders')).toBe('arn:aws:sns:eu-west-1:123456789012:orders');
    expect(subscriptionArn(names, 'orders', 'abc')).toBe('arn:aws:sns:eu-west-1:123456789012:orders:abc');
    expect(queueArn(names, 'jobs.fifo')).toBe('arn:aws:sqs:eu-west-1:123456789012:jobs.fifo');
    expect(parseTopicArn(topicArn(names, 'orders'))).toBe('orders');
    expect(parseSubscriptionArn(subscriptionArn(names, 'orders', 'abc'))).toEqual({ topic: 'orders', id: 'abc' });
    expect(parseQueueArn(queueArn(names, 'jobs.fifo'))).toBe('jobs.fifo');
  });

  it('tell topics, subscriptions and queues apart and refuse anything else', () => {
    expect(parseTopicArn(subscriptionArn(names, 'orders', 'abc'))).toBeNull();
    expect(parseSubscriptionArn(topicArn(names, 'orders'))).toBeNull();
    expect(parseTopicArn(queueArn(names, 'orders'))).toBeNull();
    expect(parseQueueArn(topicArn(names, 'orders'))).toBeNull();
    for (const bad of ['orders', 'arn:aws:sns', 'arn:aws:s3:::bucket', 42, undefined])
      expect(parseTopicArn(bad)).toBeNull();
    // Another partition, region or account still names the topic (one Herald is one account).
    expect(parseTopicArn('arn:aws-cn:sns:cn-north-1:000000000000:orders')).toBe('orders');
  });
});

describe('attributes column codec', () => {
  it('keeps plain attributes as they always were', () => {
    expect(encodeAttributes({})).toBeNull();
    expect(encodeAttributes({ a: '1' })).toBe('{"a":"1"}');
    expect(decodeAttributes('{"a":"1"}')).toEqual({ a: '1' });
    expect(decodeExtras('{"a":"1"}')).toEqual({});
    expect(decodeAttributes(null)).toEqual({});
  });

  it('round-trips typed attributes (Binary as base64) and the subject, apart from plain ones', () => {
    const text = encodeAttributes(
      { plain: 'x' },
      {
        subject: 'Hi',
        messageAttributes: {
          n: { dataType: 'Number', stringValue: '1.5' },
          b: { dataType: 'Binary', binaryValue: new Uint8Array([0, 1, 2]) },
        },
      },
    );
    expect(decodeAttributes(text)).toEqual({ plain: 'x' });
    expect(decodeExtras(text)).toEqual({
      subject: 'Hi',
      messageAttributes: {
        n: { dataType: 'Number', stringValue: '1.5' },
        b: { dataType: 'Binary', binaryValue: 'AAEC' },
      },
    });
    expect(decodeExtras(encodeAttributes({}, { subject: '' }))).toEqual({ subject: '' });
  });
});
