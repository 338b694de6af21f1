import type { FastifyInstance } from 'fastify';
import { invalid } from '../../errors.js';
import * as validate from '../../validation.js';
import { audit, type ApiContext, type Params } from '../context.js';
import { acceptRoutes } from './accept.js';

export function queueRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put<Params<'queue'>>('/v1/queues/:queue', async (req, reply) => {
    const { queue, created } = await ctx.queues.create(req.params.queue, req.body);
    if (created) audit(req, 'queue.create', queue.name);
    return reply.code(created ? 201 : 200).send(queue);
  });

  app.patch<Params<'queue'>>('/v1/queues/:queue', async (req) => {
    const queue = await ctx.queues.update(req.params.queue, req.body);
    audit(req, 'queue.update', queue.name);
    return queue;
  });

  app.get('/v1/queues', async () => ({ queues: await ctx.queues.list() }));

  app.get<Params<'queue'>>('/v1/queues/:queue', (req) => ctx.queues.get(req.params.queue));

  app.delete<Params<'queue'>>('/v1/queues/:queue', async (req, reply) => {
    await ctx.queues.delete(req.params.queue);
    audit(req, 'queue.delete', req.params.queue);
    return reply.code(204).send();
  });

  acceptRoutes(app, ctx, '/v1/queues/:queue', 'queue', (queue, messages) => ctx.queues.send(queue, messages));

  app.post<Params<'queue'>>('/v1/queues/:queue/receive', async (req) => {
    // The queue's own visibility timeout applies unless the receive sets one.
    const opts = validate.receiveOptions(req.body);
    // Stop waiting when the caller goes away.
    const abort = new AbortController();
    const onClose = () => abort.abort();
    req.raw.socket?.once('close', onClose);
    try {
      return { messages: await ctx.queues.receive(req.params.queue, opts, abort.signal) };
    } finally {
      req.raw.socket?.off('close', onClose);
    }
  });

  app.post<Params<'queue'>>('/v1/queues/:queue/ack', async (req) =>
    ctx.queues.ack(req.params.queue, validate.receipts(req.body)),
  );

  app.post<Params<'queue'> & { Body: { receipt?: unknown; visibilityTimeoutSeconds?: unknown } }>(
    '/v1/queues/:queue/visibility',
    async (req, reply) => {
      const body = req.body ?? {};
      if (typeof body.receipt !== 'string') throw invalid('receipt must be a string');
      await ctx.queues.changeVisibility(
        req.params.queue,
        body.receipt,
        validate.visibilityTimeout(body.visibilityTimeoutSeconds),
      );
      return reply.code(204).send();
    },
  );

  app.delete<Params<'queue'>>('/v1/queues/:queue/messages', async (req) => {
    const purged = await ctx.queues.purge(req.params.queue);
    audit(req, 'queue.purge', req.params.queue);
    return { purged };
  });

  app.post<Params<'queue'> & { Body: { max?: unknown } | undefined }>('/v1/queues/:queue/redrive', async (req) => {
    const max = req.body?.max === undefined ? 10_000 : validate.limit(req.body.max, 10_000, 100_000);
    const moved = await ctx.queues.redrive(req.params.queue, max);
    audit(req, 'queue.redrive', req.params.queue);
    return { moved };
  });
}
