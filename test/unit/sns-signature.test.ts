import { createPublicKey, createVerify, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import MessageValidator from 'sns-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, toPem } from '../../src/aws/certificate.js';
import {
  signSnsMessage,
  snsStringToSign,
  type SignatureVersion,
  type SnsSignable,
} from '../../src/aws/sns-signature.js';
import { HeraldError } from '../../src/errors.js';

// The example notification of the SNS developer guide ("HTTP/HTTPS notification JSON format").
const NOTIFICATION: SnsSignable = {
  Type: 'Notification',
  MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Subject: 'My First Message',
  Message: 'Hello world!',
  Timestamp: '2012-05-02T00:54:06.655Z',
};
const CONFIRMATION: SnsSignable = {
  Type: 'SubscriptionConfirmation',
  MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b',
  Token:
    '2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736',
  TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
  Message:
    'You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.',
  SubscribeURL:
    'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37...',
  Timestamp: '2012-04-26T20:45:04.751Z',
};
const UNSUBSCRIBE: SnsSignable = {
  ...CONFIRMATION,
  Type: 'UnsubscribeConfirmation',
  Message: 'You have chosen to deactivate subscription.',
};

describe('snsStringToSign', () => {
  it('lists a Notification as Message, MessageId, Subject, Timestamp, TopicArn, Type', () => {
    expect(snsStringToSign(NOTIFICATION)).toBe(
      'Message\nHello world!\n' +
        'MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n' +
        'Subject\nMy First Message\n' +
        'Timestamp\n2012-05-02T00:54:06.655Z\n' +
        'TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n' +
        'Type\nNotification\n',
    );
  });

  it('leaves Subject out when the notification has none, but signs an empty one', () => {
    const { Subject: _, ...noSubject } = NOTIFICATION;
    expect(snsStringToSign(noSubject)).not.toContain('Subject');
    expect(snsStringToSign({ ...NOTIFICATION, Subject: undefined })).toBe(snsStringToSign(noSubject));
    expect(snsStringToSign({ ...NOTIFICATION, Subject: '' })).toContain(
      'MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\n\nTimestamp',
    );
  });

  it('lists confirmations as Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type', () => {
    for (const m of [CONFIRMATION, UNSUBSCRIBE])
      expect(snsStringToSign(m)).toBe(
        `Message\n${m.Message}\nMessageId\n${m.MessageId}\nSubscribeURL\n${m.SubscribeURL}\nTimestamp\n${m.Timestamp}\n` +
          `Token\n${m.Token}\nTopicArn\n${m.TopicArn}\nType\n${m.Type}\n`,
      );
  });

  it('ignores fields that are not signed for the type', () => {
    expect(snsStringToSign({ ...NOTIFICATION, Token: 't', SubscribeURL: 'u' })).toBe(snsStringToSign(NOTIFICATION));
    expect(snsStringToSign({ ...CONFIRMATION, Subject: 's' })).toBe(snsStringToSign(CONFIRMATION));
  });

  it('keeps message text exactly, newlines and all', () => {
    const text = 'line one\nline two\r\n\ttabbed "quoted" ✓';
    expect(snsStringToSign({ ...NOTIFICATION, Message: text })).toContain(`Message\n${text}\nMessageId`);
  });

  it('refuses a message missing a signed field, or of an unknown type', () => {
    expect(() => snsStringToSign({ ...CONFIRMATION, Token: undefined })).toThrow(/signed over Token, which is missing/);
    expect(() => snsStringToSign({ ...UNSUBSCRIBE, SubscribeURL: undefined })).toThrow(/SubscribeURL/);
    expect(() => snsStringToSign({ ...NOTIFICATION, Message: undefined as never })).toThrow(HeraldError);
    expect(() => snsStringToSign({ ...NOTIFICATION, Type: 'Other' as never })).toThrow(/Type must be Notification/);
  });
});

/**
 * A verifier written from the SNS developer guide's steps, independently of the code under
 * test: take the fields for the type, in the order the guide lists them, skip absent ones.
 */
function verifyAsTheGuideSays(message: Record<string, string | undefined>, publicKey: KeyObject): boolean {
  const fields =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const verifier = createVerify(message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  for (const f of fields) if (message[f] !== undefined) verifier.update(`${f}\n${message[f]}\n`, 'utf8');
  return verifier.verify(publicKey, message.Signature ?? '', 'base64');
}

describe('signSnsMessage', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signed = (m: SnsSignable, v: SignatureVersion) => ({
    ...m,
    SignatureVersion: v,
    Signature: signSnsMessage(m, privateKey, v),
  });

  it('signs every message type under both versions so that the guide-built verifier accepts it', () => {
    for (const m of [NOTIFICATION, { ...NOTIFICATION, Subject: undefined }, CONFIRMATION, UNSUBSCRIBE])
      for (const v of ['1', '2'] as const) {
        const s = signed(m, v);
        expect(Buffer.from(s.Signature, 'base64')).toHaveLength(256); // RSA-2048
        expect(verifyAsTheGuideSays(s, publicKey), `${m.Type} v${v}`).toBe(true);
      }
  });

  it('uses SHA1withRSA for version 1 and SHA256withRSA for version 2', () => {
    const v1 = signed(NOTIFICATION, '1');
    const v2 = signed(NOTIFICATION, '2');
    expect(v1.Signature).not.toBe(v2.Signature);
    expect(verifyAsTheGuideSays({ ...v1, SignatureVersion: '2' }, publicKey)).toBe(false);
    expect(verifyAsTheGuideSays({ ...v2, SignatureVersion: '1' }, publicKey)).toBe(false);
    // PKCS#1 v1.5 is deterministic: the same message signs the same way.
    expect(signSnsMessage(NOTIFICATION, privateKey, '2')).toBe(v2.Signature);
  });

  it('produces signatures that fail once any signed field changes', () => {
    for (const base of [NOTIFICATION, CONFIRMATION]) {
      const s = signed(base, '2');
      const fields = Object.keys(base).filter((k) => k !== 'Type') as Array<keyof SnsSignable>;
      for (const f of fields)
        expect(verifyAsTheGuideSays({ ...s, [f]: `${s[f]}x` }, publicKey), `${base.Type}.${f}`).toBe(false);
      expect(
        verifyAsTheGuideSays(
          { ...s, Type: base.Type === 'Notification' ? 'SubscriptionConfirmation' : 'Notification' },
          publicKey,
        ),
      ).toBe(false);
    }
    expect(verifyAsTheGuideSays({ ...signed(NOTIFICATION, '2'), Subject: undefined }, publicKey)).toBe(false);
    expect(
      verifyAsTheGuideSays(signed(NOTIFICATION, '2'), generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey),
    ).toBe(false);
  });

  it('refuses other signature versions', () => {
    expect(() => signSnsMessage(NOTIFICATION, privateKey, '3' as never)).toThrow(/SignatureVersion must be "1" or "2"/);
  });
});

describe("sns-validator (AWS's Node.js SNS message validator) accepts Herald-signed messages", () => {
  // The validator fetches SigningCertURL over HTTPS and checks the host against a pattern it lets
  // callers replace: serve the certificate from a loopback HTTPS server that itself uses a
  // certificate made by createSelfSignedCertificate (CN=localhost), trusted through the agent.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Date.now();
  const cert = toPem(
    createSelfSignedCertificate({
      privateKey,
      publicKey: createPublicKey(privateKey),
      commonName: 'localhost',
      notBeforeMs: now - 86_400_000,
      notAfterMs: now + 86_400_000,
      serial: Buffer.from('0102030405060708', 'hex'),
    }),
  );
  let server: https.Server;
  let certUrl: string;
  let validator: MessageValidator;
  const savedCa = https.globalAgent.options.ca;

  beforeAll(async () => {
    server = https.createServer({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert }, (req, res) => {
      res.writeHead(req.url === '/SimpleNotificationService-herald.pem' ? 200 : 404).end(cert);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    certUrl = `https://localhost:${port}/SimpleNotificationService-herald.pem`;
    https.globalAgent.options.ca = cert;
    validator = new MessageValidator(new RegExp(`^localhost:${port}$`));
  });
  afterAll(async () => {
    https.globalAgent.options.ca = savedCa;
    await new Promise((resolve) => server.close(resolve));
  });

  const validate = (m: SnsSignable, v: SignatureVersion, over: Record<string, string> = {}) =>
    new Promise<void>((resolve, reject) =>
      validator.validate(
        // As it arrives: JSON, where an absent Subject is no key at all.
        JSON.stringify({
          ...m,
          SignatureVersion: v,
          Signature: signSnsMessage(m, privateKey, v),
          SigningCertURL: certUrl,
          ...over,
        }),
        (err) => (err ? reject(err) : resolve()),
      ),
    );

  it('for notifications with and without Subject, and subscription confirmations, under versions 1 and 2', async () => {
    for (const m of [
      NOTIFICATION,
      { ...NOTIFICATION, Subject: undefined },
      { ...NOTIFICATION, Message: '{"json":"✓ \\n"}' },
      CONFIRMATION,
    ])
      for (const v of ['1', '2'] as const) await validate(m, v);
  });

  it('and still rejects a tampered one', async () => {
    await expect(validate(NOTIFICATION, '2', { Message: 'Hello world?' })).rejects.toThrow(/signature is invalid/);
    await expect(validate(CONFIRMATION, '1', { Token: 'forged' })).rejects.toThrow(/signature is invalid/);
  });

  it('but not UnsubscribeConfirmation: sns-validator 0.3.5 leaves Token out for that type, unlike the AWS guide', async () => {
    // Herald follows the guide (Token is signed, as for SubscriptionConfirmation); the guide-built
    // verifier above accepts these messages. Recorded here so a fixed validator shows up.
    await expect(validate(UNSUBSCRIBE, '2')).rejects.toThrow(/signature is invalid/);
    // The same message signed without Token passes it: that is the whole difference.
    const withoutToken = snsStringToSign(UNSUBSCRIBE).replace(`Token\n${UNSUBSCRIBE.Token}\n`, '');
    const signature = sign('sha256', Buffer.from(withoutToken), privateKey).toString('base64');
    await expect(validate(UNSUBSCRIBE, '2', { Signature: signature })).resolves.toBeUndefined();
  });
});
