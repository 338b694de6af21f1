import { createHash } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  encodeMessageAttributes,
  md5OfMessageAttributes,
  md5OfMessageBody,
  md5OfMessageSystemAttributes,
  type MessageAttributes,
} from '../../src/aws/sqs-md5.js';
import { HeraldError } from '../../src/errors.js';
import { sqsClient } from '../support/sqs-client.js';

const str = (StringValue: string, DataType = 'String') => ({ DataType, StringValue });
const num = (StringValue: string, DataType = 'Number') => ({ DataType, StringValue });
const bin = (value: string | Uint8Array, DataType = 'Binary') => ({
  DataType,
  BinaryValue: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
});

describe('md5OfMessageBody', () => {
  it('is the hex MD5 of the UTF-8 body (RFC 1321 test suite and the SQS API reference example)', () => {
    expect(md5OfMessageBody('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5OfMessageBody('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5OfMessageBody('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    // SendMessage in the Amazon SQS API Reference: "This is a test message".
    expect(md5OfMessageBody('This is a test message')).toBe('fafb00f5732ab283681e124bf8747ed1');
  });

  it('digests UTF-8, not UTF-16 or Latin-1', () => {
    const md5 = (bytes: number[]) => createHash('md5').update(Buffer.from(bytes)).digest('hex');
    expect(md5OfMessageBody('é')).toBe(md5([0xc3, 0xa9]));
    expect(md5OfMessageBody('é')).not.toBe(md5([0xe9]));
    expect(md5OfMessageBody('✓😀')).toBe(md5([0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x98, 0x80]));
  });
});

describe('md5OfMessageAttributes', () => {
  // Published vectors: the attribute sets and digests below are asserted by independent
  // SQS implementations' test suites against real SQS (see each comment).
  it.each<[string, MessageAttributes, string]>([
    [
      'two String attributes, given out of order (AWS sample, as in ydb ymq attributes_md5_ut)',
      { test_attribute_name_2: str('test_attribute_value_2'), test_attribute_name_1: str('test_attribute_value_1') },
      'd53f3b558fe951154770f25cb63dbba9',
    ],
    [
      'one Binary attribute (AWS sample, as in ydb ymq attributes_md5_ut)',
      { test_attribute_name: bin('test_attribute_value') },
      '23f6bd27ea87aab7dfeadcc9aebee495',
    ],
    [
      'one Number attribute (localstack test_sqs_message_attrs_md5)',
      { timestamp: num('1493147359900') },
      '235c5c510d26fb653d073faed50ae77c',
    ],
    [
      'Number and String (sqslite md5_test)',
      { ordinal: num('1'), category: str('test') },
      'd21ae90c49061e927f57df5f5d72be1f',
    ],
    [
      'one String attribute (AWS developer guide example)',
      { SellerName: str('Example Store') },
      'cd28f3b68aeee4b2eac9c66f2f694b58',
    ],
    [
      'four String attributes (AWS developer guide example)',
      { City: str('Any City'), PostalCode: str('99065'), Region: str('WA'), SellerName: str('Example Store') },
      '66d793da93becb551e41562575418975',
    ],
    [
      'Strings and a Number (AWS developer guide example)',
      {
        SellerName: str('Example Store'),
        Region: str('WA'),
        PricePerGallon: num('1.99'),
        PostalCode: str('99065'),
        City: str('Any City'),
      },
      '10809b55e3d9b22c17220b7dbaf283ef',
    ],
  ])('%s', (_, attributes, expected) => {
    expect(md5OfMessageAttributes(attributes)).toBe(expected);
  });

  it('is absent when there are no attributes, as SQS leaves MD5OfMessageAttributes out', () => {
    expect(md5OfMessageAttributes(undefined)).toBeUndefined();
    expect(md5OfMessageAttributes({})).toBeUndefined();
  });

  it('encodes each attribute as length-prefixed name, type, a transport byte and a length-prefixed value', () => {
    const hex = (...parts: string[]) => parts.join('');
    expect(encodeMessageAttributes({ a: str('b') }).toString('hex')).toBe(
      hex('00000001', '61', '00000006', Buffer.from('String').toString('hex'), '01', '00000001', '62'),
    );
    expect(encodeMessageAttributes({ n: num('1.5', 'Number.float') }).toString('hex')).toBe(
      hex(
        '00000001',
        '6e',
        '0000000c',
        Buffer.from('Number.float').toString('hex'),
        '01',
        '00000003',
        Buffer.from('1.5').toString('hex'),
      ),
    );
    expect(encodeMessageAttributes({ g: bin(Buffer.from([0, 0xff, 0x80]), 'Binary.gif') }).toString('hex')).toBe(
      hex('00000001', '67', '0000000a', Buffer.from('Binary.gif').toString('hex'), '02', '00000003', '00ff80'),
    );
    // Lengths count UTF-8 bytes, not characters.
    expect(encodeMessageAttributes({ u: str('✓') }).toString('hex')).toBe(
      hex('00000001', '75', '00000006', Buffer.from('String').toString('hex'), '01', '00000003', 'e29c93'),
    );
    expect(encodeMessageAttributes({ e: str('') }).toString('hex')).toBe(
      hex('00000001', '65', '00000006', Buffer.from('String').toString('hex'), '01', '00000000'),
    );
  });

  it('keeps a custom type in full: Number.float and Number digest differently', () => {
    const plain = md5OfMessageAttributes({ p: num('3.14') });
    const custom = md5OfMessageAttributes({ p: num('3.14', 'Number.float') });
    expect(custom).not.toBe(plain);
    expect(md5OfMessageAttributes({ p: str('3.14', 'String.custom') })).not.toBe(
      md5OfMessageAttributes({ p: str('3.14') }),
    );
  });

  it('sorts by name regardless of insertion order, in code-unit order (upper case first)', () => {
    const a = md5OfMessageAttributes({ b: str('1'), a: str('2'), B: str('3'), 'a.b': str('4'), a_b: str('5') });
    const b = md5OfMessageAttributes({ a_b: str('5'), 'a.b': str('4'), B: str('3'), a: str('2'), b: str('1') });
    expect(a).toBe(b);
    const order = encodeMessageAttributes({ b: str(''), a: str(''), B: str(''), 'a-b': str('') });
    const names = [
      ...order.toString('latin1').matchAll(/\x00\x00\x00[\x01-\x03]([A-Za-z.\-_]+)\x00\x00\x00\x06String/g),
    ].map((m) => m[1]);
    expect(names).toEqual(['B', 'a', 'a-b', 'b']);
  });

  it('tells a String from a Binary holding the same bytes', () => {
    expect(md5OfMessageAttributes({ x: str('v') })).not.toBe(md5OfMessageAttributes({ x: bin('v') }));
  });

  it('refuses unknown types and missing values, naming the attribute', () => {
    const bad: Array<[MessageAttributes, RegExp]> = [
      [
        { x: { DataType: 'Text', StringValue: 'v' } },
        /MessageAttributes\.x\.DataType must be String, Number or Binary/,
      ],
      [{ x: { DataType: 'string', StringValue: 'v' } }, /MessageAttributes\.x\.DataType/],
      [{ x: { DataType: 'String' } }, /MessageAttributes\.x\.StringValue is required for DataType String/],
      [
        { x: { DataType: 'Number.int', BinaryValue: Buffer.from('1') } },
        /MessageAttributes\.x\.StringValue is required/,
      ],
      [
        { x: { DataType: 'Binary', StringValue: 'AAAA' } },
        /MessageAttributes\.x\.BinaryValue is required for DataType Binary/,
      ],
    ];
    for (const [attributes, message] of bad) {
      expect(() => md5OfMessageAttributes(attributes)).toThrow(HeraldError);
      expect(() => md5OfMessageAttributes(attributes)).toThrow(message);
    }
  });
});

describe('md5OfMessageSystemAttributes', () => {
  it('digests AWSTraceHeader like any String attribute', () => {
    const trace = { AWSTraceHeader: str('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1') };
    expect(md5OfMessageSystemAttributes(trace)).toBe(md5OfMessageAttributes(trace));
    expect(md5OfMessageSystemAttributes(trace)).toMatch(/^[0-9a-f]{32}$/);
    expect(md5OfMessageSystemAttributes({})).toBeUndefined();
  });
});

describe('the real SQS client (@aws-sdk/client-sqs and @aws-sdk/middleware-sdk-sqs) accepts these digests', () => {
  // The SDK for JavaScript v3 checks MD5OfMessageBody on SendMessage and SendMessageBatch and
  // MD5OfBody on ReceiveMessage (middleware-sdk-sqs); it does not check the attribute digests.
  const client = (answer: (action: string, input: Record<string, unknown>) => object) =>
    sqsClient(({ action, input }) => answer(action, input));
  const queueUrl = 'http://localhost:4566/000000000000/orders';
  const BODIES = [
    '',
    'plain',
    'héllo ✓ 😀',
    '{"json":true,"n":[1,2,3]}',
    'line\r\nbreaks\tand\u0000nul',
    'x'.repeat(100_000),
  ];

  it('on SendMessage', async () => {
    const sqs = client((_, input) => ({
      MessageId: 'm',
      MD5OfMessageBody: md5OfMessageBody(input.MessageBody as string),
    }));
    for (const body of BODIES) {
      const out = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      expect(out.MD5OfMessageBody).toBe(md5OfMessageBody(body));
    }
  });

  it('on SendMessageBatch', async () => {
    const sqs = client((_, input) => ({
      Successful: (input.Entries as Array<{ Id: string; MessageBody: string }>).map((e) => ({
        Id: e.Id,
        MessageId: `m-${e.Id}`,
        MD5OfMessageBody: md5OfMessageBody(e.MessageBody),
      })),
      Failed: [],
    }));
    const entries = BODIES.map((MessageBody, i) => ({ Id: `e${i}`, MessageBody }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    expect(out.Successful).toHaveLength(BODIES.length);
  });

  it('on ReceiveMessage', async () => {
    const messages: Message[] = BODIES.map((Body, i) => ({
      MessageId: `m${i}`,
      ReceiptHandle: `r${i}`,
      Body,
      MD5OfBody: md5OfMessageBody(Body),
    }));
    const sqs = client(() => ({ Messages: messages }));
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(out.Messages?.map((m) => m.Body)).toEqual(BODIES);
  });

  it('and rejects a wrong digest, so the check is real', async () => {
    const wrong = md5OfMessageBody('other');
    await expect(
      client(() => ({ MessageId: 'm', MD5OfMessageBody: wrong })).send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'body' }),
      ),
    ).rejects.toThrow(/InvalidChecksumError/);
    await expect(
      client(() => ({ Messages: [{ MessageId: 'm7', ReceiptHandle: 'r', Body: 'body', MD5OfBody: wrong }] })).send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl }),
      ),
    ).rejects.toThrow(/Invalid MD5 checksum on messages: m7/);
  });
});
