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
 * - A service that writes whole answers itself (SNS's `handleSnsRequest(ctx, params)`)
 *   implements `answer(call)` instead of `handle`/`renderQuery`; `call.params` holds the form
 *   fields as one record, `Action` included.
 * - Requests without a signature are refused, unless a service's `unsigned(request)` takes
 *   them (SNS: GET SubscribeURL / UnsubscribeURL links, the signing certificate); it returns
 *   null to decline.
 *
 * SNS (sns/service.ts) uses `handle`/`renderQuery` for signed calls and `unsigned` for the
 * SubscribeURL / UnsubscribeURL links and the signing certificate.
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

export interface AwsCall {
  /** Service name from the credential scope (`sqs`, `sns`). */
  service: string;
  protocol: 'json' | 'query';
  action: string;
  /** The JSON body, or the Query form converted with the service's `queryFields`. */
  input: Record<string, unknown>;
  /** Query requests only: the form fields as sent. */
  form: URLSearchParams | null;
  /** Query requests only: the form fields as one record (a repeated name keeps its last value). */
  params: Record<string, string>;
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
  /**
   * Query protocol: the inner XML of `<ActionResult>` for an output (possibly empty), or null
   * for an action that has no output (no `<ActionResult>` element at all).
   */
  renderQuery(action: string, output: Record<string, unknown>): string | null;
  /** Answer the whole response instead of `handle` + rendering (see above). */
  answer?(call: AwsCall): Promise<AwsAnswer>;
  /** Take an unsigned request, or return null to let the front door refuse it. */
  unsigned?(request: UnsignedRequest): Promise<AwsAnswer> | null;
}

export interface AwsAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface UnsignedRequest {
  method: string;
  path: string;
  /** Query string and form body fields. */
  params: Record<string, string>;
}

export type AwsServiceFactory = (ctx: AwsContext) => AwsService;

export const AWS_SERVICES: Record<string, AwsServiceFactory> = {
  sqs: sqsService,
  sns: snsService,
};
