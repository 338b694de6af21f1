/**
 * The one HTTP error boundary: every failure leaves as `{ "error": { "code", "message" } }`
 * with the status that matches it. Unknown errors are logged and answered as 500 without
 * internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HeraldError, req, reply) => {
    if (error instanceof HeraldError) {
      if (error.code === 'unavailable') reply.header('retry-after', '1');
      return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) {
      const message = mapped[0] === 415 ? 'Content-Type must be application/json' : error.message;
      return reply.code(mapped[0]).send({ error: { code: mapped[1], message } });
    }
    if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
      return reply
        .code(400)
        .send({ error: { code: 'invalid_json', message: `body is not valid JSON: ${error.message}` } });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: 'invalid_request', message: error.message } });
    }
    const sqliteCode = (error as { code?: string }).code ?? '';
    if (['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY', 'SQLITE_READONLY'].includes(sqliteCode)) {
      req.log.error({ err: error }, 'store cannot commit');
      reply.header('retry-after', '1');
      return reply
        .code(503)
        .send({ error: { code: 'unavailable', message: 'the store cannot commit writes right now' } });
    }
    req.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error; see the server log' } });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
}
