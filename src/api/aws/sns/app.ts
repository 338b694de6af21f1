/**
 * A small Fastify app serving the SNS Query protocol on its own port (HERALD_SNS_PORT):
 * POST / with form parameters, signed with AWS Signature Version 4 (header or query form),
 * GET / for the unsigned SubscribeURL / UnsubscribeURL links, and the signing certificate at
 * SIGNING_CERT_PATH. A shared AWS front door can instead call `handleSnsRequest` itself.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { SIGNING_CERT_PATH } from '../../../aws/sns-messages.js';
import { verifySigV4 } from '../../../aws/sigv4.js';
import type { SnsContext } from './context.js';
import { SnsError } from './errors.js';
import { handleSnsLink, handleSnsRequest, type SnsAnswer } from './handler.js';
import { errorXml } from './xml.js';
import type { SigningIdentity } from '../../../aws/sns-signing-key.js';
import { randomUUID } from 'node:crypto';

export interface SnsAppOptions {
  identity: () => Promise<SigningIdentity>;
  bodyLimitBytes: number;
}

function paramsOf(query: string, body?: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) out[k] = v;
  if (body) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out[k] = v;
  return out;
}

export function buildSnsApp(ctx: SnsContext, logger: Logger, opts: SnsAppOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: opts.bodyLimitBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const send = (reply: import('fastify').FastifyReply, a: SnsAnswer) =>
    reply.code(a.status).header('content-type', a.contentType).send(a.body);

  const verify = (req: FastifyRequest, body: Buffer): SnsError | null => {
    const [path, query = ''] = req.url.split(/\?(.*)/s, 2);
    const result = verifySigV4(
      { method: req.method, path, query, headers: req.headers, body },
      { nowMs: Date.now(), lookupSecret: (id) => ctx.config.awsCredentials[id], service: 'sns' },
    );
    return result.ok ? null : new SnsError(result.code, result.message, result.status);
  };

  app.post('/', async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const denied = verify(req, body);
    if (denied)
      return send(reply, { status: denied.status, contentType: 'text/xml', body: errorXml(denied, randomUUID()) });
    return send(reply, await handleSnsRequest(ctx, paramsOf(req.url.split('?')[1] ?? '', body), req.log));
  });

  app.get('/', async (req, reply) => {
    const query = req.url.split('?')[1] ?? '';
    const params = paramsOf(query);
    // A presigned GET is a signed request; anything else may only follow an SNS link.
    if (/(^|&)X-Amz-Algorithm=/.test(query)) {
      const denied = verify(req, Buffer.alloc(0));
      if (denied)
        return send(reply, { status: denied.status, contentType: 'text/xml', body: errorXml(denied, randomUUID()) });
      return send(reply, await handleSnsRequest(ctx, params, req.log));
    }
    return send(reply, await handleSnsLink(ctx, params));
  });

  app.get(SIGNING_CERT_PATH, async (_req, reply) => {
    const identity = await opts.identity();
    return reply.header('content-type', 'application/x-pem-file').send(identity.certificatePem);
  });

  return app;
}
