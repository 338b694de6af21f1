/**
 * Herald's SNS front door through the real AWS SDK v3 clients (@aws-sdk/client-sns over the
 * Query protocol, @aws-sdk/client-sqs to read what `sqs` subscriptions received): every
 * action, filter policies end to end, typed message attributes, and SNS's error codes as the
 * SDK's typed exceptions.
 */
import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  InvalidParameterException,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  NotFoundException,
  PublishBatchCommand,
  PublishCommand,
  ResourceNotFoundException,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  TagResourceCommand,
  TooManyEntriesInBatchRequestException,
  BatchEntryIdsNotDistinctException,
  EmptyBatchRequestException,
  UnsubscribeCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestHerald, TEST_AWS, type TestHerald } from '../support/herald.js';

let h: TestHerald;
let sns: SNSClient;
let sqs: SQSClient;

export function snsFor(h: TestHerald, credentials = TEST_AWS): SNSClient {
  return new SNSClient({ region: 'us-east-1', endpoint: h.herald.aws!.url, credentials, maxAttempts: 1 });
}

beforeAll(async () => {
  h = await startTestHerald();
  sns = snsFor(h);
  sqs = new SQSClient({ region: 'us-east-1', endpoint: h.herald.aws!.url, credentials: TEST_AWS, maxAttempts: 1 });
});

afterAll(async () => {
  sns.destroy();
  sqs.destroy();
  await h.close();
  removeDir(h.dataDir);
});

const ACCOUNT = '000000000000';
const topicArn = (name: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:${name}`;
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

async function createTopic(name: string, Attributes?: Record<string, string>): Promise<string> {
  return (await sns.send(new CreateTopicCommand({ Name: name, Attributes }))).TopicArn!;
}

async function createQueue(name: string): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
}

/** Everything in the queue now (deleting it), as parsed bodies or raw text. */
async function drain(url: string) {
  const out: Array<{ Body: string; MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }> }> =
    [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return out;
    out.push(...(Messages as typeof out));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

async function sqsSubscription(topic: string, queue: string, Attributes?: Record<string, string>) {
  const url = await createQueue(queue);
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({ TopicArn: topic, Protocol: 'sqs', Endpoint: queueArn(queue), Attributes }),
  );
  return { url, arn: SubscriptionArn! };
}

describe('topics', () => {
  it('creates topics idempotently, lists them with NextToken, and deletes them', async () => {
    const arn = await createTopic('orders');
    expect(arn).toBe(topicArn('orders'));
    expect(await createTopic('orders')).toBe(arn);
    for (let i = 0; i < 105; i++) await createTopic(`page-${String(i).padStart(3, '0')}`);
    const first = await sns.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    expect(first.NextToken).toBeTruthy();
    const second = await sns.send(new ListTopicsCommand({ NextToken: first.NextToken }));
    const all = [...first.Topics!, ...second.Topics!].map((t) => t.TopicArn);
    expect(second.NextToken).toBeUndefined();
    expect(all).toContain(arn);
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((a) => a!.includes(':page-'))).toHaveLength(105);

    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn('page-000') }));
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn('page-000') })); // gone already: fine, as on SNS
    await expect(sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn('page-000') }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it('gets and sets topic attributes; CreateTopic with other attributes is refused', async () => {
    const arn = await createTopic('attrs', { DisplayName: 'Attrs', SignatureVersion: '2' });
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    expect(Attributes).toMatchObject({
      TopicArn: arn,
      Owner: ACCOUNT,
      DisplayName: 'Attrs',
      SignatureVersion: '2',
      SubscriptionsConfirmed: '0',
      SubscriptionsPending: '0',
    });
    expect(JSON.parse(Attributes!.Policy!).Statement[0].Resource).toBe(arn);
    await sns.send(
      new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'DisplayName', AttributeValue: 'New' }),
    );
    await sns.send(
      new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'SignatureVersion', AttributeValue: '1' }),
    );
    const after = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes!;
    expect(after).toMatchObject({ DisplayName: 'New', SignatureVersion: '1' });
    await expect(createTopic('attrs', { DisplayName: 'Other' })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      sns.send(
        new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'SignatureVersion', AttributeValue: '3' }),
      ),
    ).rejects.toThrow(/SignatureVersion/);
    await expect(
      sns.send(new SetTopicAttributesCommand({ TopicArn: arn, AttributeName: 'Bogus', AttributeValue: 'x' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('FIFO topics: group order into a FIFO queue, deduplication, and the rules', async () => {
    const arn = await createTopic('jobs.fifo', { FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    expect(arn).toBe(topicArn('jobs.fifo'));
    const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes!;
    expect(attrs).toMatchObject({ FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    const url = (
      await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-q.fifo', Attributes: { FifoQueue: 'true' } }))
    ).QueueUrl!;
    await sns.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: 'sqs',
        Endpoint: queueArn('jobs-q.fifo'),
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await sns.send(new PublishCommand({ TopicArn: arn, Message: `job-${i}`, MessageGroupId: 'g1' }));
      sent.push(r.MessageId!);
    }
    // The same body again within the window (content-based deduplication): the original id.
    const again = await sns.send(new PublishCommand({ TopicArn: arn, Message: 'job-0', MessageGroupId: 'g1' }));
    expect(again.MessageId).toBe(sent[0]);
    const bodies: string[] = [];
    for (const m of await drain(url)) bodies.push(m.Body);
    expect(bodies).toEqual(['job-0', 'job-1', 'job-2', 'job-3', 'job-4']);

    await expect(sns.send(new PublishCommand({ TopicArn: arn, Message: 'no group' }))).rejects.toThrow(
      /messageGroupId is required/,
    );
    await expect(createTopic('jobs', { FifoTopic: 'true' })).rejects.toThrow(/must end with .fifo/);
    await expect(createTopic('other.fifo')).rejects.toBeInstanceOf(InvalidParameterException);
    const plain = await createTopic('plain', { FifoTopic: 'false' });
    await expect(sns.send(new PublishCommand({ TopicArn: plain, Message: 'm', MessageGroupId: 'g' }))).rejects.toThrow(
      /MessageGroupId/,
    );
  });

  it('FIFO topics answer an increasing SequenceNumber, and their notifications carry it', async () => {
    const arn = await createTopic('seq.fifo', { FifoTopic: 'true', ContentBasedDeduplication: 'true' });
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'seq-q.fifo', Attributes: { FifoQueue: 'true' } })))
      .QueueUrl!;
    await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'sqs', Endpoint: queueArn('seq-q.fifo') }));
    const numbers = new Map<string, string>(); // MessageId -> SequenceNumber
    for (const [Message, MessageGroupId] of [
      ['one', 'a'],
      ['two', 'b'],
    ]) {
      const r = await sns.send(new PublishCommand({ TopicArn: arn, Message, MessageGroupId, Subject: 'S' }));
      numbers.set(r.MessageId!, r.SequenceNumber!);
    }
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn: arn,
        PublishBatchRequestEntries: ['three', 'four', 'five'].map((Message) => ({
          Id: Message,
          Message,
          MessageGroupId: 'a',
          MessageAttributes: { n: { DataType: 'Number', StringValue: '1' } },
        })),
      }),
    );
    expect(batch.Failed).toEqual([]);
    for (const e of batch.Successful!) numbers.set(e.MessageId!, e.SequenceNumber!);
    const given = [...numbers.values()];
    expect(given.every((n) => /^\d{20}$/.test(n))).toBe(true);
    // Strictly increasing in publish order (as numbers; the fixed width makes text order agree).
    for (let i = 1; i < given.length; i++) expect(BigInt(given[i])).toBeGreaterThan(BigInt(given[i - 1]));
    // A duplicate (content-based deduplication) answers the original MessageId and SequenceNumber.
    const dup = await sns.send(new PublishCommand({ TopicArn: arn, Message: 'one', MessageGroupId: 'a' }));
    expect(dup.SequenceNumber).toBe(numbers.get(dup.MessageId!));

    // What the queue got: SNS's FIFO notification, with the message's SequenceNumber and, as on
    // SNS, without a signature.
    const docs = (await drain(url)).map((m) => JSON.parse(m.Body));
    docs.sort((x, y) => (x.SequenceNumber < y.SequenceNumber ? -1 : 1));
    expect(docs.map((d) => d.Message)).toEqual(['one', 'two', 'three', 'four', 'five']);
    for (const d of docs) {
      expect(d).toMatchObject({ Type: 'Notification', TopicArn: arn, SequenceNumber: numbers.get(d.MessageId) });
      expect(d).not.toHaveProperty('Signature');
      expect(d).not.toHaveProperty('SigningCertURL');
      expect(d.UnsubscribeURL).toContain('Action=Unsubscribe');
    }
    expect(docs[0].Subject).toBe('S');
    expect(docs[2].MessageAttributes).toEqual({ n: { Type: 'Number', Value: '1' } });

    // Standard topics have no sequence.
    const plain = await createTopic('seq-plain');
    expect((await sns.send(new PublishCommand({ TopicArn: plain, Message: 'm' }))).SequenceNumber).toBeUndefined();
  });

  it('tags topics: TagResource, UntagResource, ListTagsForResource', async () => {
    const arn = await createTopic('tagged');
    await sns.send(
      new TagResourceCommand({
        ResourceArn: arn,
        Tags: [
          { Key: 'team', Value: 'core' },
          { Key: 'env', Value: 'test' },
        ],
      }),
    );
    await sns.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['env'] }));
    const { Tags } = await sns.send(new ListTagsForResourceCommand({ ResourceArn: arn }));
    expect(Tags).toEqual([{ Key: 'team', Value: 'core' }]);
    await expect(
      sns.send(new ListTagsForResourceCommand({ ResourceArn: topicArn('no-such-topic') })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('sqs subscriptions and publishing', () => {
  it('fans a published message out to sqs subscriptions as SNS notifications, or raw', async () => {
    const arn = await createTopic('fanout');
    const wrapped = await sqsSubscription(arn, 'fan-wrapped');
    const raw = await sqsSubscription(arn, 'fan-raw', { RawMessageDelivery: 'true' });
    expect(wrapped.arn).toMatch(new RegExp(`^${topicArn('fanout')}:[0-9a-f-]{36}$`));
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: arn,
        Message: 'hello',
        Subject: 'Greeting',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'greeting' },
          n: { DataType: 'Number', StringValue: '42' },
          list: { DataType: 'String.Array', StringValue: '["a",1]' },
          bin: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]) },
        },
      }),
    );
    const [w] = await drain(wrapped.url);
    const doc = JSON.parse(w.Body);
    expect(doc).toMatchObject({
      Type: 'Notification',
      MessageId,
      TopicArn: arn,
      Subject: 'Greeting',
      Message: 'hello',
      SignatureVersion: '1',
      MessageAttributes: {
        kind: { Type: 'String', Value: 'greeting' },
        n: { Type: 'Number', Value: '42' },
        list: { Type: 'String.Array', Value: '["a",1]' },
        bin: { Type: 'Binary', Value: 'AAEC' },
      },
    });
    expect(doc.SigningCertURL).toBe(`${h.herald.aws!.url}/SimpleNotificationService-herald.pem`);
    expect(doc.UnsubscribeURL).toContain('Action=Unsubscribe');
    const [r] = await drain(raw.url);
    expect(r.Body).toBe('hello');
    expect(r.MessageAttributes?.n).toMatchObject({ DataType: 'Number', StringValue: '42' });
    expect(r.MessageAttributes?.kind).toMatchObject({ DataType: 'String', StringValue: 'greeting' });
  });

  it('filters on attributes and on the body before anything reaches the queue', async () => {
    const arn = await createTopic('filtered');
    const byAttr = await sqsSubscription(arn, 'f-attr', {
      RawMessageDelivery: 'true',
      FilterPolicy: JSON.stringify({ price: [{ numeric: ['>=', 100] }], colour: [{ 'anything-but': 'red' }] }),
    });
    const byBody = await sqsSubscription(arn, 'f-body', {
      RawMessageDelivery: 'true',
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: JSON.stringify({ order: { tags: ['urgent'] } }),
    });
    const publish = (Message: string, attrs: Record<string, [string, string]> = {}) =>
      sns.send(
        new PublishCommand({
          TopicArn: arn,
          Message,
          MessageAttributes: Object.fromEntries(
            Object.entries(attrs).map(([k, [DataType, StringValue]]) => [k, { DataType, StringValue }]),
          ),
        }),
      );
    await publish('cheap', { price: ['Number', '5'], colour: ['String', 'blue'] });
    await publish('red', { price: ['Number', '500'], colour: ['String', 'red'] });
    await publish('string price', { price: ['String', '500'], colour: ['String', 'blue'] });
    await publish('match-attr', { price: ['Number', '100'], colour: ['String', 'blue'] });
    await publish(JSON.stringify({ order: { tags: ['slow'] } }));
    await publish(JSON.stringify({ order: { tags: ['slow', 'urgent'] }, id: 'match-body' }));
    // Rejected messages never became queue messages: the queues hold exactly the matches.
    for (const q of ['f-attr', 'f-body']) {
      const url = `${h.herald.aws!.url}/${ACCOUNT}/${q}`;
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      expect(Attributes?.ApproximateNumberOfMessages, q).toBe('1');
    }
    expect((await drain(byAttr.url)).map((m) => m.Body)).toEqual(['match-attr']);
    expect((await drain(byBody.url)).map((m) => JSON.parse(m.Body).id)).toEqual(['match-body']);

    // A policy changed with SetSubscriptionAttributes applies to the next message; "" removes it.
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: byAttr.arn,
        AttributeName: 'FilterPolicy',
        AttributeValue: JSON.stringify({ colour: ['red'] }),
      }),
    );
    await publish('red again', { colour: ['String', 'red'] });
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: byAttr.arn,
        AttributeName: 'FilterPolicy',
        AttributeValue: '',
      }),
    );
    await publish('anything');
    expect((await drain(byAttr.url)).map((m) => m.Body)).toEqual(['red again', 'anything']);
  });

  it('refuses invalid filter policies with InvalidParameter naming FilterPolicy', async () => {
    const arn = await createTopic('bad-filters');
    await createQueue('bad-filters-q');
    const subscribe = (Attributes: Record<string, string>) =>
      sns.send(
        new SubscribeCommand({ TopicArn: arn, Protocol: 'sqs', Endpoint: queueArn('bad-filters-q'), Attributes }),
      );
    await expect(
      subscribe({ FilterPolicy: '{"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "f": [1]}' }),
    ).rejects.toThrow(/^Invalid parameter: FilterPolicy: .*5 keys/);
    await expect(subscribe({ FilterPolicy: '{oops' })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(subscribe({ FilterPolicy: '{"a":["x"]}', FilterPolicyScope: 'Body' })).rejects.toThrow(
      /FilterPolicyScope/,
    );
  });

  it('manages subscriptions: list (all, by topic), attributes, unsubscribe, errors', async () => {
    const arn = await createTopic('subs');
    const a = await sqsSubscription(arn, 'subs-a');
    const again = await sns.send(
      new SubscribeCommand({
        TopicArn: arn,
        Protocol: 'sqs',
        Endpoint: queueArn('subs-a'),
        ReturnSubscriptionArn: true,
      }),
    );
    expect(again.SubscriptionArn).toBe(a.arn); // the same endpoint again: the same subscription
    await createQueue('subs-dlq');
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: a.arn,
        AttributeName: 'RedrivePolicy',
        AttributeValue: JSON.stringify({ deadLetterTargetArn: queueArn('subs-dlq') }),
      }),
    );
    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: a.arn,
        AttributeName: 'RawMessageDelivery',
        AttributeValue: 'true',
      }),
    );
    const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: a.arn }));
    expect(Attributes).toMatchObject({
      SubscriptionArn: a.arn,
      TopicArn: arn,
      Protocol: 'sqs',
      Endpoint: queueArn('subs-a'),
      Owner: ACCOUNT,
      PendingConfirmation: 'false',
      RawMessageDelivery: 'true',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn('subs-dlq') }),
    });
    const byTopic = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
    expect(byTopic.Subscriptions).toEqual([
      { SubscriptionArn: a.arn, Owner: ACCOUNT, Protocol: 'sqs', Endpoint: queueArn('subs-a'), TopicArn: arn },
    ]);
    const all = await sns.send(new ListSubscriptionsCommand({}));
    expect(all.Subscriptions?.map((s) => s.SubscriptionArn)).toContain(a.arn);

    await sns.send(new UnsubscribeCommand({ SubscriptionArn: a.arn }));
    await expect(sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: a.arn }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(
      sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'email', Endpoint: 'a@example.com' })),
    ).rejects.toThrow(/email is not supported yet/);
    await expect(
      sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'sqs', Endpoint: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      sns.send(new SubscribeCommand({ TopicArn: topicArn('missing'), Protocol: 'sqs', Endpoint: queueArn('subs-a') })),
    ).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: `${arn}:nope`,
          AttributeName: 'RawMessageDelivery',
          AttributeValue: 'true',
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundException);
    await expect(sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: 'bogus' }))).rejects.toThrow(
      /Invalid token/,
    );
  });

  it('publishes batches with per-entry results and refuses bad batches as SNS does', async () => {
    const arn = await createTopic('batch');
    const q = await sqsSubscription(arn, 'batch-q', { RawMessageDelivery: 'true' });
    const { Successful, Failed } = await sns.send(
      new PublishBatchCommand({
        TopicArn: arn,
        PublishBatchRequestEntries: [
          { Id: 'one', Message: 'first' },
          { Id: 'two', Message: '' },
          { Id: 'three', Message: 'third', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } },
          { Id: 'four', Message: 'fourth', Subject: 'S' },
        ],
      }),
    );
    expect(Successful?.map((s) => s.Id)).toEqual(['one', 'four']);
    expect(Successful?.every((s) => /^[0-9a-f-]{36}$/.test(s.MessageId!))).toBe(true);
    expect(Failed?.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['two', 'InvalidParameter', true],
      ['three', 'InvalidParameter', true],
    ]);
    expect((await drain(q.url)).map((m) => m.Body).sort()).toEqual(['first', 'fourth']);

    const entries = (n: number, id = (i: number) => `e${i}`) =>
      Array.from({ length: n }, (_, i) => ({ Id: id(i), Message: 'm' }));
    await expect(
      sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries(11) })),
    ).rejects.toBeInstanceOf(TooManyEntriesInBatchRequestException);
    await expect(
      sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries(2, () => 'same') })),
    ).rejects.toBeInstanceOf(BatchEntryIdsNotDistinctException);
    await expect(
      sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: [] })),
    ).rejects.toBeInstanceOf(EmptyBatchRequestException);
  });

  it('publishes MessageStructure json: each protocol gets its text, others the default; refuses what SNS refuses', async () => {
    const arn = await createTopic('structured');
    const raw = await sqsSubscription(arn, 'structured-raw', { RawMessageDelivery: 'true' });
    const wrapped = await sqsSubscription(arn, 'structured-wrapped');
    // A body policy looks at the text its subscription gets (here the sqs one).
    const filtered = await sqsSubscription(arn, 'structured-filtered', {
      RawMessageDelivery: 'true',
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: JSON.stringify({ for: ['sqs'] }),
    });
    const structured = (texts: Record<string, unknown>) =>
      sns.send(new PublishCommand({ TopicArn: arn, MessageStructure: 'json', Message: JSON.stringify(texts) }));
    const { MessageId } = await structured({
      default: 'the default text',
      sqs: JSON.stringify({ for: 'sqs' }),
      http: 'for http',
      email: 'for email',
    });
    await structured({ default: 'only a default' });
    // Keys whose values are not strings are ignored, as on SNS.
    await structured({ default: 'default again', sqs: { not: 'a string' } });
    expect((await drain(raw.url)).map((m) => m.Body)).toEqual(['{"for":"sqs"}', 'only a default', 'default again']);
    const docs = (await drain(wrapped.url)).map((m) => JSON.parse(m.Body));
    expect(docs.map((d) => d.Message)).toEqual(['{"for":"sqs"}', 'only a default', 'default again']);
    expect(docs[0].MessageId).toBe(MessageId);
    expect((await drain(filtered.url)).map((m) => m.Body)).toEqual(['{"for":"sqs"}']);

    // In a batch too; a bad entry fails alone.
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn: arn,
        PublishBatchRequestEntries: [
          { Id: 'good', MessageStructure: 'json', Message: JSON.stringify({ default: 'd', sqs: 'batched sqs' }) },
          { Id: 'bad', MessageStructure: 'json', Message: JSON.stringify({ sqs: 'no default' }) },
        ],
      }),
    );
    expect(batch.Successful?.map((e) => e.Id)).toEqual(['good']);
    expect(batch.Failed).toEqual([
      {
        Id: 'bad',
        Code: 'InvalidParameter',
        Message: 'Invalid parameter: Message Structure - No default entry in JSON message body',
        SenderFault: true,
      },
    ]);
    expect((await drain(raw.url)).map((m) => m.Body)).toEqual(['batched sqs']);

    const refused = (Message: string, MessageStructure = 'json') =>
      expect(sns.send(new PublishCommand({ TopicArn: arn, MessageStructure, Message }))).rejects;
    await refused('{"sqs":"x"}').toThrow(
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
    await refused('{"default":1}').toThrow(
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
    await refused('not json').toThrow('Invalid parameter: Message Structure - JSON message body failed to parse');
    await refused('["default"]').toThrow('Invalid parameter: Message Structure - JSON message body failed to parse');
    await refused('{"default":"x"}', 'xml').toBeInstanceOf(InvalidParameterException);
    await expect(sns.send(new PublishCommand({ TopicArn: arn, Message: '' }))).rejects.toThrow(/Empty message/);
    await expect(sns.send(new PublishCommand({ TopicArn: topicArn('nowhere'), Message: 'x' }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(sns.send(new PublishCommand({ TopicArn: arn, Message: 'x'.repeat(256 * 1024 + 1) }))).rejects.toThrow(
      /too long/,
    );
    // The size is the Message as sent: a structure whose texts together pass the limit is refused.
    const half = 'y'.repeat(130 * 1024);
    await expect(structured({ default: half, sqs: half })).rejects.toThrow(/too long/);
  });

  it('refuses a wrong secret (SignatureDoesNotMatch) and an unknown key (InvalidClientTokenId)', async () => {
    const wrong = snsFor(h, { accessKeyId: TEST_AWS.accessKeyId, secretAccessKey: 'wrong' });
    const unknown = snsFor(h, { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' });
    try {
      await expect(wrong.send(new ListTopicsCommand({}))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
      await expect(unknown.send(new ListTopicsCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    } finally {
      wrong.destroy();
      unknown.destroy();
    }
  });
});
