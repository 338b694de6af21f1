/**
 * Herald's SQS front door through the real AWS SDK v3 client (@aws-sdk/client-sqs, AWS JSON
 * 1.0 protocol): every action, its errors as the SDK's typed exceptions, and signatures.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidAttributeName,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  TagQueueCommand,
  TooManyEntriesInBatchRequest,
  BatchEntryIdsNotDistinct,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestHerald, TEST_AWS, type TestHerald } from '../support/herald.js';

let h: TestHerald;
let sqs: SQSClient;

export function sqsFor(h: TestHerald, credentials = TEST_AWS): SQSClient {
  return new SQSClient({
    region: 'us-east-1',
    endpoint: h.herald.aws!.url,
    credentials,
    maxAttempts: 1,
  });
}

beforeAll(async () => {
  h = await startTestHerald();
  sqs = sqsFor(h);
});

afterAll(async () => {
  sqs.destroy();
  await h.close();
  removeDir(h.dataDir);
});

const create = async (name: string, Attributes?: Record<string, string>) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl!;

describe('queues', () => {
  it('creates, finds, lists with prefix and pages, and deletes queues', async () => {
    const url = await create('orders');
    expect(url).toBe(`${h.herald.aws!.url}/000000000000/orders`);
    expect(await create('orders')).toBe(url); // same attributes: idempotent
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl).toBe(url);
    for (const n of ['pg-a', 'pg-b', 'pg-c']) await create(n);
    expect(
      (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'pg-' }))).QueueUrls?.map((u) => u.split('/').pop()),
    ).toEqual(['pg-a', 'pg-b', 'pg-c']);
    const first = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'pg-', MaxResults: 2 }));
    expect(first.QueueUrls).toHaveLength(2);
    expect(first.NextToken).toBeTruthy();
    const second = await sqs.send(
      new ListQueuesCommand({ QueueNamePrefix: 'pg-', MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.QueueUrls?.map((u) => u.split('/').pop())).toEqual(['pg-c']);
    expect(second.NextToken).toBeUndefined();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  it('maps a missing queue to QueueDoesNotExist with the legacy query code', async () => {
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: `${h.herald.aws!.url}/000000000000/nope`, MessageBody: 'x' }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('refuses re-creating a queue with different attributes (QueueNameExists)', async () => {
    await create('same', { VisibilityTimeout: '10', DelaySeconds: '1' });
    const error = await create('same', { VisibilityTimeout: '20', DelaySeconds: '1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueNameExists);
    // SQS's wording, naming the attribute as the caller sent it (not Herald's own field names).
    expect((error as Error).message).toBe(
      'A queue already exists with the same name and a different value for attribute VisibilityTimeout',
    );
  });

  it('sets and reads every attribute', async () => {
    const dlq = await create('attrs-dlq');
    const url = await create('attrs', {
      VisibilityTimeout: '45',
      DelaySeconds: '2',
      MessageRetentionPeriod: '3600',
      MaximumMessageSize: '2048',
      ReceiveMessageWaitTimeSeconds: '1',
    });
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn;
    expect(dlqArn).toBe('arn:aws:sqs:us-east-1:000000000000:attrs-dlq');
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: dlq,
        Attributes: { RedriveAllowPolicy: JSON.stringify({ redrivePermission: 'allowAll' }) },
      }),
    );
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: url,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) },
      }),
    );
    const { Attributes: a } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(a).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:attrs',
      VisibilityTimeout: '45',
      DelaySeconds: '2',
      MessageRetentionPeriod: '3600',
      MaximumMessageSize: '2048',
      ReceiveMessageWaitTimeSeconds: '1',
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    });
    expect(JSON.parse(a!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 });
    expect(Number(a!.CreatedTimestamp)).toBeGreaterThan(1_600_000_000);
    expect(Number(a!.LastModifiedTimestamp)).toBeGreaterThanOrEqual(Number(a!.CreatedTimestamp));
    const dlqAttrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['RedriveAllowPolicy'] }),
    );
    expect(JSON.parse(dlqAttrs.Attributes!.RedriveAllowPolicy!)).toEqual({ redrivePermission: 'allowAll' });
    const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq }));
    expect(sources.queueUrls).toEqual([url]);

    await expect(
      sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { NoSuchThing: '1' } as Record<string, string> }),
      ),
    ).rejects.toBeInstanceOf(InvalidAttributeName);
    const bad = await sqs
      .send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '99999' } }))
      .catch((e) => e);
    expect(bad.name).toBe('InvalidAttributeValue');
    const fifo = await sqs
      .send(new CreateQueueCommand({ QueueName: 'x', Attributes: { FifoQueue: 'true' } }))
      .catch((e) => e);
    expect(fifo.name).toBe('InvalidAttributeValue');
  });

  it('a dead-letter queue that denies all sources is refused as a RedrivePolicy target', async () => {
    const dlq = await create('deny-dlq', { RedriveAllowPolicy: JSON.stringify({ redrivePermission: 'denyAll' }) });
    expect(dlq).toBeTruthy();
    const error = await create('deny-src', {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:deny-dlq',
        maxReceiveCount: 2,
      }),
    }).catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toMatch(/redriveAllowPolicy/);
  });

  it('tags, untags and lists tags', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'tagged', tags: { team: 'a' } }))).QueueUrl!;
    await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { env: 'dev', cost: '42' } }));
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toEqual({
      team: 'a',
      env: 'dev',
      cost: '42',
    });
    await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ['cost', 'team'] }));
    expect((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags).toEqual({ env: 'dev' });
  });

  it('purges a queue', async () => {
    const url = await create('purge-me');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
  });
});

describe('messages', () => {
  it('sends with typed attributes and a trace header, receives them with matching MD5s', async () => {
    const url = await create('typed');
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'héllo',
        MessageAttributes: {
          colour: { DataType: 'String', StringValue: 'blue' },
          price: { DataType: 'Number.float', StringValue: '9.5' },
          raw: { DataType: 'Binary', BinaryValue: Uint8Array.of(0, 1, 2, 255) },
          'meta.a': { DataType: 'String', StringValue: 'x' },
        },
        MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-abc' } },
      }),
    );
    // The SDK checks MD5OfMessageBody and MD5OfMessageAttributes itself and fails on a mismatch.
    expect(sent.MessageId).toBeTruthy();
    expect(sent.MD5OfMessageSystemAttributes).toMatch(/^[0-9a-f]{32}$/);
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const m = got.Messages![0];
    expect(m.Body).toBe('héllo');
    expect(m.MessageId).toBe(sent.MessageId);
    expect(m.MessageAttributes!.price).toEqual({ DataType: 'Number.float', StringValue: '9.5' });
    expect([...m.MessageAttributes!.raw.BinaryValue!]).toEqual([0, 1, 2, 255]);
    expect(m.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(m.Attributes).toMatchObject({ ApproximateReceiveCount: '1', AWSTraceHeader: 'Root=1-abc' });
    expect(Number(m.Attributes!.SentTimestamp)).toBeGreaterThan(1_600_000_000_000);
    expect(Number(m.Attributes!.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(
      Number(m.Attributes!.SentTimestamp),
    );

    // Selecting attributes: a prefix, and only some system attributes.
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }),
    );
    const again = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MessageAttributeNames: ['meta.*'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const m2 = again.Messages![0];
    expect(Object.keys(m2.MessageAttributes!)).toEqual(['meta.a']);
    expect(m2.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m2.ReceiptHandle! }));
  });

  it('batches of 10: send, receive up to 10, delete; partial failures per entry', async () => {
    const url = await create('batch');
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    expect(sent.Successful).toHaveLength(10);
    expect(sent.Failed ?? []).toHaveLength(0);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(10);
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          ...got.Messages!.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })).slice(0, 9),
          { Id: 'bad', ReceiptHandle: 'not a receipt' },
        ],
      }),
    );
    expect(del.Successful).toHaveLength(9);
    expect(del.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true }),
    ]);

    const mixed = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'ok', MessageBody: 'fine' },
          { Id: 'empty', MessageBody: '' },
          { Id: 'ctrl', MessageBody: 'bad \u0001 char' },
        ],
      }),
    );
    expect(mixed.Successful!.map((s) => s.Id)).toEqual(['ok']);
    expect(mixed.Failed!.map((f) => [f.Id, f.Code]).sort()).toEqual([
      ['ctrl', 'InvalidMessageContents'],
      ['empty', 'MissingParameter'],
    ]);

    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' }));
    await expect(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: eleven }))).rejects.toBeInstanceOf(
      TooManyEntriesInBatchRequest,
    );
    await expect(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            { Id: 'same', MessageBody: 'a' },
            { Id: 'same', MessageBody: 'b' },
          ],
        }),
      ),
    ).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
  });

  it('changes visibility one by one and in batches', async () => {
    const url = await create('visibility', { VisibilityTimeout: '30' });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'a' },
          { Id: 'b', MessageBody: 'b' },
        ],
      }),
    );
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(got.Messages).toHaveLength(2);
    const changed = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          ...got.Messages!.map((m, i) => ({ Id: `v${i}`, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
          { Id: 'bad', ReceiptHandle: 'zzz', VisibilityTimeout: 0 },
        ],
      }),
    );
    expect(changed.Successful).toHaveLength(2);
    expect(changed.Failed![0]).toMatchObject({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' });
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(again.Messages).toHaveLength(2);
    // The old receipt was replaced by the second receive.
    const stale = await sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: got.Messages![0].ReceiptHandle!,
          VisibilityTimeout: 5,
        }),
      )
      .catch((e) => e);
    expect(stale.name).toBe('MessageNotInflight');
    await expect(
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it('delays messages per message and per queue, and counts them', async () => {
    const url = await create('delayed');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 1 }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }),
    );
    expect(attrs.Attributes).toEqual({ ApproximateNumberOfMessagesDelayed: '1' });
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const started = Date.now();
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));
    expect(got.Messages![0].Body).toBe('later');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('long-polls: a receive waiting with WaitTimeSeconds gets a message sent meanwhile', async () => {
    const url = await create('long-poll');
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    await new Promise((r) => setTimeout(r, 200));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake' }));
    expect((await waiting).Messages![0].Body).toBe('wake');
  });

  it('long-polls: a receive whose client went away stops waiting and takes nothing', async () => {
    const url = await create('long-poll-gone');
    const abort = new AbortController();
    const gone = sqs
      .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }), { abortSignal: abort.signal })
      .catch((e) => e);
    await new Promise((r) => setTimeout(r, 200));
    abort.abort();
    expect((await gone).name).toBe('AbortError');
    await new Promise((r) => setTimeout(r, 100));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'for the next receiver' }));
    // Had the abandoned receive still been waiting, it would have taken (and hidden) the message.
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['for the next receiver']);
  });

  it('refuses a message over the queue MaximumMessageSize', async () => {
    const url = await create('small', { MaximumMessageSize: '1024' });
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(2000) }))
      .catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'big', MessageBody: 'x'.repeat(2000) },
          { Id: 'small', MessageBody: 'x' },
        ],
      }),
    );
    expect(batch.Successful!.map((s) => s.Id)).toEqual(['small']);
    expect(batch.Failed!.map((f) => f.Id)).toEqual(['big']);
  });

  it('validates receive parameters', async () => {
    const url = await create('validate');
    const error = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })).catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
  });

  it('moves messages past maxReceiveCount to the dead-letter queue and reports the source', async () => {
    const dlq = await create('dl-target');
    const url = await create('dl-source', {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:dl-target',
        maxReceiveCount: 1,
      }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toHaveLength(1);
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages).toBeUndefined();
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MessageSystemAttributeNames: ['All'] }));
    expect(dead.Messages![0].Body).toBe('poison');
    expect(dead.Messages![0].Attributes!.DeadLetterQueueSourceArn).toBe('arn:aws:sqs:us-east-1:000000000000:dl-source');
  });
});
