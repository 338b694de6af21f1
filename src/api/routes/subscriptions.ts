import type { FastifyInstance } from 'fastify';
import { invalid } from '../../errors.js';
import * as validate from '../../validation.js';
import { audit, type ApiContext, type Params } from '../context.js';
import type { SubscribeInput, SubscriptionPatch } from '../../topics/subscriptions.js';

export function subscriptionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<Params<'topic'> & { Body: SubscribeInput }>('/v1/topics/:topic/subscriptions', async (req, reply) => {
    const sub = await ctx.subscriptions.subscribe(req.params.topic, req.body ?? {});
    audit(req, 'subscription.create', `${sub.topic}/${sub.id}`);
    return reply.code(201).send(sub);
  });

  app.get<Params<'topic'>>('/v1/topics/:topic/subscriptions', async (req) => ({
    subscriptions: await ctx.subscriptions.list(req.params.topic),
  }));

  app.get<Params<'id'>>('/v1/subscriptions/:id', (req) => ctx.subscriptions.get(req.params.id));

  app.patch<Params<'id'> & { Body: SubscriptionPatch }>('/v1/subscriptions/:id', async (req) => {
    const sub = await ctx.subscriptions.update(req.params.id, req.body ?? {});
    audit(req, 'subscription.update', sub.id);
    return sub;
  });

  app.delete<Params<'id'>>('/v1/subscriptions/:id', async (req, reply) => {
    await ctx.subscriptions.delete(req.params.id);
    audit(req, 'subscription.delete', req.params.id);
    return reply.code(204).send();
  });

  app.get<Params<'id'> & { Querystring: { messageId?: string; limit?: string; cursor?: string } }>(
    '/v1/subscriptions/:id/attempts',
    async (req) => {
      await ctx.subscriptions.get(req.params.id);
      return ctx.store.listAttempts({
        subscriptionId: req.params.id,
        messageId: req.query.messageId,
        limit: validate.limit(req.query.limit),
        cursor: req.query.cursor,
      });
    },
  );

  app.get<Params<'id'> & { Querystring: { limit?: string; cursor?: string } }>('/v1/messages/:id/attempts', (req) =>
    ctx.store.listAttempts({
      messageId: req.params.id,
      limit: validate.limit(req.query.limit),
      cursor: req.query.cursor,
    }),
  );

  app.get<Params<'id'> & { Querystring: { state?: string; limit?: string; cursor?: string } }>(
    '/v1/subscriptions/:id/deliveries',
    async (req) => {
      await ctx.subscriptions.get(req.params.id);
      const state = req.query.state ?? 'pending';
      if (state !== 'pending' && state !== 'failed') throw invalid('state must be "pending" or "failed"');
      return ctx.store.listDeliveries(req.params.id, state, validate.limit(req.query.limit), req.query.cursor);
    },
  );

  app.post<Params<'id'>>('/v1/subscriptions/:id/retry-failed', async (req) => {
    const retried = await ctx.subscriptions.retryFailed(req.params.id);
    audit(req, 'subscription.retry-failed', req.params.id);
    return { retried };
  });
}
