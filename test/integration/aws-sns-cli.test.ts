/**
 * The scripted check with the other real clients: boto3 (test/support/sns-boto3-check.py:
 * every SNS action, FIFO topics, an http subscription whose documents are verified here with
 * sns-validator) and the `aws` first on PATH (the AWS CLI v1.45 from pyenv on this machine:
 * the main actions) against a Herald on 127.0.0.1, configured only by environment
 * (AWS_ENDPOINT_URL, keys; no config files, no instance metadata) and, for the CLI,
 * --endpoint-url. The CLI v2 runs every SNS action in aws-cli-v2-sns.test.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import MessageValidator from 'sns-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientEnv, removeDir, startTestHerald, type TestHerald } from '../support/herald.js';
import { startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';

const run = promisify(execFile);
let h: TestHerald;
let tls: TlsProxy;
let env: NodeJS.ProcessEnv;
let validator: MessageValidator;

beforeAll(async () => {
  // SigningCertURL over HTTPS, as sns-validator fetches it.
  tls = await startTlsProxy();
  h = await startTestHerald({ aws: { publicUrl: tls.url } });
  tls.target = h.herald.aws!.url;
  validator = new MessageValidator(new RegExp(`^${tls.url.slice('https://'.length)}$`));
  env = awsClientEnv(h.herald.aws!.url, process.env.HOME);
});

afterAll(async () => {
  await h.close();
  await tls.close();
  removeDir(h.dataDir);
});

const verified = (body: string) =>
  new Promise<Record<string, any>>((resolve, reject) =>
    validator.validate(body, (err, message) => (err ? reject(err) : resolve(message as Record<string, any>))),
  );

const arn = (name: string) => `arn:aws:sns:us-east-1:000000000000:${name}`;

describe('SNS through boto3 and the AWS CLI', () => {
  it('boto3: topics, attributes, tags, sqs and http subscriptions, filter policies, FIFO, publish, batch, errors', async () => {
    const { stdout } = await run('python3', ['test/support/sns-boto3-check.py'], { env, timeout: 60_000 });
    const out = JSON.parse(stdout);
    expect(out.topic).toBe(arn('boto-orders'));
    expect(out.idempotent).toBe(true);
    expect(out.attributes).toMatchObject({ DisplayName: 'Orders', SignatureVersion: '2', TopicArn: out.topic });
    expect(out.topics).toContain(out.topic);
    expect(out.tags).toEqual([{ Key: 'team', Value: 'core' }]);
    expect(out.retagged).toEqual([{ Key: 'env', Value: 'test' }]);
    expect(out.listed).toContain(out.subscription);
    expect(out.subscription.startsWith(`${out.topic}:`)).toBe(true);
    expect(out.subscriptionAttributes).toMatchObject({ Protocol: 'sqs', RawMessageDelivery: 'true' });
    expect(JSON.parse(out.subscriptionAttributes.FilterPolicy)).toEqual({ size: [{ numeric: ['>', 10] }] });
    expect(out.byTopic).toEqual(['arn:aws:sqs:us-east-1:000000000000:boto-big']);
    expect(out.batch).toEqual(['a', 'b']);
    expect(out.received).toEqual(['batch-big', 'big']); // the filter policy kept the small ones out
    expect(out.afterUnsubscribe).toBe(0);
    expect(out.notFound).toBe('NotFound');
    expect(out.sms[0]).toBe('InvalidParameter');
    expect(out.sms[1]).toMatch(/sms is not supported yet/);
    expect(out.deleted).toBe(true);
    expect(out.fifoDuplicate).toBe(true);
    expect(out.fifoOrder).toEqual(['job-0', 'job-1', 'job-2', 'job-3']);

    const web = arn('boto-web');
    expect(out.http.pending).toBe('pending confirmation');
    expect(out.http.confirmed.startsWith(`${web}:`)).toBe(true);
    expect(out.http.attributes).toMatchObject({ Protocol: 'http', PendingConfirmation: 'false', TopicArn: web });
    expect(await verified(out.http.confirmation)).toMatchObject({ Type: 'SubscriptionConfirmation', TopicArn: web });
    expect(await verified(out.http.notification)).toMatchObject({
      Type: 'Notification',
      MessageId: out.http.published,
      TopicArn: web,
      Subject: 'Hi',
      Message: 'to http',
    });
  }, 90_000);

  it('AWS CLI: create-topic, publish, list-topics, get-topic-attributes, and a NotFound error', async () => {
    // Explicitly: CLI v2 releases before 2.13 ignore AWS_ENDPOINT_URL.
    const endpoint = ['--endpoint-url', h.herald.aws!.url];
    const aws = (...args: string[]) =>
      run('aws', ['sns', ...args, '--output', 'json', ...endpoint], { env, timeout: 60_000 });
    const created = JSON.parse((await aws('create-topic', '--name', 'cli-topic')).stdout);
    expect(created.TopicArn).toBe(arn('cli-topic'));
    const published = JSON.parse(
      (await aws('publish', '--topic-arn', created.TopicArn, '--message', 'from the cli')).stdout,
    );
    expect(published.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const listed = JSON.parse((await aws('list-topics')).stdout);
    expect(listed.Topics.map((t: { TopicArn: string }) => t.TopicArn)).toContain(created.TopicArn);
    const attrs = JSON.parse((await aws('get-topic-attributes', '--topic-arn', created.TopicArn)).stdout);
    expect(attrs.Attributes.TopicArn).toBe(created.TopicArn);
    const missing = await aws('get-topic-attributes', '--topic-arn', arn('no-such-topic')).catch((e) => e);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NotFound/);
  }, 90_000);
});
