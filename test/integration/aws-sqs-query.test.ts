/**
 * The SQS Query protocol (form-encoded requests, XML answers) as older SDKs and tools send it:
 * flattened lists and maps (`AttributeName.1`, `Attribute.1.Name`, `MessageAttribute.1.Value.StringValue`,
 * `SendMessageBatchRequestEntry.1.Id`) and wrapped ones (`Entries.member.1.Id`). Requests are
 * signed with the AWS SDK's own SigV4 signer (@smithy/signature-v4).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5OfMessageAttributes, md5OfMessageBody } from '../../src/aws/sqs-md5.js';
import { removeDir, startTestHerald, TEST_AWS, type TestHerald } from '../support/herald.js';

let h: TestHerald;

beforeAll(async () => {
  h = await startTestHerald();
});
afterAll(async () => {
  await h.close();
  removeDir(h.dataDir);
});

async function query(
  params: Record<string, string>,
  opts: { secret?: string; method?: 'GET' | 'POST'; path?: string; service?: 'sqs' | 'sns' } = {},
): Promise<{ status: number; xml: string }> {
  const url = new URL(h.herald.aws!.url);
  const version = opts.service === 'sns' ? '2010-03-31' : '2012-11-05';
  const form = new URLSearchParams({ Version: version, ...params }).toString();
  const method = opts.method ?? 'POST';
  const signer = new SignatureV4({
    service: opts.service ?? 'sqs',
    region: 'us-east-1',
    credentials: { accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: opts.secret ?? TEST_AWS.secretAccessKey },
    sha256: Sha256,
  });
  const queryParams: Record<string, string> = {};
  if (method === 'GET') for (const [k, v] of new URLSearchParams(form)) queryParams[k] = v;
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: opts.path ?? '/',
    query: queryParams,
    headers: {
      host: url.host,
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}),
    },
    body: method === 'POST' ? form : undefined,
  });
  const target = `${h.herald.aws!.url}${opts.path ?? '/'}${method === 'GET' ? `?${form}` : ''}`;
  const res = await fetch(target, { method, headers: signed.headers, body: method === 'POST' ? form : undefined });
  return { status: res.status, xml: await res.text() };
}

/** Text of every `<name>` element, in order. */
const all = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) =>
    m[1]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  );
const one = (xml: string, name: string) => all(xml, name)[0];

describe('SQS Query protocol', () => {
  it('creates a queue with flattened attributes and answers in the SQS namespace', async () => {
    const r = await query({
      Action: 'CreateQueue',
      QueueName: 'q-orders',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '40',
      'Tag.1.Key': 'team',
      'Tag.1.Value': 'a',
    });
    expect(r.status).toBe(200);
    expect(r.xml).toContain('<CreateQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">');
    expect(one(r.xml, 'QueueUrl')).toBe(`${h.herald.aws!.url}/000000000000/q-orders`);
    expect(one(r.xml, 'RequestId')).toMatch(/^[0-9a-f-]{36}$/);
    const attrs = await query({
      Action: 'GetQueueAttributes',
      QueueUrl: one(r.xml, 'QueueUrl'),
      'AttributeName.1': 'VisibilityTimeout',
      'AttributeName.2': 'QueueArn',
    });
    expect(all(attrs.xml, 'Name')).toEqual(['VisibilityTimeout', 'QueueArn']);
    expect(all(attrs.xml, 'Value')).toEqual(['40', 'arn:aws:sqs:us-east-1:000000000000:q-orders']);
    const tags = await query({ Action: 'ListQueueTags', QueueUrl: one(r.xml, 'QueueUrl') });
    expect(tags.xml).toContain('<Tag><Key>team</Key><Value>a</Value></Tag>');
    const list = await query({ Action: 'ListQueues', QueueNamePrefix: 'q-' });
    expect(all(list.xml, 'QueueUrl')).toEqual([one(r.xml, 'QueueUrl')]);
  });

  it('sends with typed attributes, receives them with their MD5s, and deletes in a wrapped batch', async () => {
    const url = one((await query({ Action: 'CreateQueue', QueueName: 'q-msgs' })).xml, 'QueueUrl');
    const sent = await query({
      Action: 'SendMessage',
      QueueUrl: url,
      MessageBody: 'a <b> & "c"',
      'MessageAttribute.1.Name': 'colour',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'blue',
      'MessageAttribute.2.Name': 'bytes',
      'MessageAttribute.2.Value.DataType': 'Binary',
      'MessageAttribute.2.Value.BinaryValue': Buffer.from([1, 2, 3]).toString('base64'),
    });
    expect(sent.status).toBe(200);
    const expectedMd5 = md5OfMessageAttributes({
      colour: { DataType: 'String', StringValue: 'blue' },
      bytes: { DataType: 'Binary', BinaryValue: Uint8Array.of(1, 2, 3) },
    });
    expect(one(sent.xml, 'MD5OfMessageBody')).toBe(md5OfMessageBody('a <b> & "c"'));
    expect(one(sent.xml, 'MD5OfMessageAttributes')).toBe(expectedMd5);

    const batch = await query({
      Action: 'SendMessageBatch',
      QueueUrl: url,
      'SendMessageBatchRequestEntry.1.Id': 'one',
      'SendMessageBatchRequestEntry.1.MessageBody': 'first',
      'SendMessageBatchRequestEntry.2.Id': 'two',
      'SendMessageBatchRequestEntry.2.MessageBody': 'second',
      'SendMessageBatchRequestEntry.2.DelaySeconds': '0',
    });
    expect(all(batch.xml, 'Id')).toEqual(['one', 'two']);
    expect(batch.xml).toContain('<SendMessageBatchResultEntry>');

    const got = await query({
      Action: 'ReceiveMessage',
      QueueUrl: url,
      MaxNumberOfMessages: '10',
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'All',
    });
    expect(all(got.xml, 'Body')).toEqual(['a <b> & "c"', 'first', 'second']);

    expect(all(got.xml, 'MD5OfMessageAttributes')).toEqual([expectedMd5]);
    expect(got.xml).toContain(
      '<MessageAttribute><Name>bytes</Name><Value><DataType>Binary</DataType><BinaryValue>AQID</BinaryValue></Value></MessageAttribute>',
    );
    expect(got.xml).toContain('<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>');
    const receipts = all(got.xml, 'ReceiptHandle');
    expect(receipts).toHaveLength(3);

    const del = await query({
      Action: 'DeleteMessageBatch',
      QueueUrl: url,
      ...Object.fromEntries(
        receipts.flatMap((r, i) => [
          [`Entries.member.${i + 1}.Id`, `d${i}`],
          [`Entries.member.${i + 1}.ReceiptHandle`, r],
        ]),
      ),
    });
    expect(del.xml.match(/<DeleteMessageBatchResultEntry>/g)).toHaveLength(3);
    const counts = await query({ Action: 'GetQueueAttributes', QueueUrl: url, 'AttributeName.1': 'All' });
    expect(counts.xml).toContain(
      '<Attribute><Name>ApproximateNumberOfMessagesNotVisible</Name><Value>0</Value></Attribute>',
    );
  });

  it('accepts GET requests and a queue addressed by its URL path', async () => {
    await query({ Action: 'CreateQueue', QueueName: 'q-get' });
    const sent = await query({ Action: 'SendMessage', MessageBody: 'via path' }, { path: '/000000000000/q-get' });
    expect(sent.status).toBe(200);
    const got = await query(
      { Action: 'ReceiveMessage', QueueUrl: `${h.herald.aws!.url}/000000000000/q-get` },
      { method: 'GET' },
    );
    expect(one(got.xml, 'Body')).toBe('via path');
  });

  it('accepts a presigned GET (SigV4 in the query string) and refuses it once expired', async () => {
    await query({ Action: 'CreateQueue', QueueName: 'q-presigned' });
    const url = new URL(h.herald.aws!.url);
    const signer = new SignatureV4({ service: 'sqs', region: 'us-east-1', credentials: TEST_AWS, sha256: Sha256 });
    const presign = async (signingDate: Date) => {
      const signed = await signer.presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: '/',
          query: { Action: 'ListQueues', QueueNamePrefix: 'q-pre', Version: '2012-11-05' },
          headers: { host: url.host },
        },
        { expiresIn: 60, signingDate },
      );
      const qs = new URLSearchParams(signed.query as Record<string, string>).toString();
      const res = await fetch(`${h.herald.aws!.url}/?${qs}`);
      return { status: res.status, xml: await res.text() };
    };
    const fresh = await presign(new Date());
    expect(fresh.status).toBe(200);
    expect(all(fresh.xml, 'QueueUrl')).toEqual([`${h.herald.aws!.url}/000000000000/q-presigned`]);
    const expired = await presign(new Date(Date.now() - 120_000));
    expect(expired.status).toBe(403);
    expect(one(expired.xml, 'Code')).toBe('SignatureDoesNotMatch');
  });

  it('answers an empty <ActionResult> for an empty output, and none for actions without output', async () => {
    // botocore's Query parser (the AWS CLI v2 up to 2.13, boto3 before SQS moved to JSON)
    // looks the <ActionResult> element up by name and fails without it: an empty receive,
    // an empty list or SNS's TagResource crashed the CLI v2 with KeyError 'ReceiveMessageResult'.
    await query({ Action: 'CreateQueue', QueueName: 'q-empty' });
    const queueUrl = `${h.herald.aws!.url}/000000000000/q-empty`;
    const empty = (action: string) => `<${action}Result></${action}Result><ResponseMetadata>`;
    const none = (action: string) =>
      `<${action}Response xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata>`;
    for (const [params, action] of [
      [{ Action: 'ReceiveMessage', QueueUrl: queueUrl }, 'ReceiveMessage'],
      [{ Action: 'ListQueues', QueueNamePrefix: 'no-such-prefix' }, 'ListQueues'],
      [{ Action: 'ListQueueTags', QueueUrl: queueUrl }, 'ListQueueTags'],
      [{ Action: 'ListDeadLetterSourceQueues', QueueUrl: queueUrl }, 'ListDeadLetterSourceQueues'],
      [
        { Action: 'ListMessageMoveTasks', SourceArn: 'arn:aws:sqs:us-east-1:000000000000:q-empty' },
        'ListMessageMoveTasks',
      ],
    ] as const) {
      const r = await query(params);
      expect(r.status, r.xml).toBe(200);
      expect(r.xml).toContain(empty(action));
    }
    for (const [params, action] of [
      [
        {
          Action: 'SetQueueAttributes',
          QueueUrl: queueUrl,
          'Attribute.1.Name': 'DelaySeconds',
          'Attribute.1.Value': '0',
        },
        'SetQueueAttributes',
      ],
      [{ Action: 'PurgeQueue', QueueUrl: queueUrl }, 'PurgeQueue'],
      [{ Action: 'DeleteQueue', QueueUrl: queueUrl }, 'DeleteQueue'],
    ] as const) {
      const r = await query(params);
      expect(r.status, r.xml).toBe(200);
      expect(r.xml).toContain(none(action));
    }

    // SNS: TagResource and UntagResource answer an empty result, DeleteTopic none.
    const sns = { service: 'sns' } as const;
    const topicArn = one((await query({ Action: 'CreateTopic', Name: 'q-tagged' }, sns)).xml, 'TopicArn');
    const tagged = await query(
      { Action: 'TagResource', ResourceArn: topicArn, 'Tags.member.1.Key': 'k', 'Tags.member.1.Value': 'v' },
      sns,
    );
    expect(tagged.xml).toContain(empty('TagResource'));
    const untagged = await query({ Action: 'UntagResource', ResourceArn: topicArn, 'TagKeys.member.1': 'k' }, sns);
    expect(untagged.xml).toContain(empty('UntagResource'));
    const deleted = await query({ Action: 'DeleteTopic', TopicArn: topicArn }, sns);
    expect(deleted.xml).toContain(
      '<DeleteTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ResponseMetadata>',
    );
  });

  it('answers errors as an ErrorResponse with the legacy codes', async () => {
    const missing = await query({ Action: 'GetQueueUrl', QueueName: 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.xml).toContain('<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">');
    expect(one(missing.xml, 'Code')).toBe('AWS.SimpleQueueService.NonExistentQueue');
    expect(one(missing.xml, 'Type')).toBe('Sender');
    const wrong = await query({ Action: 'ListQueues' }, { secret: 'wrong' });
    expect(wrong.status).toBe(403);
    expect(one(wrong.xml, 'Code')).toBe('SignatureDoesNotMatch');
    const unknown = await query({ Action: 'Nope' });
    expect(one(unknown.xml, 'Code')).toBe('InvalidAction');
    const batch = await query({ Action: 'DeleteMessageBatch', QueueUrl: `${h.herald.aws!.url}/000000000000/q-orders` });
    expect(one(batch.xml, 'Code')).toBe('AWS.SimpleQueueService.EmptyBatchRequest');
  });
});
