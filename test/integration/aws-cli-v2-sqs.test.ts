/**
 * The AWS CLI v2 against a real Herald on 127.0.0.1, SQS: every action Herald serves, list
 * pagination, long polling, attribute selection and system attributes, FIFO order and
 * deduplication, dead-letter queues and message move tasks, and errors as the CLI reports
 * them (exit code 254 and the service's code). aws-cli-v2-sns.test.ts does the same for SNS.
 *
 * The CLI is found deliberately (test/support/aws-cli.ts: the `aws` first on PATH is v1 here)
 * and its commands run through its own driver in a few long-lived interpreters, for speed.
 * Every command names the endpoint explicitly (the CLI v2 on Debian 12, 2.9.19, ignores
 * AWS_ENDPOINT_URL) and goes through a recording proxy, so the test also shows which wire
 * protocol the CLI used. Skipped, with the reason printed, when no CLI v2 is installed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5OfMessageAttributes, md5OfMessageBody } from '../../src/aws/sqs-md5.js';
import { findAwsCliV2, startCliCheck, type CliCheck } from '../support/aws-cli.js';
import { waitFor } from '../support/herald.js';

const found = findAwsCliV2();
const missing = 'missing' in found ? found.missing : undefined;
if (missing) console.warn(`test/integration/aws-cli-v2-sqs.test.ts skipped: ${missing}`);

/** The SQS actions the CLI must be seen calling (docs/aws.md lists them). */
const SQS_ACTIONS = [
  'CreateQueue',
  'DeleteQueue',
  'GetQueueUrl',
  'ListQueues',
  'GetQueueAttributes',
  'SetQueueAttributes',
  'SendMessage',
  'SendMessageBatch',
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'PurgeQueue',
  'TagQueue',
  'UntagQueue',
  'ListQueueTags',
  'ListDeadLetterSourceQueues',
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
  'CancelMessageMoveTask',
];

const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
let c: CliCheck;
let url: (name: string) => string;
let aws: CliCheck['cli']['json'];
let awsError: CliCheck['cli']['error'];

beforeAll(async () => {
  if (!('bin' in found)) return;
  c = await startCliCheck(found);
  url = c.queueUrl;
  aws = c.cli.json;
  awsError = c.cli.error;
});

afterAll(async () => {
  await c?.close();
});

/** Receive (and delete) until `count` messages came or 10 s passed. */
async function drain(queue: string, count: number, options = '') {
  const got: any[] = [];
  for (const deadline = Date.now() + 10_000; got.length < count && Date.now() < deadline;) {
    const { Messages = [] } = await aws(
      `sqs receive-message --queue-url ${queue} --max-number-of-messages 10 --wait-time-seconds 1 ${options}`,
    );
    got.push(...Messages);
    const entries = Messages.map((m: any, i: number) => `Id=m${i},ReceiptHandle=${m.ReceiptHandle}`);
    if (entries.length) await aws(`sqs delete-message-batch --queue-url ${queue} --entries`, ...entries);
  }
  return got;
}

// The tests run side by side (three CLI interpreters between them); under the full suite on
// two cores one can take well over the default 30 s.
describe.skipIf(missing)(`the AWS CLI v2, SQS${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 90_000 }, () => {
  it.concurrent('queues: create, get-queue-url, list by prefix over pages, attributes, tags, delete', async () => {
    const created = await aws(
      'sqs create-queue --queue-name v2q-a --attributes VisibilityTimeout=15,DelaySeconds=0 --tags team=cli,env=test',
    );
    expect(created).toEqual({ QueueUrl: url('v2q-a') });
    // The same name with the same attributes answers the same URL; different ones are refused.
    expect(await aws('sqs create-queue --queue-name v2q-a --attributes VisibilityTimeout=15')).toEqual(created);
    const clash = await awsError('sqs create-queue --queue-name v2q-a --attributes VisibilityTimeout=16');
    expect(clash.code).toBe('QueueAlreadyExists');
    await aws('sqs create-queue --queue-name v2q-b');
    await aws('sqs create-queue --queue-name v2q-c');
    expect(await aws('sqs get-queue-url --queue-name v2q-b')).toEqual({ QueueUrl: url('v2q-b') });

    // --page-size makes the CLI follow NextToken page by page; --max-results and --next-token
    // walk the pages by hand.
    const all = ['v2q-a', 'v2q-b', 'v2q-c'].map(url);
    expect(await aws('sqs list-queues --queue-name-prefix v2q- --page-size 1')).toEqual({ QueueUrls: all });
    const first = await aws('sqs list-queues --queue-name-prefix v2q- --max-results 2');
    expect(first.QueueUrls).toEqual(all.slice(0, 2));
    const rest = await aws(`sqs list-queues --queue-name-prefix v2q- --max-results 2 --next-token ${first.NextToken}`);
    expect(rest).toEqual({ QueueUrls: all.slice(2) });
    expect(await aws('sqs list-queues --queue-name-prefix v2-nothing-')).toEqual({}); // not a CLI crash

    const q = created.QueueUrl;
    await aws(`sqs set-queue-attributes --queue-url ${q} --attributes MaximumMessageSize=4096,DelaySeconds=2`);
    expect((await aws(`sqs get-queue-attributes --queue-url ${q} --attribute-names All`)).Attributes).toMatchObject({
      QueueArn: arn('v2q-a'),
      VisibilityTimeout: '15',
      MaximumMessageSize: '4096',
      DelaySeconds: '2',
      ApproximateNumberOfMessages: '0',
    });
    expect(await aws(`sqs get-queue-attributes --queue-url ${q} --attribute-names VisibilityTimeout QueueArn`)).toEqual(
      {
        Attributes: { VisibilityTimeout: '15', QueueArn: arn('v2q-a') },
      },
    );
    const unknown = await awsError(`sqs set-queue-attributes --queue-url ${q} --attributes Colour=1`);
    expect(unknown.code).toBe('InvalidAttributeName');
    const bad = await awsError(`sqs set-queue-attributes --queue-url ${q} --attributes DelaySeconds=901`);
    expect(bad.code).toBe('InvalidAttributeValue');

    expect(await aws(`sqs list-queue-tags --queue-url ${q}`)).toEqual({ Tags: { team: 'cli', env: 'test' } });
    await aws(`sqs untag-queue --queue-url ${q} --tag-keys env`);
    await aws(`sqs tag-queue --queue-url ${q} --tags owner=herald`);
    expect(await aws(`sqs list-queue-tags --queue-url ${q}`)).toEqual({ Tags: { team: 'cli', owner: 'herald' } });
    await aws(`sqs untag-queue --queue-url ${q} --tag-keys team owner`);
    expect(await aws(`sqs list-queue-tags --queue-url ${q}`)).toEqual({});

    await aws(`sqs delete-queue --queue-url ${q}`);
    expect(await awsError('sqs get-queue-url --queue-name v2q-a')).toMatchObject({
      code: 'AWS.SimpleQueueService.NonExistentQueue',
      action: 'GetQueueUrl',
    });
    expect((await awsError(`sqs delete-queue --queue-url ${q}`)).code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });

  it.concurrent(
    'messages: typed and system attributes, batches, attribute selection, visibility, deletes',
    async () => {
      const { QueueUrl: q } = await aws('sqs create-queue --queue-name v2-msgs --attributes VisibilityTimeout=30');
      const attributes = {
        n: { DataType: 'Number', StringValue: '42' },
        b: { DataType: 'Binary', BinaryValue: 'AP8=' },
        s: { DataType: 'String', StringValue: 'x' },
      };
      const bytes = { DataType: 'Binary', BinaryValue: Uint8Array.of(0, 255) };
      const sent = await aws(
        `sqs send-message --queue-url ${q} --message-system-attributes AWSTraceHeader={DataType=String,StringValue=Root=1-cli}`,
        ...['--message-body', 'hello from the CLI v2', '--message-attributes', JSON.stringify(attributes)],
      );
      expect(sent).toMatchObject({
        MD5OfMessageBody: md5OfMessageBody('hello from the CLI v2'),
        MD5OfMessageAttributes: md5OfMessageAttributes({ ...attributes, b: bytes }),
        MessageId: expect.any(String),
      });
      const batch = await aws(
        `sqs send-message-batch --queue-url ${q} --entries Id=one,MessageBody=first Id=two,MessageBody=second,DelaySeconds=0 Id=bad,MessageBody=`,
      );
      expect(batch.Successful.map((e: any) => e.Id)).toEqual(['one', 'two']);
      expect(batch.Failed).toEqual([
        expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'MissingParameter' }),
      ]);

      // Only the message attributes and system attributes asked for come back.
      const { Messages: got } = await aws(
        `sqs receive-message --queue-url ${q} --max-number-of-messages 10 --message-attribute-names n b --attribute-names SentTimestamp AWSTraceHeader`,
      );
      const body = (text: string) => got.find((m: any) => m.Body === text);
      expect(got.map((m: any) => m.Body).sort()).toEqual(['first', 'hello from the CLI v2', 'second']);
      const hello = body('hello from the CLI v2');
      expect(hello).toMatchObject({
        MessageId: sent.MessageId,
        MessageAttributes: { n: attributes.n, b: attributes.b },
        MD5OfMessageAttributes: md5OfMessageAttributes({ n: attributes.n, b: bytes }),
        Attributes: { SentTimestamp: expect.stringMatching(/^\d+$/), AWSTraceHeader: 'Root=1-cli' },
      });
      expect(Object.keys(hello.Attributes)).toHaveLength(2);
      expect(body('first').MessageAttributes).toBeUndefined();
      expect(Object.keys(body('first').Attributes)).toEqual(['SentTimestamp']);

      // Visible again: one alone, one in a batch beside a bad handle.
      await aws(
        `sqs change-message-visibility --queue-url ${q} --visibility-timeout 0`,
        '--receipt-handle',
        body('first').ReceiptHandle,
      );
      const changed = await aws(
        `sqs change-message-visibility-batch --queue-url ${q} --entries`,
        `Id=c1,ReceiptHandle=${body('second').ReceiptHandle},VisibilityTimeout=0`,
        'Id=c2,ReceiptHandle=not-a-handle,VisibilityTimeout=0',
      );
      expect(changed.Successful).toEqual([{ Id: 'c1' }]);
      expect(changed.Failed).toEqual([expect.objectContaining({ Id: 'c2', Code: 'ReceiptHandleIsInvalid' })]);
      const again = (
        await aws(`sqs receive-message --queue-url ${q} --max-number-of-messages 10 --attribute-names All`)
      ).Messages;
      expect(again.map((m: any) => [m.Body, m.Attributes.ApproximateReceiveCount]).sort()).toEqual([
        ['first', '2'],
        ['second', '2'],
      ]);
      expect(again[0].Attributes).toMatchObject({
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: expect.any(String),
      });

      await aws(`sqs delete-message --queue-url ${q}`, '--receipt-handle', again[0].ReceiptHandle);
      const deleted = await aws(
        `sqs delete-message-batch --queue-url ${q} --entries`,
        `Id=d1,ReceiptHandle=${again[1].ReceiptHandle}`,
        `Id=d2,ReceiptHandle=${hello.ReceiptHandle}`,
      );
      expect(deleted.Successful.map((e: any) => e.Id).sort()).toEqual(['d1', 'd2']);
      expect(
        await aws(
          `sqs get-queue-attributes --queue-url ${q} --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible`,
        ),
      ).toEqual({
        Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' },
      });
      const invalid = await awsError(`sqs delete-message --queue-url ${q} --receipt-handle not-a-handle`);
      expect(invalid.code).toBe('ReceiptHandleIsInvalid');
      const dup = await awsError(
        `sqs send-message-batch --queue-url ${q} --entries Id=a,MessageBody=x Id=a,MessageBody=y`,
      );
      expect(dup.code).toBe('AWS.SimpleQueueService.BatchEntryIdsNotDistinct');
    },
  );

  it.concurrent('purge, and long polling: a waiting receive returns once a message is sent', async () => {
    const { QueueUrl: q } = await aws('sqs create-queue --queue-name v2-long');
    await aws(`sqs send-message --queue-url ${q} --message-body purged`);
    await aws(`sqs purge-queue --queue-url ${q}`);
    const started = Date.now();
    expect(await aws(`sqs receive-message --queue-url ${q} --wait-time-seconds 1`)).toEqual({}); // not a CLI crash
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

    const polling = () =>
      c.rec.calls.some(
        (r) => r.action === 'ReceiveMessage' && r.params.QueueUrl === q && r.params.WaitTimeSeconds === '20',
      );
    const waiting = aws(`sqs receive-message --queue-url ${q} --wait-time-seconds 20`);
    await waitFor(polling, 10_000, 'the long poll');
    const sentAt = Date.now();
    await aws(`sqs send-message --queue-url ${q} --message-body wake-up`);
    expect((await waiting).Messages.map((m: any) => m.Body)).toEqual(['wake-up']);
    expect(Date.now() - sentAt).toBeLessThan(10_000); // woken by the send, not by the 20 s timeout
  });

  it.concurrent('FIFO queues: order within a group, deduplication by id and by content, group attributes', async () => {
    const { QueueUrl: q } = await aws(
      'sqs create-queue --queue-name v2-jobs.fifo --attributes FifoQueue=true,ContentBasedDeduplication=true',
    );
    expect((await awsError('sqs create-queue --queue-name v2-jobs --attributes FifoQueue=true')).code).toBe(
      'InvalidAttributeValue',
    );
    const entries = [1, 2, 3, 4, 5, 6].map((i) => `Id=e${i},MessageBody=job-${i},MessageGroupId=g${i % 2}`);
    const batch = await aws(`sqs send-message-batch --queue-url ${q} --entries`, ...entries);
    expect(batch.Successful).toHaveLength(6);
    // The same content again (content-based deduplication): the first message's id, no copy.
    const again = await aws(`sqs send-message --queue-url ${q} --message-body job-1 --message-group-id g1`);
    expect(again.MessageId).toBe(batch.Successful[0].MessageId);
    const once = `sqs send-message --queue-url ${q} --message-group-id g0 --message-deduplication-id d-1 --message-body`;
    const byId = [await aws(once, 'once'), await aws(once, 'another body')];
    expect(byId[1].MessageId).toBe(byId[0].MessageId);
    expect(byId[0].SequenceNumber).toMatch(/^\d+$/);
    expect((await awsError(`sqs send-message --queue-url ${q} --message-body x`)).message).toMatch(/group/i);

    const got = await drain(q, 7, '--attribute-names MessageGroupId SequenceNumber MessageDeduplicationId');
    const inGroup = (g: string) => got.filter((m) => m.Attributes.MessageGroupId === g).map((m) => m.Body);
    expect(inGroup('g1')).toEqual(['job-1', 'job-3', 'job-5']);
    expect(inGroup('g0')).toEqual(['job-2', 'job-4', 'job-6', 'once']);
    expect(new Set(got.map((m) => m.Attributes.SequenceNumber)).size).toBe(7);
    expect(got.find((m) => m.Body === 'once').Attributes.MessageDeduplicationId).toBe('d-1');
  });

  it.concurrent(
    'dead-letter queues: RedrivePolicy, ListDeadLetterSourceQueues, move tasks run and cancelled',
    async () => {
      const dlq = (await aws('sqs create-queue --queue-name v2-dlq')).QueueUrl;
      const dest = (await aws('sqs create-queue --queue-name v2-dest')).QueueUrl;
      const redrive = { deadLetterTargetArn: arn('v2-dlq'), maxReceiveCount: 1 };
      const attributes = JSON.stringify({ VisibilityTimeout: '0', RedrivePolicy: JSON.stringify(redrive) });
      const src = (await aws('sqs create-queue --queue-name v2-src --attributes', attributes)).QueueUrl;
      expect(await aws(`sqs list-dead-letter-source-queues --queue-url ${dlq}`)).toEqual({ queueUrls: [src] });
      expect(await aws(`sqs list-dead-letter-source-queues --queue-url ${dest}`)).toEqual({});
      const policy = await aws(`sqs get-queue-attributes --queue-url ${src} --attribute-names RedrivePolicy`);
      expect(JSON.parse(policy.Attributes.RedrivePolicy)).toEqual(redrive);

      const entries = [1, 2, 3, 4, 5, 6].map((i) => `Id=m${i},MessageBody=dead-${i}`);
      await aws(`sqs send-message-batch --queue-url ${src} --entries`, ...entries);
      expect((await aws(`sqs receive-message --queue-url ${src} --max-number-of-messages 10`)).Messages).toHaveLength(
        6,
      );
      // Received once (maxReceiveCount 1) and visible again at once: the next receive dead-letters them.
      expect(await aws(`sqs receive-message --queue-url ${src} --max-number-of-messages 10`)).toEqual({});
      const count = async (q: string) =>
        Number(
          (await aws(`sqs get-queue-attributes --queue-url ${q} --attribute-names ApproximateNumberOfMessages`))
            .Attributes.ApproximateNumberOfMessages,
        );
      expect(await count(dlq)).toBe(6);
      const peek = await aws(
        `sqs receive-message --queue-url ${dlq} --attribute-names DeadLetterQueueSourceArn --visibility-timeout 0`,
      );
      expect(peek.Messages[0].Attributes).toEqual({ DeadLetterQueueSourceArn: arn('v2-src') });

      // A slow task (1 message a second) back to the source queue: listed RUNNING, then cancelled.
      const tasks = `sqs list-message-move-tasks --source-arn ${arn('v2-dlq')}`;
      const slow = await aws(
        `sqs start-message-move-task --source-arn ${arn('v2-dlq')} --max-number-of-messages-per-second 1`,
      );
      expect((await aws(tasks)).Results[0]).toMatchObject({
        TaskHandle: slow.TaskHandle,
        Status: 'RUNNING',
        SourceArn: arn('v2-dlq'),
        MaxNumberOfMessagesPerSecond: 1,
      });
      const busy = await awsError(`sqs start-message-move-task --source-arn ${arn('v2-dlq')}`);
      expect(busy.code).toBe('InvalidParameterValue');
      const cancelled = await aws(`sqs cancel-message-move-task --task-handle ${slow.TaskHandle}`);
      expect(cancelled.ApproximateNumberOfMessagesMoved).toBeLessThan(6);
      const stopped = await waitFor(
        async () => {
          const [task] = (await aws(tasks)).Results;
          return task.Status === 'CANCELLED' && task;
        },
        10_000,
        'the cancelled task',
      );
      const movedBack = stopped.ApproximateNumberOfMessagesMoved;

      // The rest, at full speed, to another queue.
      const fast = await aws(
        `sqs start-message-move-task --source-arn ${arn('v2-dlq')} --destination-arn ${arn('v2-dest')}`,
      );
      const done = await waitFor(
        async () => {
          const { Results } = await aws(`${tasks} --max-results 10`);
          return Results[0].Status === 'COMPLETED' && Results;
        },
        10_000,
        'the completed task',
      );
      expect(done.map((t: any) => t.Status)).toEqual(['COMPLETED', 'CANCELLED']);
      expect(done[0]).toMatchObject({
        DestinationArn: arn('v2-dest'),
        ApproximateNumberOfMessagesMoved: 6 - movedBack,
      });
      expect([await count(src), await count(dest), await count(dlq)]).toEqual([movedBack, 6 - movedBack, 0]);
      const finished = await awsError(`sqs cancel-message-move-task --task-handle ${fast.TaskHandle}`);
      expect(finished.code).toBe('ResourceNotFoundException');
    },
  );

  it.concurrent('the aws program itself: v2, and a wrong secret exits 254 with SignatureDoesNotMatch', async () => {
    if (!('bin' in found)) return;
    const exec = promisify(execFile);
    expect((await exec(found.bin, ['--version'], { env: c.env })).stdout).toMatch(/^aws-cli\/2\./);
    const wrong = await exec(found.bin, ['sqs', 'list-queues', '--endpoint-url', c.rec.url], {
      env: { ...c.env, AWS_SECRET_ACCESS_KEY: 'wrong' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(wrong).toMatchObject({
      code: 254,
      stderr: expect.stringMatching(/\(SignatureDoesNotMatch\) when calling the ListQueues operation/),
    });
  });

  it('sent every call over the Query protocol, and called every SQS action', () => {
    const calls = c.rec.calls;
    expect(calls.every((r) => r.userAgent.startsWith('aws-cli/2.'))).toBe(true);
    expect(new Set(calls.map((r) => `${r.service} ${r.protocol}`))).toEqual(new Set(['sqs query']));
    expect(new Set(calls.map((r) => r.action))).toEqual(new Set(SQS_ACTIONS));
  });
});
