/**
 * The AWS front door's access control and durability, through the real SDK: keys it does not
 * know and wrong secrets are refused with the AWS codes; generated keys persist; messages
 * sent through SQS survive a restart on the same data directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, startTestHerald, tempDir, TEST_AWS, type TestHerald } from '../support/herald.js';

const started: TestHerald[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const h of started.splice(0)) await h.close();
  for (const d of dirs.splice(0)) removeDir(d);
});

async function start(...args: Parameters<typeof startTestHerald>): Promise<TestHerald> {
  const h = await startTestHerald(...args);
  started.push(h);
  dirs.push(h.dataDir);
  return h;
}

const client = (url: string, credentials: { accessKeyId: string; secretAccessKey: string }) =>
  new SQSClient({ region: 'us-east-1', endpoint: url, credentials, maxAttempts: 1 });

describe('AWS front door authentication', () => {
  it('refuses a wrong secret (SignatureDoesNotMatch) and an unknown key (InvalidClientTokenId)', async () => {
    const h = await start();
    const url = h.herald.aws!.url;
    const wrong = await client(url, { ...TEST_AWS, secretAccessKey: 'not-the-secret' })
      .send(new ListQueuesCommand({}))
      .catch((e) => e);
    expect(wrong.name).toBe('SignatureDoesNotMatch');
    expect(wrong.$metadata.httpStatusCode).toBe(403);
    const unknown = await client(url, { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' })
      .send(new ListQueuesCommand({}))
      .catch((e) => e);
    expect(unknown.name).toBe('InvalidClientTokenId');
    expect(unknown.$metadata.httpStatusCode).toBe(403);
    // Nothing was created by the refused calls; the right key works.
    const ok = await client(url, TEST_AWS).send(new CreateQueueCommand({ QueueName: 'fine' }));
    expect(ok.QueueUrl).toContain('/000000000000/fine');
  });

  it('refuses unsigned requests', async () => {
    const h = await start();
    const res = await fetch(h.herald.aws!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
    expect(await res.json()).toMatchObject({ __type: 'com.amazonaws.sqs#MissingAuthenticationToken' });
  });

  it('accepts several configured keys, with the account id and region configured', async () => {
    const h = await start({
      aws: {
        port: 0,
        credentials: { AKIAONE: 'one-secret', AKIATWO: 'two-secret' },
        accountId: '123456789012',
        region: 'eu-west-1',
      },
    });
    const url = h.herald.aws!.url;
    const one = client(url, { accessKeyId: 'AKIAONE', secretAccessKey: 'one-secret' });
    const two = new SQSClient({
      region: 'eu-west-1',
      endpoint: url,
      credentials: { accessKeyId: 'AKIATWO', secretAccessKey: 'two-secret' },
      maxAttempts: 1,
    });
    const { QueueUrl } = await one.send(new CreateQueueCommand({ QueueName: 'shared' }));
    expect(QueueUrl).toBe(`${url}/123456789012/shared`);
    expect((await two.send(new ListQueuesCommand({}))).QueueUrls).toEqual([QueueUrl]);
  });

  it('generates a key pair on first start when none is configured, keeps it (0600) and reuses it', async () => {
    const dataDir = tempDir();
    const first = await start({ aws: { port: 0, credentials: {} } }, dataDir);
    const aws = first.herald.aws!;
    expect(aws.generated).toBe(true);
    expect(aws.accessKeyId).toMatch(/^HKIA[A-Z0-9]{16}$/);
    const file = join(dataDir, 'aws-credentials');
    expect(readFileSync(file, 'utf8').trim()).toBe(`${aws.accessKeyId}:${aws.secretAccessKey}`);
    const { statSync } = await import('node:fs');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await first.close();
    started.splice(started.indexOf(first), 1);
    const second = await start({ aws: { port: 0, credentials: {} } }, dataDir);
    expect(second.herald.aws!.generated).toBe(false);
    expect(second.herald.aws!.accessKeyId).toBe(aws.accessKeyId);
    const sqs = client(second.herald.aws!.url, {
      accessKeyId: aws.accessKeyId,
      secretAccessKey: aws.secretAccessKey,
    });
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toBeUndefined();
  });

  it('is off with port null', async () => {
    const h = await start({ aws: { port: null } });
    expect(h.herald.aws).toBeNull();
  });
});

describe('durability through the SQS API', () => {
  it('messages sent through SQS survive a restart on the same data directory', async () => {
    const dataDir = tempDir();
    const first = await start({}, dataDir);
    let sqs = client(first.herald.aws!.url, TEST_AWS);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'durable' }));
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'kept',
        MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
      }),
    );
    sqs.destroy();
    await first.close();
    started.splice(started.indexOf(first), 1);

    const second = await start({}, dataDir);
    sqs = client(second.herald.aws!.url, TEST_AWS);
    const url = QueueUrl!.replace(first.herald.aws!.url, second.herald.aws!.url);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'] }));
    expect(got.Messages?.[0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: 'kept',
      MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } },
    });
    sqs.destroy();
  });
});
