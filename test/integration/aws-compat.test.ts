/**
 * boto3 and the AWS CLI against a real Herald, configured only through the standard AWS
 * environment variables (AWS_ENDPOINT_URL and keys) and, for the CLI, --endpoint-url. No
 * shared AWS config is read and no traffic leaves loopback. The CLI is the `aws` first on PATH
 * (v1.45 from pyenv on this machine); aws-cli-v2-sqs.test.ts runs every action with the CLI v2.
 * Skipped when python3/boto3 or `aws` are not installed.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientEnv, removeDir, startTestHerald, type TestHerald } from '../support/herald.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../compat/boto3_sqs.py', import.meta.url));

const has = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const boto3 = has('python3', ['-c', 'import boto3']);
const cli = has('aws', ['--version']);

let h: TestHerald;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  h = await startTestHerald();
  env = awsClientEnv(h.herald.aws!.url, h.dataDir);
});

afterAll(async () => {
  await h.close();
  removeDir(h.dataDir);
});

describe('boto3 and the AWS CLI', () => {
  it.skipIf(!boto3)('boto3 runs every SQS action', async () => {
    const { stdout } = await run('python3', [SCRIPT, 'boto'], { env, timeout: 60_000 }).catch((error) => {
      throw new Error(`boto3 check failed:\n${error.stdout}\n${error.stderr}`);
    });
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.check && !l.ok)).toEqual([]);
    expect(lines.at(-1)).toEqual({ done: 24 });
  });

  it.skipIf(!cli)('the AWS CLI creates, sends, receives, deletes and reports errors', async () => {
    // AWS CLI v1 pins SQS in us-east-1 to its legacy endpoint and ignores AWS_ENDPOINT_URL
    // (v2 honours it); --endpoint-url works with both.
    const endpoint = ['--endpoint-url', h.herald.aws!.url];
    const aws = async (...args: string[]) => {
      const { stdout } = await run('aws', ['sqs', ...args, '--output', 'json', ...endpoint], { env, timeout: 60_000 });
      return stdout.trim() ? JSON.parse(stdout) : {};
    };
    const { QueueUrl } = await aws('create-queue', '--queue-name', 'cli-q', '--attributes', 'VisibilityTimeout=15');
    expect(QueueUrl).toBe(`${h.herald.aws!.url}/000000000000/cli-q`);
    expect((await aws('list-queues')).QueueUrls).toContain(QueueUrl);
    await aws(
      'send-message',
      '--queue-url',
      QueueUrl,
      '--message-body',
      'from the CLI',
      '--message-attributes',
      'k={DataType=String,StringValue=v}',
    );
    const got = await aws(
      'receive-message',
      '--queue-url',
      QueueUrl,
      '--message-attribute-names',
      'All',
      '--attribute-names',
      'All',
    );
    expect(got.Messages[0]).toMatchObject({
      Body: 'from the CLI',
      MessageAttributes: { k: { StringValue: 'v', DataType: 'String' } },
    });
    await aws('delete-message', '--queue-url', QueueUrl, '--receipt-handle', got.Messages[0].ReceiptHandle);
    const attrs = await aws('get-queue-attributes', '--queue-url', QueueUrl, '--attribute-names', 'All');
    expect(attrs.Attributes).toMatchObject({ VisibilityTimeout: '15', ApproximateNumberOfMessagesNotVisible: '0' });
    await aws('delete-queue', '--queue-url', QueueUrl);
    const missing = await run('aws', ['sqs', 'get-queue-url', '--queue-name', 'cli-q', ...endpoint], { env }).catch(
      (e) => e,
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NonExistentQueue|QueueDoesNotExist/);
    const wrong = await run('aws', ['sqs', 'list-queues', ...endpoint], {
      env: { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' },
    }).catch((e) => e);
    expect(wrong.stderr).toMatch(/SignatureDoesNotMatch/);
  });
});
