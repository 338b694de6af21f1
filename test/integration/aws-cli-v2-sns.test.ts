/**
 * The AWS CLI v2 against a real Herald on 127.0.0.1, SNS: every action Herald serves, FIFO
 * topics, filter policies, `sqs` and `http` subscriptions (the confirmation, and signatures
 * verified by sns-validator against the certificate Herald serves), RedrivePolicy to a
 * queue, and errors as the CLI reports them. How the CLI is found and driven:
 * aws-cli-v2-sqs.test.ts and test/support/aws-cli.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import MessageValidator from 'sns-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAwsCliV2, startCliCheck, type CliCheck } from '../support/aws-cli.js';
import { waitFor } from '../support/herald.js';
import { startReceiver, type Received, type Receiver } from '../support/receiver.js';

const found = findAwsCliV2();
const missing = 'missing' in found ? found.missing : undefined;
if (missing) console.warn(`test/integration/aws-cli-v2-sns.test.ts skipped: ${missing}`);

/** The SNS actions the CLI must be seen calling (docs/aws.md lists them). */
const SNS_ACTIONS = [
  'CreateTopic',
  'DeleteTopic',
  'ListTopics',
  'GetTopicAttributes',
  'SetTopicAttributes',
  'Subscribe',
  'ConfirmSubscription',
  'Unsubscribe',
  'ListSubscriptions',
  'ListSubscriptionsByTopic',
  'GetSubscriptionAttributes',
  'SetSubscriptionAttributes',
  'Publish',
  'PublishBatch',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
];

const topicArn = (name: string) => `arn:aws:sns:us-east-1:000000000000:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
let c: CliCheck;
let rx: Receiver;
let validator: MessageValidator;
let aws: CliCheck['cli']['json'];
let awsError: CliCheck['cli']['error'];

beforeAll(async () => {
  if (!('bin' in found)) return;
  c = await startCliCheck(found);
  rx = await startReceiver();
  validator = new MessageValidator(new RegExp(`^${c.tls.url.slice('https://'.length)}$`));
  aws = c.cli.json;
  awsError = c.cli.error;
});

afterAll(async () => {
  await rx?.close();
  await c?.close();
});

/** Receive (and delete) until `count` messages came or 10 s passed. */
async function drain(queue: string, count: number, options = '') {
  const q = c.queueUrl(queue);
  const got: any[] = [];
  for (const deadline = Date.now() + 10_000; got.length < count && Date.now() < deadline;) {
    const { Messages = [] } = await aws(
      `sqs receive-message --queue-url ${q} --max-number-of-messages 10 --wait-time-seconds 1 ${options}`,
    );
    got.push(...Messages);
    const entries = Messages.map((m: any, i: number) => `Id=m${i},ReceiptHandle=${m.ReceiptHandle}`);
    if (entries.length) await aws(`sqs delete-message-batch --queue-url ${q} --entries`, ...entries);
  }
  return got;
}

const verified = (body: string) =>
  new Promise<Record<string, any>>((resolve, reject) =>
    validator.validate(body, (err, message) => (err ? reject(err) : resolve(message as Record<string, any>))),
  );
const ofType = (type: string, path: string) => (r: Received) =>
  r.path === path && r.headers['x-amz-sns-message-type'] === type;

describe.skipIf(missing)(`the AWS CLI v2, SNS${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 90_000 }, () => {
  it.concurrent('topics: create (attributes, tags, FIFO), list, attributes, tags, delete, and the errors', async () => {
    const { TopicArn: arn } = await aws(
      'sns create-topic --name v2-orders --attributes DisplayName=Orders --tags Key=team,Value=core',
    );
    expect(arn).toBe(topicArn('v2-orders'));
    expect(await aws('sns create-topic --name v2-orders --attributes DisplayName=Orders')).toEqual({ TopicArn: arn });
    const clash = await awsError('sns create-topic --name v2-orders --attributes DisplayName=Other');
    expect(clash.code).toBe('InvalidParameter');
    const fifo = (
      await aws('sns create-topic --name v2-jobs.fifo --attributes FifoTopic=true,ContentBasedDeduplication=true')
    ).TopicArn;
    expect(fifo).toBe(topicArn('v2-jobs.fifo'));
    expect((await aws(`sns get-topic-attributes --topic-arn ${fifo}`)).Attributes).toMatchObject({
      FifoTopic: 'true',
      ContentBasedDeduplication: 'true',
    });
    const misnamed = await awsError('sns create-topic --name v2-not-fifo --attributes FifoTopic=true');
    expect(misnamed).toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/\.fifo/) });
    const listed = async () => (await aws('sns list-topics')).Topics.map((t: any) => t.TopicArn);
    expect(await listed()).toEqual(expect.arrayContaining([arn, fifo]));

    await aws(`sns set-topic-attributes --topic-arn ${arn} --attribute-name SignatureVersion --attribute-value 2`);
    await aws(
      `sns set-topic-attributes --topic-arn ${arn} --attribute-name DisplayName --attribute-value`,
      'Orders v2',
    );
    expect((await aws(`sns get-topic-attributes --topic-arn ${arn}`)).Attributes).toMatchObject({
      TopicArn: arn,
      Owner: '000000000000',
      DisplayName: 'Orders v2',
      SignatureVersion: '2',
      SubscriptionsConfirmed: '0',
    });

    await aws(`sns tag-resource --resource-arn ${arn} --tags Key=env,Value=test Key=tier,Value=1`);
    await aws(`sns untag-resource --resource-arn ${arn} --tag-keys team tier`);
    expect(await aws(`sns list-tags-for-resource --resource-arn ${arn}`)).toEqual({
      Tags: [{ Key: 'env', Value: 'test' }],
    });
    await aws(`sns untag-resource --resource-arn ${arn} --tag-keys env`);
    expect(await aws(`sns list-tags-for-resource --resource-arn ${arn}`)).toEqual({ Tags: [] });
    const untagged = await awsError(`sns list-tags-for-resource --resource-arn ${topicArn('v2-none')}`);
    expect(untagged.code).toBe('ResourceNotFound');
    const notFound = await awsError(`sns get-topic-attributes --topic-arn ${topicArn('v2-none')}`);
    expect(notFound).toMatchObject({ code: 'NotFound', action: 'GetTopicAttributes' });

    await aws(`sns delete-topic --topic-arn ${arn}`);
    expect(await listed()).not.toContain(arn);
    expect(await aws(`sns delete-topic --topic-arn ${arn}`)).toEqual({}); // as on SNS, not an error
  });

  it.concurrent('sqs subscriptions: filter policies, listed and set, publish, publish-batch, unsubscribe', async () => {
    const { TopicArn: arn } = await aws('sns create-topic --name v2-fan');
    await aws('sqs create-queue --queue-name v2-fan-big');
    await aws('sqs create-queue --queue-name v2-fan-all');
    const subscribe = `sns subscribe --topic-arn ${arn} --protocol sqs --return-subscription-arn --notification-endpoint`;
    const attributes = {
      RawMessageDelivery: 'true',
      FilterPolicy: JSON.stringify({ size: [{ numeric: ['>', 100] }] }),
    };
    const big = (await aws(subscribe, queueArn('v2-fan-big'), '--attributes', JSON.stringify(attributes)))
      .SubscriptionArn;
    expect(big.startsWith(`${arn}:`)).toBe(true);
    const everything = (await aws(subscribe, queueArn('v2-fan-all'))).SubscriptionArn;
    const mine = (subs: any[]) =>
      subs.filter((s) => s.TopicArn === arn).map((s) => [s.SubscriptionArn, s.Protocol, s.Endpoint]);
    expect(mine((await aws('sns list-subscriptions')).Subscriptions).sort()).toEqual(
      [
        [big, 'sqs', queueArn('v2-fan-big')],
        [everything, 'sqs', queueArn('v2-fan-all')],
      ].sort(),
    );
    expect((await aws(`sns list-subscriptions-by-topic --topic-arn ${arn}`)).Subscriptions).toHaveLength(2);

    // The policy set now replaces the one given on subscribe.
    const policy = { size: [{ numeric: ['>', 10] }], kind: ['order'] };
    const setPolicy = `sns set-subscription-attributes --subscription-arn ${big} --attribute-name FilterPolicy --attribute-value`;
    await aws(setPolicy, JSON.stringify(policy));
    const subAttrs = (await aws(`sns get-subscription-attributes --subscription-arn ${big}`)).Attributes;
    expect(subAttrs).toMatchObject({
      SubscriptionArn: big,
      TopicArn: arn,
      Protocol: 'sqs',
      Endpoint: queueArn('v2-fan-big'),
      RawMessageDelivery: 'true',
      PendingConfirmation: 'false',
    });
    expect(JSON.parse(subAttrs.FilterPolicy)).toEqual(policy);
    const badPolicy = await awsError(setPolicy, '{"size":[{"numeric":["~",1]}]}');
    expect(badPolicy).toMatchObject({ code: 'InvalidParameter', message: expect.stringMatching(/FilterPolicy/) });

    const order = (size: number) =>
      `size={DataType=Number,StringValue=${size}},kind={DataType=String,StringValue=order}`;
    await aws(`sns publish --topic-arn ${arn} --message small --message-attributes ${order(3)}`);
    const published = await aws(
      `sns publish --topic-arn ${arn} --message big --message-attributes ${order(30)} --subject`,
      'Big one',
    );
    const typed = (size: number, kind?: string) => ({
      size: { DataType: 'Number', StringValue: String(size) },
      ...(kind ? { kind: { DataType: 'String', StringValue: kind } } : {}),
    });
    const entries = [
      { Id: 'a', Message: 'batch-big', MessageAttributes: typed(11, 'order') },
      { Id: 'b', Message: 'batch-other', MessageAttributes: typed(500) },
    ];
    const batch = await aws(
      `sns publish-batch --topic-arn ${arn} --publish-batch-request-entries`,
      JSON.stringify(entries),
    );
    expect(batch.Successful.map((e: any) => e.Id).sort()).toEqual(['a', 'b']);
    expect(batch.Failed).toEqual([]);

    const raw = await drain('v2-fan-big', 2, '--message-attribute-names All');
    expect(raw.map((m) => m.Body).sort()).toEqual(['batch-big', 'big']); // the policy kept the rest out
    expect(raw.find((m) => m.Body === 'big').MessageAttributes).toEqual(typed(30, 'order'));
    const docs = (await drain('v2-fan-all', 4)).map((m) => JSON.parse(m.Body));
    expect(docs.map((d) => d.Message).sort()).toEqual(['batch-big', 'batch-other', 'big', 'small']);
    expect(docs.find((d) => d.Message === 'big')).toMatchObject({
      Type: 'Notification',
      MessageId: published.MessageId,
      TopicArn: arn,
      Subject: 'Big one',
      MessageAttributes: { size: { Type: 'Number', Value: '30' }, kind: { Type: 'String', Value: 'order' } },
    });

    const batchOf = `sns publish-batch --topic-arn ${arn} --publish-batch-request-entries`;
    expect((await awsError(`${batchOf} Id=x,Message=1 Id=x,Message=2`)).code).toBe('BatchEntryIdsNotDistinct');
    const eleven = Array.from({ length: 11 }, (_, i) => `Id=e${i},Message=m`);
    expect((await awsError(batchOf, ...eleven)).code).toBe('TooManyEntriesInBatchRequest');
    const sms = await awsError(`sns subscribe --topic-arn ${arn} --protocol sms --notification-endpoint +15555550100`);
    expect(sms.code).toBe('InvalidParameter');

    await aws(`sns unsubscribe --subscription-arn ${big}`);
    const left = (await aws(`sns list-subscriptions-by-topic --topic-arn ${arn}`)).Subscriptions;
    expect(left.map((s: any) => s.SubscriptionArn)).toEqual([everything]);
    expect((await awsError(`sns get-subscription-attributes --subscription-arn ${big}`)).code).toBe('NotFound');
  });

  it.concurrent('FIFO topics into a FIFO queue: group order and deduplication', async () => {
    const { TopicArn: arn } = await aws('sns create-topic --name v2-seq.fifo --attributes FifoTopic=true');
    await aws('sqs create-queue --queue-name v2-seq-q.fifo --attributes FifoQueue=true');
    await aws(
      `sns subscribe --topic-arn ${arn} --protocol sqs --notification-endpoint ${queueArn('v2-seq-q.fifo')}`,
      ...['--attributes', 'RawMessageDelivery=true'],
    );
    const publish = `sns publish --topic-arn ${arn} --message-group-id g1`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await aws(`${publish} --message g1-${i} --message-deduplication-id d${i}`)).MessageId);
    const again = await aws(`${publish} --message g1-0-again --message-deduplication-id d0`);
    expect(again.MessageId).toBe(ids[0]);
    const batch = await aws(
      `sns publish-batch --topic-arn ${arn} --publish-batch-request-entries`,
      'Id=a,Message=g2-0,MessageGroupId=g2,MessageDeduplicationId=b0',
      'Id=b,Message=g2-1,MessageGroupId=g2,MessageDeduplicationId=b1',
    );
    expect(batch.Successful).toHaveLength(2);
    const noGroup = await awsError(`sns publish --topic-arn ${arn} --message m --message-deduplication-id x`);
    expect(noGroup.code).toBe('InvalidParameter');

    const got = await drain('v2-seq-q.fifo', 6, '--attribute-names MessageGroupId');
    const inGroup = (g: string) => got.filter((m) => m.Attributes.MessageGroupId === g).map((m) => m.Body);
    expect(inGroup('g1')).toEqual(['g1-0', 'g1-1', 'g1-2', 'g1-3']);
    expect(inGroup('g2')).toEqual(['g2-0', 'g2-1']);
  });

  it.concurrent(
    'http subscriptions: confirmation, confirm-subscription, signed notifications, RedrivePolicy',
    async () => {
      const { TopicArn: arn } = await aws('sns create-topic --name v2-http --attributes SignatureVersion=2');
      await aws('sqs create-queue --queue-name v2-http-dead');
      rx.respond = (r) => (ofType('Notification', '/dead')(r) ? 503 : 200);
      const subscribe = async (path: string, attributes?: object) => {
        const out = await aws(
          `sns subscribe --topic-arn ${arn} --protocol http --notification-endpoint ${rx.url}${path}`,
          ...(attributes ? ['--attributes', JSON.stringify(attributes)] : []),
        );
        expect(out).toEqual({ SubscriptionArn: 'pending confirmation' });
        const confirmation = await waitFor(
          () => rx.requests.find(ofType('SubscriptionConfirmation', path)),
          10_000,
          `the ${path} confirmation`,
        );
        return verified(confirmation.body); // fetches the certificate from Herald
      };
      const hook = await subscribe('/hook');
      expect(hook).toMatchObject({ Type: 'SubscriptionConfirmation', TopicArn: arn, SignatureVersion: '2' });
      // No retries, then the dead-letter queue.
      const dead = await subscribe('/dead', {
        DeliveryPolicy: JSON.stringify({ healthyRetryPolicy: { numRetries: 0, minDelayTarget: 1, maxDelayTarget: 1 } }),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn('v2-http-dead') }),
      });
      const pending = (await aws(`sns list-subscriptions-by-topic --topic-arn ${arn}`)).Subscriptions;
      expect(pending.map((s: any) => s.SubscriptionArn)).toEqual(['PendingConfirmation', 'PendingConfirmation']);
      const confirm = `sns confirm-subscription --topic-arn ${arn} --token`;
      expect((await awsError(confirm, 'not-the-token')).code).toBe('InvalidParameter');
      const confirmed = (await aws(confirm, hook.Token)).SubscriptionArn;
      expect(confirmed.startsWith(`${arn}:`)).toBe(true);
      await aws(confirm, dead.Token, '--authenticate-on-unsubscribe', 'true');
      expect((await aws(`sns get-subscription-attributes --subscription-arn ${confirmed}`)).Attributes).toMatchObject({
        Protocol: 'http',
        Endpoint: `${rx.url}/hook`,
        PendingConfirmation: 'false',
      });

      const { MessageId } = await aws(
        `sns publish --topic-arn ${arn} --message to-http --subject Hi`,
        ...['--message-attributes', 'kind={DataType=String,StringValue=greeting}'],
      );
      const delivered = await waitFor(() => rx.requests.find(ofType('Notification', '/hook')), 10_000, 'the delivery');
      expect(delivered.headers['x-amz-sns-subscription-arn']).toBe(confirmed);
      expect(await verified(delivered.body)).toMatchObject({
        Type: 'Notification',
        MessageId,
        TopicArn: arn,
        Subject: 'Hi',
        Message: 'to-http',
        SignatureVersion: '2',
        MessageAttributes: { kind: { Type: 'String', Value: 'greeting' } },
      });
      // /dead answered 503 and had no retries left: the message waits in the queue.
      expect(await drain('v2-http-dead', 1)).toEqual([expect.objectContaining({ Body: 'to-http', MessageId })]);
      expect(rx.requests.filter(ofType('Notification', '/dead'))).toHaveLength(1);
    },
  );

  it.concurrent('the aws program itself: an unknown key exits 254 with InvalidClientTokenId', async () => {
    if (!('bin' in found)) return;
    const unknown = await promisify(execFile)(found.bin, ['sns', 'list-topics', '--endpoint-url', c.rec.url], {
      env: { ...c.env, AWS_ACCESS_KEY_ID: 'AKIANOSUCHKEY' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({
      code: 254,
      stderr: expect.stringMatching(/\(InvalidClientTokenId\) when calling the ListTopics operation/),
    });
  });

  it('sent every call over the Query protocol, and called every SNS action', () => {
    const calls = c.rec.calls;
    expect(calls.every((r) => r.userAgent.startsWith('aws-cli/2.'))).toBe(true);
    expect(new Set(calls.map((r) => `${r.service} ${r.protocol}`))).toEqual(new Set(['sns query', 'sqs query']));
    const sns = new Set(calls.filter((r) => r.service === 'sns').map((r) => r.action));
    expect(sns).toEqual(new Set(SNS_ACTIONS));
  });
});
