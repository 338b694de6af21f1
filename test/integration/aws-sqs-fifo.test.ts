/**
 * FIFO queues through the real SDK: MessageGroupId, MessageDeduplicationId and content-based
 * deduplication, SequenceNumber, order within a group, and a group blocked while its head is
 * in flight (the domain's FIFO semantics, reached through the SQS API).
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestHerald, TEST_AWS, type TestHerald } from '../support/herald.js';

let h: TestHerald;
let sqs: SQSClient;

beforeAll(async () => {
  h = await startTestHerald();
  sqs = new SQSClient({ region: 'us-east-1', endpoint: h.herald.aws!.url, credentials: TEST_AWS, maxAttempts: 1 });
});
afterAll(async () => {
  sqs.destroy();
  await h.close();
  removeDir(h.dataDir);
});

const createFifo = async (name: string, attributes: Record<string, string> = {}) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ...attributes } })))
    .QueueUrl!;

describe('FIFO queues over SQS', () => {
  it('creates FIFO queues only with a .fifo name and FifoQueue=true, and reports their attributes', async () => {
    const url = await createFifo('orders.fifo', { ContentBasedDeduplication: 'true' });
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    const noFlag = await sqs.send(new CreateQueueCommand({ QueueName: 'nope.fifo' })).catch((e) => e);
    expect(noFlag.name).toBe('InvalidParameterValue');
    const standard = await sqs
      .send(new CreateQueueCommand({ QueueName: 'plain', Attributes: { ContentBasedDeduplication: 'true' } }))
      .catch((e) => e);
    expect(standard.name).toBe('InvalidAttributeName');
  });

  it('keeps order within a group, blocks a group while its head is in flight, and numbers messages', async () => {
    const url = await createFifo('jobs.fifo');
    const entries = ['a1', 'b1', 'a2', 'a3', 'b2'].map((body, i) => ({
      Id: `e${i}`,
      MessageBody: body,
      MessageGroupId: body[0],
      MessageDeduplicationId: `d-${body}`,
    }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    expect(sent.Successful).toHaveLength(5);
    const sequences = sent.Successful!.map((s) => BigInt(s.SequenceNumber!));
    expect([...sequences].sort((x, y) => (x < y ? -1 : 1))).toEqual(sequences);

    const first = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['All'] }),
    );
    const head = first.Messages![0];
    expect(head.Body).toBe('a1');
    expect(head.Attributes).toMatchObject({ MessageGroupId: 'a', MessageDeduplicationId: 'd-a1' });
    expect(head.Attributes!.SequenceNumber).toBe(sent.Successful![0].SequenceNumber);
    // Group a is blocked while a1 is in flight: only group b can be served.
    const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(next.Messages!.map((m) => m.Body)).toEqual(['b1', 'b2']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: head.ReceiptHandle! }));
    const rest = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(rest.Messages!.map((m) => m.Body)).toEqual(['a2', 'a3']);
    // Releasing a2 puts group a back in order.
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: rest.Messages![0].ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
  });

  it('deduplicates by MessageDeduplicationId and by content, answering with the first message id', async () => {
    const url = await createFifo('dedup.fifo', { ContentBasedDeduplication: 'true' });
    const one = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'k' }),
    );
    const again = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'other', MessageGroupId: 'g', MessageDeduplicationId: 'k' }),
    );
    expect(again.MessageId).toBe(one.MessageId);
    expect(one.SequenceNumber).toMatch(/^\d{20}$/);
    expect(again.SequenceNumber).toBe(one.SequenceNumber);
    const byContent = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }),
    );
    const byContentAgain = await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: 'same', MessageGroupId: 'g' }),
    );
    expect(byContentAgain.MessageId).toBe(byContent.MessageId);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    expect(got.Messages!.map((m) => m.Body)).toEqual(['x', 'same']);
  });

  it('refuses a FIFO message without MessageGroupId or deduplication, and a per-message delay', async () => {
    const url = await createFifo('strict.fifo');
    const noGroup = await sqs
      .send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageDeduplicationId: 'k' }))
      .catch((e) => e);
    // SQS's own answer: the SDK's MissingParameter, naming the parameter.
    expect(noGroup.name).toBe('MissingParameter');
    expect(noGroup.message).toBe('The request must contain the parameter MessageGroupId.');
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'grouped', MessageBody: 'y', MessageGroupId: 'g', MessageDeduplicationId: 'k2' },
          { Id: 'ungrouped', MessageBody: 'z', MessageDeduplicationId: 'k3' },
        ],
      }),
    );
    expect(batch.Successful!.map((e) => e.Id)).toEqual(['grouped']);
    expect(batch.Failed).toEqual([
      expect.objectContaining({ Id: 'ungrouped', SenderFault: true, Code: 'MissingParameter' }),
    ]);
    const noDedup = await sqs
      .send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x', MessageGroupId: 'g' }))
      .catch((e) => e);
    expect(noDedup.name).toBe('InvalidParameterValue');
    const delayed = await sqs
      .send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'x',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'k2',
          DelaySeconds: 5,
        }),
      )
      .catch((e) => e);
    expect(delayed.name).toBe('InvalidParameterValue');
    const standard = (await sqs.send(new CreateQueueCommand({ QueueName: 'std' }))).QueueUrl!;
    const dedupOnStandard = await sqs
      .send(new SendMessageCommand({ QueueUrl: standard, MessageBody: 'x', MessageDeduplicationId: 'k' }))
      .catch((e) => e);
    expect(dedupOnStandard.name).toBe('InvalidParameterValue');
  });
});
