/**
 * SNS on the AWS front door (registered in ../services.ts as `sns`): Query-protocol calls
 * signed for the `sns` service run the actions of this folder, and the unsigned requests SNS
 * messages lead subscribers to are answered here too: the SubscribeURL and UnsubscribeURL
 * links (which work by their token or ARN alone, as on AWS) and the signing certificate at
 * SigningCertURL.
 */
import { randomUUID } from 'node:crypto';
import { SIGNING_CERT_PATH } from '../../../aws/sns-messages.js';
import { AwsError } from '../errors.js';
import type { AwsAnswer, AwsContext, AwsService } from '../services.js';
import { queryError, queryResponse } from '../xml.js';
import { SNS_ACTIONS } from './actions.js';
import type { SnsContext } from './context.js';
import { toSnsError } from './errors.js';
import type { Params } from './params.js';
import { toXml, type XmlObject } from './xml.js';

export const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** Actions the links in SNS messages run without a signature. */
const LINK_ACTIONS = new Set(['ConfirmSubscription', 'Unsubscribe']);

/** The `<ActionResult>` body: none for actions that return null, an empty one for `{}` (TagResource). */
const resultXml = (output: Record<string, unknown>) =>
  output.result === null || output.result === undefined ? null : toXml(output.result as XmlObject);

export function snsService(ctx: AwsContext): AwsService {
  const sns: SnsContext = {
    config: ctx.config,
    store: ctx.store,
    topics: ctx.topics,
    subscriptions: ctx.subscriptions,
    sns: ctx.sns,
  };

  const run = async (action: string, params: Params): Promise<Record<string, unknown>> => {
    const handler = Object.hasOwn(SNS_ACTIONS, action) ? SNS_ACTIONS[action] : undefined;
    if (!handler)
      throw new AwsError('InvalidAction', `The action ${action.slice(0, 60)} is not valid for this endpoint.`);
    try {
      return { result: await handler(sns, params) };
    } catch (error) {
      const mapped = toSnsError(error);
      if (!mapped) throw error;
      throw new AwsError(mapped.code, mapped.message, mapped.status, mapped.code, mapped.type);
    }
  };

  return {
    xmlNamespace: SNS_XMLNS,
    handle: (call) => run(call.action, call.params),
    renderQuery: (_action, output) => resultXml(output),
    unsigned(req): Promise<AwsAnswer> | null {
      if (req.method !== 'GET') return null;
      if (req.path === SIGNING_CERT_PATH)
        return ctx.snsSigningIdentity().then((identity) => ({
          status: 200,
          contentType: 'application/x-pem-file',
          body: identity.certificatePem,
        }));
      const action = req.params.Action ?? '';
      if (req.path !== '/' || !LINK_ACTIONS.has(action)) return null;
      return link(action, req.params);
    },
  };

  /** A link's action, answered as the signed call would be (errors as SNS ErrorResponse). */
  async function link(action: string, params: Params): Promise<AwsAnswer> {
    const requestId = randomUUID();
    try {
      const output = await run(action, params);
      const body = queryResponse(action, SNS_XMLNS, resultXml(output), requestId);
      return { status: 200, contentType: 'text/xml', body };
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      return {
        status: error.status,
        contentType: 'text/xml',
        body: queryError(SNS_XMLNS, error.fault, error.queryCode, error.message, requestId),
      };
    }
  }
}
