/**
 * SNS-style HTTP subscriptions against real receivers on 127.0.0.1: the SubscriptionConfirmation
 * POST, nothing delivered (or even owed) before confirmation, confirmation by SubscribeURL and
 * by ConfirmSubscription, signed notifications verified by sns-validator with the certificate
 * fetched from Herald (behind a TLS front, as sns-validator only fetches over HTTPS), signature
 * versions 1 and 2, RawMessageDelivery, UnsubscribeURL, DeliveryPolicy retries, and
 * RedrivePolicy to an SQS dead-letter queue.
 */
import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  NotFoundException,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { verify, X509Certificate } from 'node:crypto';
import MessageValidator from 'sns-validator';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { removeDir, startTestHerald, TEST_AWS, waitFor, type TestHerald } from '../support/herald.js';
import { startReceiver, type Receiver, type Received } from '../support/receiver.js';
import { httpsGet, startTlsProxy, type TlsProxy } from '../support/tls-proxy.js';

let h: TestHerald;
let proxy: TlsProxy;
let sns: SNSClient;
let sqs: SQSClient;
let validator: MessageValidator;
let rx: Receiver;

beforeAll(async () => {
  proxy = await startTlsProxy();
  h = await startTestHerald({ aws: { publicUrl: proxy.url } });
  proxy.target = h.herald.aws!.url;
  validator = new MessageValidator(new RegExp(`^${proxy.url.slice('https://'.length)}$`));
  const opts = { region: 'us-east-1', endpoint: h.herald.aws!.url, credentials: TEST_AWS, maxAttempts: 1 };
  sns = new SNSClient(opts);
  sqs = new SQSClient(opts);
});

afterAll(async () => {
  sns.destroy();
  sqs.destroy();
  await h.close();
  await proxy.close();
  removeDir(h.dataDir);
});

beforeEach(async () => {
  rx = await startReceiver();
});
afterEach(async () => {
  await rx.close();
});

const verified = (body: string) =>
  new Promise<Record<string, any>>((resolve, reject) =>
    validator.validate(body, (err, message) => (err ? reject(err) : resolve(message as Record<string, any>))),
  );

/**
 * Verifies a message as "Verifying the signatures of Amazon SNS messages" describes, written
 * here from that page alone: the certificate fetched from SigningCertURL (on the expected host,
 * over HTTPS), then "Name\nValue\n" for Message, MessageId, Subject (if present), Timestamp,
 * TopicArn and Type for a Notification, and for Message, MessageId, SubscribeURL, Timestamp,
 * Token, TopicArn and Type for a SubscriptionConfirmation or an UnsubscribeConfirmation.
 * (sns-validator 0.3.5 leaves Token out for an UnsubscribeConfirmation, against that page and
 * AWS's PHP validator, so it cannot check one.)
 */
async function verifiedAsDocumented(body: string): Promise<Record<string, any>> {
  const m = JSON.parse(body) as Record<string, string>;
  const fields =
    m.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = fields
    .filter((f) => f in m)
    .map((f) => `${f}\n${m[f]}\n`)
    .join('');
  expect(new URL(m.SigningCertURL).origin).toBe(proxy.url);
  const cert = await httpsGet(m.SigningCertURL);
  const algorithm = m.SignatureVersion === '1' ? 'sha1' : 'sha256';
  const key = new X509Certificate(cert.body).publicKey;
  if (!verify(algorithm, Buffer.from(text, 'utf8'), key, Buffer.from(m.Signature, 'base64')))
    throw new Error(`the ${m.Type} signature is invalid`);
  return m;
}

async function topic(name: string, Attributes?: Record<string, string>) {
  return (await sns.send(new CreateTopicCommand({ Name: name, Attributes }))).TopicArn!;
}

/** SubscriptionConfirmation and UnsubscribeConfirmation: the fields SNS sends, in its order. */
const TOKEN_MESSAGE_KEYS = [
  'Type',
  'MessageId',
  'Token',
  'TopicArn',
  'Message',
  'SubscribeURL',
  'Timestamp',
  'SignatureVersion',
  'Signature',
  'SigningCertURL',
];
const ofType = (type: string) => (r: Received) => r.headers['x-amz-sns-message-type'] === type;

async function subscribeHttp(topicArn: string, path: string, Attributes?: Record<string, string>) {
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `${rx.url}${path}`, Attributes }),
  );
  expect(SubscriptionArn).toBe('pending confirmation');
  const confirmation = await waitFor(() => rx.requests.find(ofType('SubscriptionConfirmation')), 5000, 'confirmation');
  return { confirmation, doc: JSON.parse(confirmation.body) as Record<string, string> };
}

describe('SNS HTTP subscriptions', () => {
  it('confirm by SubscribeURL, deliver nothing before, and sign notifications verifiably (version 1)', async () => {
    const arn = await topic('http-v1');
    const { confirmation, doc } = await subscribeHttp(arn, '/hook');
    expect(confirmation.path).toBe('/hook');
    expect(confirmation.headers).toMatchObject({
      'x-amz-sns-message-type': 'SubscriptionConfirmation',
      'x-amz-sns-message-id': doc.MessageId,
      'x-amz-sns-topic-arn': arn,
    });
    expect(Object.keys(doc)).toEqual(TOKEN_MESSAGE_KEYS);
    expect(doc.SigningCertURL).toBe(`${proxy.url}/SimpleNotificationService-herald.pem`);
    expect(doc.SubscribeURL.startsWith(`${proxy.url}/?Action=ConfirmSubscription&`)).toBe(true);
    await verified(confirmation.body); // fetches the certificate from Herald

    // Pending: shown as such, owed nothing, sent nothing.
    const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
    expect(listed.Subscriptions?.[0].SubscriptionArn).toBe('PendingConfirmation');
    await sns.send(new PublishCommand({ TopicArn: arn, Message: 'before confirmation' }));
    const [sub] = await h.herald.store.listSubscriptions('http-v1');
    expect(sub.status).toBe('pending_confirmation');
    expect((await h.herald.store.listDeliveries(sub.id, 'pending', 10)).deliveries).toEqual([]);

    const visit = await httpsGet(doc.SubscribeURL);
    expect(visit.status).toBe(200);
    const subscriptionArn = /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(visit.body)?.[1];
    expect(subscriptionArn).toBe(`${arn}:${sub.id}`);

    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: arn,
        Message: 'after confirmation',
        Subject: 'Hi',
        MessageAttributes: { n: { DataType: 'Number', StringValue: '7' } },
      }),
    );
    const note = await waitFor(() => rx.requests.find(ofType('Notification')), 5000, 'notification');
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.requests.filter(ofType('Notification'))).toHaveLength(1); // never the one from before
    expect(note.headers).toMatchObject({
      'x-amz-sns-message-id': MessageId,
      'x-amz-sns-topic-arn': arn,
      'x-amz-sns-subscription-arn': subscriptionArn,
    });
    const message = await verified(note.body);
    expect(message).toMatchObject({
      Type: 'Notification',
      MessageId,
      TopicArn: arn,
      Subject: 'Hi',
      Message: 'after confirmation',
      SignatureVersion: '1',
      MessageAttributes: { n: { Type: 'Number', Value: '7' } },
    });
    await expect(verified(note.body.replace('after confirmation', 'forged'))).rejects.toThrow(/signature/i);

    // UnsubscribeURL works and ends the subscription; the endpoint is told, signed as the topic says.
    const bye = await httpsGet(message.UnsubscribeURL);
    expect(bye.status).toBe(200);
    expect(await h.herald.store.getSubscription(sub.id)).toBeNull();
    const unsubscribed = await waitFor(
      () => rx.requests.find(ofType('UnsubscribeConfirmation')),
      5000,
      'UnsubscribeConfirmation',
    );
    expect(await verifiedAsDocumented(unsubscribed.body)).toMatchObject({ SignatureVersion: '1', TopicArn: arn });
    // The documented procedure agrees with sns-validator where sns-validator is right.
    await verifiedAsDocumented(confirmation.body);
    await verifiedAsDocumented(note.body);
  });

  it('Unsubscribe sends a signed UnsubscribeConfirmation whose SubscribeURL or Token restores the subscription', async () => {
    const arn = await topic('http-unsubscribe', { SignatureVersion: '2' });
    const { doc } = await subscribeHttp(arn, '/unsub');
    const { SubscriptionArn } = await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: doc.Token }));
    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    const bye = await waitFor(
      () => rx.requests.find(ofType('UnsubscribeConfirmation')),
      5000,
      'UnsubscribeConfirmation',
    );
    const message = JSON.parse(bye.body) as Record<string, string>;
    expect(bye.path).toBe('/unsub');
    expect(bye.headers).toMatchObject({
      'x-amz-sns-message-type': 'UnsubscribeConfirmation',
      'x-amz-sns-message-id': message.MessageId,
      'x-amz-sns-topic-arn': arn,
      'x-amz-sns-subscription-arn': SubscriptionArn,
      'content-type': 'text/plain; charset=UTF-8',
    });
    expect(Object.keys(message)).toEqual(TOKEN_MESSAGE_KEYS);
    expect(message).toMatchObject({
      Type: 'UnsubscribeConfirmation',
      TopicArn: arn,
      Message: `You have chosen to deactivate subscription ${SubscriptionArn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
      SignatureVersion: '2',
    });
    expect(message.SubscribeURL.startsWith(`${proxy.url}/?Action=ConfirmSubscription&`)).toBe(true);
    expect(new URL(message.SubscribeURL).searchParams.get('Token')).toBe(message.Token);
    await verifiedAsDocumented(bye.body);
    await expect(verifiedAsDocumented(bye.body.replace(message.Token, `${message.Token}0`))).rejects.toThrow(
      /signature is invalid/,
    );

    // Gone meanwhile: not listed, nothing delivered.
    await expect(sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await sns.send(new PublishCommand({ TopicArn: arn, Message: 'while unsubscribed' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.requests.filter(ofType('Notification'))).toHaveLength(0);

    // Visiting SubscribeURL restores it: the same subscription, delivered to again.
    const visit = await httpsGet(message.SubscribeURL);
    expect(visit.status).toBe(200);
    expect(/<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(visit.body)?.[1]).toBe(SubscriptionArn);
    const attrs = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));
    expect(attrs.Attributes).toMatchObject({ PendingConfirmation: 'false', Endpoint: `${rx.url}/unsub` });
    await sns.send(new PublishCommand({ TopicArn: arn, Message: 'restored' }));
    const note = await waitFor(() => rx.requests.find(ofType('Notification')), 5000, 'notification');
    expect(await verified(note.body)).toMatchObject({ Message: 'restored', SignatureVersion: '2' });
    // The token restores once.
    expect((await httpsGet(message.SubscribeURL)).status).toBe(400);

    // Unsubscribed again (by its UnsubscribeURL), restored by ConfirmSubscription with the token.
    expect((await httpsGet(JSON.parse(note.body).UnsubscribeURL)).status).toBe(200);
    await waitFor(
      () => rx.requests.filter(ofType('UnsubscribeConfirmation')).length === 2,
      5000,
      'second UnsubscribeConfirmation',
    );
    const second = JSON.parse(rx.requests.filter(ofType('UnsubscribeConfirmation'))[1].body);
    expect(second.Token).not.toBe(message.Token);
    const again = await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: second.Token }));
    expect(again.SubscriptionArn).toBe(SubscriptionArn);
  });

  it('confirms with ConfirmSubscription and signs with SHA256withRSA when the topic says SignatureVersion 2', async () => {
    const arn = await topic('http-v2', { SignatureVersion: '2' });
    const { doc } = await subscribeHttp(arn, '/v2');
    expect(doc.SignatureVersion).toBe('2');
    await verified(JSON.stringify(doc));
    // Subscribing the pending endpoint again sends the confirmation again (same token).
    await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: `${rx.url}/v2` }));
    await waitFor(
      () => rx.requests.filter(ofType('SubscriptionConfirmation')).length === 2,
      5000,
      'second confirmation',
    );
    expect(JSON.parse(rx.requests.filter(ofType('SubscriptionConfirmation'))[1].body).Token).toBe(doc.Token);
    const { SubscriptionArn } = await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: doc.Token }));
    const attrs = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));
    expect(attrs.Attributes?.PendingConfirmation).toBe('false');
    await sns.send(new PublishCommand({ TopicArn: arn, Message: 'v2' }));
    const note = await waitFor(() => rx.requests.find(ofType('Notification')), 5000, 'notification');
    expect(await verified(note.body)).toMatchObject({ SignatureVersion: '2', Message: 'v2' });
  });

  it('delivers the bare message with RawMessageDelivery', async () => {
    const arn = await topic('http-raw');
    const { doc } = await subscribeHttp(arn, '/raw', { RawMessageDelivery: 'true' });
    await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: doc.Token }));
    await sns.send(new PublishCommand({ TopicArn: arn, Message: '{"bare":true}' }));
    const note = await waitFor(() => rx.requests.find(ofType('Notification')), 5000, 'notification');
    expect(note.body).toBe('{"bare":true}');
    expect(note.headers['x-amz-sns-rawdelivery']).toBe('true');
  });

  it('MessageStructure json: an http subscription gets the http text in a signed notification, else the default', async () => {
    const arn = await topic('http-structured');
    const { doc } = await subscribeHttp(arn, '/structured');
    await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: doc.Token }));
    const publish = (texts: Record<string, string>) =>
      sns.send(new PublishCommand({ TopicArn: arn, MessageStructure: 'json', Message: JSON.stringify(texts) }));
    await publish({ default: 'the default', http: 'for http', https: 'for https', sqs: 'for sqs' });
    await publish({ default: 'only the default', https: 'for https' });
    await waitFor(() => rx.requests.filter(ofType('Notification')).length === 2, 5000, 'two notifications');
    const messages = await Promise.all(rx.requests.filter(ofType('Notification')).map((r) => verified(r.body)));
    expect(messages.map((m) => m.Message).sort()).toEqual(['for http', 'only the default']);
  });

  it('retries per DeliveryPolicy (numRetries, delays in seconds)', async () => {
    const arn = await topic('http-retry');
    rx.respond = (r) =>
      ofType('Notification')(r) && rx.requests.filter(ofType('Notification')).length < 3 ? 500 : 200;
    const policy = {
      healthyRetryPolicy: { numRetries: 3, minDelayTarget: 1, maxDelayTarget: 1, backoffFunction: 'linear' },
    };
    const { doc } = await subscribeHttp(arn, '/retry', { DeliveryPolicy: JSON.stringify(policy) });
    await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: doc.Token }));
    await sns.send(new PublishCommand({ TopicArn: arn, Message: 'eventually' }));
    await waitFor(() => rx.requests.filter(ofType('Notification')).length === 3, 10_000, 'three attempts');
    const at = rx.requests.filter(ofType('Notification')).map((r) => r.at);
    // 1 s apart, give or take the engine's 20% jitter.
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(750);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(750);
    const [sub] = await h.herald.store.listSubscriptions('http-retry');
    expect(sub.deliveryPolicy).toMatchObject({
      maxAttempts: 4,
      backoff: { initialSeconds: 1, maxSeconds: 1, multiplier: 1 },
    });
  });

  it('sends messages it could not deliver to the SQS queue named by RedrivePolicy, typed attributes kept', async () => {
    const arn = await topic('http-dlq');
    const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'http-dlq-dead' }))).QueueUrl!;
    rx.respond = (r) => (ofType('Notification')(r) ? 503 : 200);
    const { doc } = await subscribeHttp(arn, '/dead', {
      DeliveryPolicy: JSON.stringify({ healthyRetryPolicy: { numRetries: 1, minDelayTarget: 1, maxDelayTarget: 1 } }),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:http-dlq-dead' }),
    });
    await sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: doc.Token }));
    const attributes = {
      kind: { DataType: 'String', StringValue: 'order' },
      price: { DataType: 'Number', StringValue: '12.50' },
      weight: { DataType: 'Number.kg', StringValue: '3' },
      raw: { DataType: 'Binary', BinaryValue: Uint8Array.of(0, 1, 2, 255) },
      icon: { DataType: 'Binary.png', BinaryValue: Uint8Array.of(137, 80) },
      id: { DataType: 'String.uuid', StringValue: '6f1c0d3e-0000-4000-8000-000000000000' },
    };
    const { MessageId } = await sns.send(
      new PublishCommand({ TopicArn: arn, Message: 'undeliverable', MessageAttributes: attributes }),
    );
    const dead = await waitFor(
      async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
          )
        ).Messages?.[0],
      10_000,
      'the dead letter',
    );
    expect(dead.Body).toBe('undeliverable');
    expect(dead.MessageId).toBe(MessageId);
    expect(rx.requests.filter(ofType('Notification'))).toHaveLength(2);
    // The attributes as published, data types and all.
    expect(dead.MessageAttributes).toEqual(attributes);
    // And their digest is SQS's: the same attributes sent with SendMessage, whose MD5 the SDK
    // checks against its own computation, digest alike.
    const probeUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'http-dlq-probe' }))).QueueUrl!;
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl: probeUrl, MessageBody: 'probe', MessageAttributes: attributes }),
    );
    expect(dead.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
  });

  it('the native API makes SNS-style subscriptions too (style "sns"): pending until confirmed, then signed SNS notifications', async () => {
    await h.client.createTopic('native-sns');
    const res = await h.api('POST', '/v1/topics/native-sns/subscriptions', {
      protocol: 'http',
      endpoint: `${rx.url}/native`,
      style: 'sns',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ style: 'sns', status: 'pending_confirmation' });
    const confirmation = await waitFor(
      () => rx.requests.find(ofType('SubscriptionConfirmation')),
      5000,
      'confirmation',
    );
    await h.client.publish('native-sns', { body: 'too early' });
    expect((await h.herald.store.listDeliveries(res.body.id, 'pending', 10)).deliveries).toEqual([]);
    expect((await h.api('PATCH', `/v1/subscriptions/${res.body.id}`, { status: 'active' })).status).toBe(400);
    expect((await httpsGet(JSON.parse(confirmation.body).SubscribeURL)).status).toBe(200);
    await h.client.publish('native-sns', { body: 'native', attributes: { kind: 'k' } });
    const note = await waitFor(() => rx.requests.find(ofType('Notification')), 5000, 'notification');
    expect(note.headers['webhook-signature']).toBeUndefined();
    expect(await verified(note.body)).toMatchObject({
      Message: 'native',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:native-sns',
      MessageAttributes: { kind: { Type: 'String', Value: 'k' } },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.requests.filter(ofType('Notification'))).toHaveLength(1);
  });
});
