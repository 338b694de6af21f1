/**
 * Message move tasks through the real SDK: a dead-letter queue's messages go back to their
 * source queue (or to a chosen destination) in the background, with progress, cancellation
 * and status that survives a restart.
 */
import {
  CancelMessageMoveTaskCommand,
  CreateQueueCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startTestHerald, tempDir, TEST_AWS, waitFor, type TestHerald } from '../support/herald.js';

const started: TestHerald[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const h of started.splice(0)) await h.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

async function start(dataDir = tempDir()): Promise<{ h: TestHerald; sqs: SQSClient }> {
  const h = await startTestHerald({}, dataDir);
  started.push(h);
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: h.herald.aws!.url,
    credentials: TEST_AWS,
    maxAttempts: 1,
  });
  return { h, sqs };
}

const ARN = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

/** A source queue with maxReceiveCount 1 and `n` messages dead-lettered from it. */
async function deadLettered(sqs: SQSClient, n: number): Promise<{ source: string; dlq: string }> {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'dlq' }))).QueueUrl!;
  const source = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'work',
        Attributes: {
          VisibilityTimeout: '0',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: ARN('dlq'), maxReceiveCount: 1 }),
        },
      }),
    )
  ).QueueUrl!;
  for (let i = 0; i < n; i += 10) {
    const Entries = Array.from({ length: Math.min(10, n - i) }, (_, j) => ({ Id: `m${j}`, MessageBody: `m${i + j}` }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: source, Entries }));
  }
  // First receive takes them; the next receive finds them past maxReceiveCount and moves them.
  while ((await sqs.send(new ReceiveMessageCommand({ QueueUrl: source, MaxNumberOfMessages: 10 }))).Messages);
  return { source, dlq };
}

describe('message move tasks', () => {
  it('moves dead letters back to their source queue and reports COMPLETED', async () => {
    const { sqs } = await start();
    const { source } = await deadLettered(sqs, 12);
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: ARN('dlq') }));
    expect(TaskHandle).toBeTruthy();
    const done = await waitFor(async () => {
      const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: ARN('dlq') }));
      return Results?.[0]?.Status === 'COMPLETED' ? Results[0] : null;
    });
    expect(done).toMatchObject({
      SourceArn: ARN('dlq'),
      ApproximateNumberOfMessagesMoved: 12,
      ApproximateNumberOfMessagesToMove: 12,
    });
    expect(done.TaskHandle).toBeUndefined(); // only running tasks show their handle
    let back = 0;
    for (;;) {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: source, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      if (!got.Messages) break;
      back += got.Messages.length;
    }
    expect(back).toBe(12);
  });

  it('moves to a destination at a rate, can be cancelled, and the status survives a restart', async () => {
    const dataDir = tempDir();
    const { h, sqs } = await start(dataDir);
    await deadLettered(sqs, 20);
    const elsewhere = (await sqs.send(new CreateQueueCommand({ QueueName: 'elsewhere' }))).QueueUrl!;
    const { TaskHandle } = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: ARN('dlq'),
        DestinationArn: ARN('elsewhere'),
        MaxNumberOfMessagesPerSecond: 5,
      }),
    );
    const running = (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: ARN('dlq') }))).Results![0];
    expect(running).toMatchObject({
      TaskHandle,
      Status: 'RUNNING',
      DestinationArn: ARN('elsewhere'),
      MaxNumberOfMessagesPerSecond: 5,
      ApproximateNumberOfMessagesToMove: 20,
    });
    await waitFor(async () => {
      const r = (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: ARN('dlq') }))).Results![0];
      return r.ApproximateNumberOfMessagesMoved! >= 5;
    });
    const cancelled = await sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
    expect(cancelled.ApproximateNumberOfMessagesMoved).toBeGreaterThanOrEqual(5);
    expect(cancelled.ApproximateNumberOfMessagesMoved).toBeLessThan(20);
    await expect(sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    const moved = cancelled.ApproximateNumberOfMessagesMoved!;
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: elsewhere, MaxNumberOfMessages: 10 }));
    expect(got.Messages!.length).toBe(Math.min(10, moved));

    sqs.destroy();
    await h.close();
    started.splice(started.indexOf(h), 1);
    const again = await start(dataDir);
    const { Results } = await again.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: ARN('dlq'), MaxResults: 10 }),
    );
    expect(Results).toEqual([
      expect.objectContaining({ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: moved }),
    ]);
  });

  it('refuses a source that is no dead-letter queue when no destination is given', async () => {
    const { sqs } = await start();
    await sqs.send(new CreateQueueCommand({ QueueName: 'plain' }));
    const error = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: ARN('plain') })).catch((e) => e);
    expect(error.name).toBe('InvalidParameterValue');
  });
});
