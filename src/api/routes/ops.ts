import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export function opsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) =>
    ctx.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'not_ready' }),
  );

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
