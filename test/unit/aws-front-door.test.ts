/**
 * The AWS front door's service seam (what SNS plugs into), without a port: a service picked
 * by the credential scope, one that writes whole answers, unsigned requests a service takes,
 * and Query form parsing into JSON-shaped input.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config.js';
import { fieldTree, toInput } from '../../src/api/aws/query-protocol.js';
import { buildAwsApp } from '../../src/api/aws/server.js';
import type { AwsCall, AwsContext, AwsServiceFactory } from '../../src/api/aws/services.js';

const KEY = { accessKeyId: 'AKIAUNIT', secretAccessKey: 'unit-secret' };

async function signedForm(service: string, form: string) {
  const signer = new SignatureV4({ service, region: 'us-east-1', credentials: KEY, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: 'localhost',
    path: '/',
    headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  return { headers: signed.headers as Record<string, string>, payload: form };
}

function app(registry: Record<string, AwsServiceFactory>) {
  return buildAwsApp(
    { config: defaultConfig() } as AwsContext,
    { [KEY.accessKeyId]: KEY.secretAccessKey },
    pino({ level: process.env.UNIT_LOG ?? 'silent' }),
    registry,
  );
}

describe('AWS front door service seam', () => {
  it('routes Query requests by the credential scope to a service that answers itself', async () => {
    const seen: AwsCall[] = [];
    const a = app({
      sns: () => ({
        xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
        answer: async (call) => {
          seen.push(call);
          return { status: 200, contentType: 'text/xml', body: `<Ok>${call.params.Name}</Ok>` };
        },
        handle: async () => ({}),
        renderQuery: () => '',
      }),
    });
    const { headers, payload } = await signedForm('sns', 'Action=CreateTopic&Name=t1&Version=2010-03-31');
    const res = await a.inject({ method: 'POST', url: '/', headers, payload });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('<Ok>t1</Ok>');
    expect(seen[0]).toMatchObject({
      service: 'sns',
      protocol: 'query',
      action: 'CreateTopic',
      accessKeyId: 'AKIAUNIT',
    });
    // A scope naming a service nobody registered is refused, in Query XML.
    const other = await signedForm('sqs', 'Action=ListQueues');
    const refused = await a.inject({ method: 'POST', url: '/', headers: other.headers, payload: other.payload });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('<Code>InvalidAction</Code>');
    await a.close();
  });

  it('lets a service take unsigned requests it recognises, and refuses the rest', async () => {
    const a = app({
      sns: () => ({
        xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
        unsigned: (req) =>
          req.method === 'GET' && req.params.Action === 'ConfirmSubscription'
            ? Promise.resolve({
                status: 200,
                contentType: 'text/xml',
                body: `<Confirmed>${req.params.Token}</Confirmed>`,
              })
            : null,
        handle: async () => ({}),
        renderQuery: () => '',
      }),
    });
    const link = await a.inject({ method: 'GET', url: '/?Action=ConfirmSubscription&Token=abc' });
    expect(link.body).toBe('<Confirmed>abc</Confirmed>');
    const other = await a.inject({ method: 'GET', url: '/?Action=Publish' });
    expect(other.statusCode).toBe(403);
    expect(other.body).toContain('<Code>MissingAuthenticationToken</Code>');
    await a.close();
  });

  it('turns flattened and wrapped Query lists and maps into JSON-shaped input', () => {
    const form = new URLSearchParams(
      'Action=X&AttributeName.2=B&AttributeName.1=A&Attribute.1.Name=K&Attribute.1.Value=V' +
        '&Entries.member.1.Id=e1&Entries.member.1.MessageAttribute.1.Name=n&Entries.member.1.MessageAttribute.1.Value.DataType=String' +
        '&Entries.member.1.MessageAttribute.1.Value.StringValue=s&X-Amz-Date=20200101T000000Z',
    );
    const fields = {
      AttributeName: { member: 'AttributeNames', kind: 'list' as const },
      Attribute: { member: 'Attributes', kind: 'map' as const },
      MessageAttribute: { member: 'MessageAttributes', kind: 'map' as const },
    };
    const map = { ...fields, Entries: { member: 'Entries', kind: 'struct-list' as const, fields } };
    const input = toInput(
      fieldTree(form, (n) => n === 'Action' || n.startsWith('X-Amz-')),
      map,
    );
    expect(input).toEqual({
      AttributeNames: ['A', 'B'],
      Attributes: { K: 'V' },
      Entries: [{ Id: 'e1', MessageAttributes: { n: { DataType: 'String', StringValue: 's' } } }],
    });
  });
});
