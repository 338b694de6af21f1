/**
 * The SNS Query protocol, independent of any HTTP framework: form parameters in, XML out.
 * `handleSnsRequest` is what a front door calls once it has verified the request's signature;
 * `handleSnsLink` answers the unsigned links SNS documents carry (SubscribeURL,
 * UnsubscribeURL), which work by their token or ARN alone, as on AWS.
 */
import { randomUUID } from 'node:crypto';
import { SNS_ACTIONS } from './actions.js';
import type { SnsContext } from './context.js';
import { SnsError, toSnsError } from './errors.js';
import type { Params } from './params.js';
import { errorXml, responseXml } from './xml.js';

export interface SnsAnswer {
  status: number;
  contentType: string;
  body: string;
}

const xml = (status: number, body: string): SnsAnswer => ({ status, contentType: 'text/xml', body });

/** Actions the links in SNS documents may run without a signature. */
export const LINK_ACTIONS = new Set(['ConfirmSubscription', 'Unsubscribe']);

export async function handleSnsRequest(
  ctx: SnsContext,
  params: Params,
  log?: { error(obj: object, msg: string): void },
): Promise<SnsAnswer> {
  const requestId = randomUUID();
  const action = params.Action;
  try {
    const handler = action ? SNS_ACTIONS[action] : undefined;
    if (!handler)
      throw new SnsError(
        'InvalidAction',
        action ? `The action ${action.slice(0, 60)} is not valid for this endpoint.` : 'Action is required',
      );
    const result = await handler(ctx, params);
    return xml(200, responseXml(action!, result, requestId));
  } catch (error) {
    const sns = toSnsError(error);
    if (sns) return xml(sns.status, errorXml(sns, requestId));
    log?.error({ err: error, action }, 'SNS request failed');
    return xml(
      500,
      errorXml(new SnsError('InternalError', 'internal error; see the server log', 500, 'Receiver'), requestId),
    );
  }
}

/** An unsigned link (GET SubscribeURL / UnsubscribeURL): only the link actions run. */
export function handleSnsLink(ctx: SnsContext, params: Params): Promise<SnsAnswer> {
  if (!LINK_ACTIONS.has(params.Action ?? ''))
    return Promise.resolve(
      xml(
        403,
        errorXml(
          new SnsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403),
          randomUUID(),
        ),
      ),
    );
  return handleSnsRequest(ctx, params);
}
