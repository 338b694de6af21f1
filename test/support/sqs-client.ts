/**
 * The real AWS SDK SQS client (@aws-sdk/client-sqs, AWS JSON 1.0 protocol) with its transport
 * replaced: every request, fully built and signed, goes to `answer` instead of the network, and
 * the JSON it returns comes back as a 200 response, through the SDK's parsing and checks.
 */
import { Readable } from 'node:stream';
import { SQSClient } from '@aws-sdk/client-sqs';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';

export interface SeenRequest {
  request: HttpRequest;
  /** The action from X-Amz-Target, e.g. "SendMessage". */
  action: string;
  body: Buffer;
  input: Record<string, unknown>;
}

/** The bytes of an SDK request body, without calling its string methods (the SDK warns on those). */
export const bodyBytes = (body: unknown): Buffer =>
  typeof body === 'string'
    ? Buffer.from(body, 'utf8')
    : body instanceof Uint8Array
      ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      : Buffer.alloc(0);

export function sqsClient(
  answer: (seen: SeenRequest) => object,
  credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
): SQSClient {
  return new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://localhost:4566',
    credentials,
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        const body = bodyBytes(request.body);
        const action = String(request.headers['x-amz-target']).replace('AmazonSQS.', '');
        const json = Buffer.from(
          JSON.stringify(answer({ request, action, body, input: JSON.parse(body.toString('utf8')) })),
        );
        return {
          response: new HttpResponse({
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(json.length) },
            body: Readable.from([json]),
          }),
        };
      },
    },
  });
}
