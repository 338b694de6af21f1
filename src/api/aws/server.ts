/**
 * The AWS front door: a second HTTP listener that speaks the AWS wire protocols, so the AWS
 * SDKs, the AWS CLI and boto3 work against Herald with only the endpoint and keys changed.
 *
 * Every request is SigV4-verified against the configured access keys before anything else;
 * then the protocol is chosen by request (`X-Amz-Target` means JSON 1.0, otherwise the Query
 * protocol's `Action` form field) and the call goes to the service registered for it
 * (services.ts). Errors leave in the request's protocol: JSON `{"__type", "message"}` with
 * `x-amzn-query-error`, or a Query `ErrorResponse` document.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { serverOptions } from '../app.js';
import type { Logger } from 'pino';
import { verifySigV4 } from '../../aws/sigv4.js';
import { HeraldError } from '../../errors.js';
import { AwsError, fromHeraldError } from './errors.js';
import { fieldTree, toInput } from './query-protocol.js';
import {
  AWS_SERVICES,
  type AwsAnswer,
  type AwsCall,
  type AwsContext,
  type AwsService,
  type AwsServiceFactory,
} from './services.js';
import { queryError, queryResponse } from './xml.js';

const JSON_TYPE = 'application/x-amz-json-1.0';
/** Presigned-URL parameters are part of the signature, not of the action's input. */
const isSigningField = (name: string) => name.startsWith('X-Amz-') || name === 'Action' || name === 'Version';

interface Route {
  protocol: 'json' | 'query';
  service: AwsService | undefined;
}

export function buildAwsApp(
  ctx: AwsContext,
  credentials: Record<string, string>,
  logger: Logger,
  registry: Record<string, AwsServiceFactory> = AWS_SERVICES,
): FastifyInstance {
  const app: FastifyInstance = Fastify(serverOptions(logger, ctx.config.bodyLimitBytes));
  const services = new Map(Object.entries(registry).map(([name, make]) => [name, make(ctx)]));
  // The signature covers the exact body bytes: keep them as they came, whatever the type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const lookupSecret = (id: string) => (Object.hasOwn(credentials, id) ? credentials[id] : undefined);

  app.route({
    method: ['GET', 'POST'],
    url: '/*',
    handler: async (req, reply) => {
      const requestId = randomUUID();
      reply.header('x-amzn-requestid', requestId);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const [path, query = ''] = splitUrl(req.url);
      const target = headerOf(req, 'x-amz-target');
      let route: Route = { protocol: target ? 'json' : 'query', service: undefined };
      try {
        // headersDistinct keeps repeated headers apart, as the signature needs; injected
        // requests (tests without a port) only have the merged headers.
        const auth = verifySigV4(
          { method: req.method, path, query, headers: req.raw.headersDistinct ?? req.headers, body },
          { nowMs: Date.now(), lookupSecret },
        );
        if (!auth.ok && auth.code === 'MissingAuthenticationToken') {
          const taken = takeUnsigned(services, req, path, query, body);
          if (taken) {
            const answer = await taken;
            return reply.code(answer.status).type(answer.contentType).send(answer.body);
          }
        }
        route = pickService(services, target, auth.ok ? auth.service : undefined);
        if (!auth.ok) throw new AwsError(auth.code, auth.message, auth.status);
        if (!route.service) {
          throw new AwsError(
            'InvalidAction',
            target
              ? `Unknown operation target ${target}`
              : `The service "${auth.service}" in the credential scope is not served here`,
          );
        }
        const abort = new AbortController();
        const call = buildCall(req, route, auth.service, auth.accessKeyId, path, query, body, requestId, abort.signal);
        const onClose = () => abort.abort();
        req.raw.socket?.once('close', onClose);
        try {
          if (route.service.answer) {
            const answer = await route.service.answer(call);
            return reply.code(answer.status).type(answer.contentType).send(answer.body);
          }
          const output = await route.service.handle(call);
          if (route.protocol === 'json') return reply.type(JSON_TYPE).send(JSON.stringify(output));
          const xml = queryResponse(
            call.action,
            route.service.xmlNamespace,
            route.service.renderQuery(call.action, output),
            requestId,
          );
          return reply.type('text/xml').send(xml);
        } finally {
          req.raw.socket?.off('close', onClose);
        }
      } catch (error) {
        const aws = toAwsError(error, req);
        return sendError(reply, route, aws, requestId);
      }
    },
  });
  return app;
}

function formParams(req: FastifyRequest, query: string, body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) out[k] = v;
  const type = headerOf(req, 'content-type') ?? '';
  if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out[k] = v;
  }
  return out;
}

/** The first service that takes an unsigned request (SNS links), if any. */
function takeUnsigned(
  services: Map<string, AwsService>,
  req: FastifyRequest,
  path: string,
  query: string,
  body: Buffer,
): Promise<AwsAnswer> | null {
  const request = { method: req.method, path, params: formParams(req, query, body) };
  for (const service of services.values()) {
    const taken = service.unsigned?.(request);
    if (taken) return taken;
  }
  return null;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function splitUrl(url: string): [string, string?] {
  const q = url.indexOf('?');
  return q < 0 ? [url] : [url.slice(0, q), url.slice(q + 1)];
}

/** JSON: by target prefix. Query: by the credential scope's service (sqs when unsigned, for the error's shape). */
function pickService(services: Map<string, AwsService>, target: string | undefined, scope: string | undefined): Route {
  if (target) {
    const prefix = target.split('.')[0];
    const service = [...services.values()].find((s) => s.jsonTarget === prefix);
    return { protocol: 'json', service };
  }
  return { protocol: 'query', service: services.get(scope ?? 'sqs') };
}

function buildCall(
  req: FastifyRequest,
  route: Route,
  service: string,
  accessKeyId: string,
  path: string,
  query: string,
  body: Buffer,
  requestId: string,
  signal: AbortSignal,
): AwsCall {
  const origin = `${req.protocol}://${headerOf(req, 'host') ?? 'localhost'}`;
  const base = { service, path, origin, accessKeyId, requestId, signal };
  if (route.protocol === 'json') {
    const target = headerOf(req, 'x-amz-target')!;
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      throw new AwsError('SerializationException', 'The request body is not valid JSON');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new AwsError('SerializationException', 'The request body must be a JSON object');
    }
    return {
      ...base,
      protocol: 'json',
      action: target.slice(target.indexOf('.') + 1),
      input: input as Record<string, unknown>,
      form: null,
      params: {},
    };
  }
  const contentType = headerOf(req, 'content-type') ?? '';
  const form = new URLSearchParams(
    req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')
      ? body.toString('utf8')
      : query,
  );
  const action = form.get('Action');
  if (!action) throw new AwsError('MissingAction', 'The request must contain the parameter Action.');
  const input = toInput(fieldTree(form, isSigningField), route.service?.queryFields ?? {});
  return { ...base, protocol: 'query', action, input, form, params: formParams(req, query, body) };
}

function toAwsError(error: unknown, req: FastifyRequest): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof HeraldError) return fromHeraldError(error);
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new AwsError('RequestEntityTooLarge', 'Request body too large', 413);
  req.log.error({ err: error }, 'AWS request failed');
  return new AwsError('InternalFailure', 'internal error; see the server log', 500);
}

function sendError(
  reply: import('fastify').FastifyReply,
  route: Route,
  error: AwsError,
  requestId: string,
): import('fastify').FastifyReply {
  reply.code(error.status);
  if (error.status === 503) reply.header('retry-after', '1');
  if (route.protocol === 'json') {
    const namespace = route.service?.jsonErrorNamespace;
    reply.header('x-amzn-query-error', `${error.queryCode};${error.fault}`);
    return reply
      .type(JSON_TYPE)
      .send(JSON.stringify({ __type: namespace ? `${namespace}#${error.code}` : error.code, message: error.message }));
  }
  const namespace = route.service?.xmlNamespace ?? 'http://queue.amazonaws.com/doc/2012-11-05/';
  return reply.type('text/xml').send(queryError(namespace, error.fault, error.queryCode, error.message, requestId));
}
