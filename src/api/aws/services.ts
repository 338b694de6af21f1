/**
 * The services behind the AWS front door, by the service name in the SigV4 credential scope.
 *
 * To add a service (SNS plugs in here): write a factory `(ctx: AwsContext) => AwsService`
 * and add it to `AWS_SERVICES` under its scope name, e.g. `sns: snsService`. The front door
 * (server.ts) then verifies the signature, picks the protocol from the request, builds the
 * `AwsCall` and renders what `handle` returns, or the `AwsError` it throws:
 *
 * - JSON 1.0 requests (`X-Amz-Target: <jsonTarget>.<Action>`) reach the service whose
 *   `jsonTarget` matches; the output object is sent as JSON.
 * - Query requests (form `Action=...`, POST body or GET query) reach the service named by
 *   the credential scope; form fields become `input` through `queryFields` (the raw form is
 *   in `call.form` too), and `renderQuery(action, output)` writes the `<ActionResult>` body.
 */
import type { AwsConfig } from '../../config.js';
import type { MoveTasks } from '../../queues/move-tasks.js';
import type { SnsMessages } from '../../aws/sns-messages.js';
import type { SigningIdentity } from '../../aws/sns-signing-key.js';
import type { ApiContext } from '../context.js';
import type { QueryFieldMap } from './query-protocol.js';
import { snsService } from './sns/service.js';
import { sqsService } from './sqs/service.js';

export interface AwsContext extends ApiContext {
  aws: AwsConfig;
  moveTasks: MoveTasks;
  /** SNS message framing and signing (ARNs, links, certificate). */
  sns: SnsMessages;
  snsSigningIdentity: () => Promise<SigningIdentity>;
}

/**
 * What a service answers to an unsigned request it accepts (SNS: the SubscribeURL and
 * UnsubscribeURL links and the signing certificate): a ready document, or an action to run
 * and render like a signed Query call.
 */
export type UnsignedAnswer =
  | { status: number; contentType: string; body: string }
  | { action: string; run: () => Promise<Record<string, unknown>> };

export interface AwsCall {
  /** Service name from the credential scope (`sqs`, `sns`). */
  service: string;
  protocol: 'json' | 'query';
  action: string;
  /** The JSON body, or the Query form converted with the service's `queryFields`. */
  input: Record<string, unknown>;
  /** Query requests only: the form fields as sent. */
  form: URLSearchParams | null;
  /** Scheme, host and port the client addressed, e.g. `http://localhost:4566` (for queue URLs). */
  origin: string;
  /** The request path (Query clients may address a queue by its URL path). */
  path: string;
  accessKeyId: string;
  requestId: string;
  /** Aborted when the client goes away (long polls stop waiting). */
  signal: AbortSignal;
}

export interface AwsService {
  /** JSON protocol target prefix (`AmazonSQS`); omit for a Query-only service. */
  jsonTarget?: string;
  /** Namespace of JSON error types: `<namespace>#<code>`. */
  jsonErrorNamespace?: string;
  /** XML namespace of Query answers. */
  xmlNamespace: string;
  queryFields?: QueryFieldMap;
  /** Run one action. Throw `AwsError` for failures the client should see. */
  handle(call: AwsCall): Promise<Record<string, unknown>>;
  /** Query protocol: the inner XML of `<ActionResult>` for an output. */
  renderQuery(action: string, output: Record<string, unknown>): string;
  /** Requests without any signature this service takes (null: not one of them, verify as usual). */
  unsigned?(req: { method: string; path: string; query: string }): Promise<UnsignedAnswer | null>;
}

export type AwsServiceFactory = (ctx: AwsContext) => AwsService;

export const AWS_SERVICES: Record<string, AwsServiceFactory> = {
  sqs: sqsService,
  sns: snsService,
};
