import type { FastifyInstance } from 'fastify';
import * as validate from '../../validation.js';
import { audit, type ApiContext, type Params } from '../context.js';
import { acceptRoutes } from './accept.js';

export function topicRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put<Params<'topic'>>('/v1/topics/:topic', async (req, reply) => {
    const { topic, created } = await ctx.topics.create(req.params.topic, req.body);
    if (created) audit(req, 'topic.create', topic.name);
    return reply.code(created ? 201 : 200).send(topic);
  });

  app.patch<Params<'topic'>>('/v1/topics/:topic', async (req) => {
    const topic = await ctx.topics.update(req.params.topic, req.body);
    audit(req, 'topic.update', topic.name);
    return topic;
  });

  app.get<{ Querystring: { limit?: string; cursor?: string } }>('/v1/topics', async (req) => {
    const limit = validate.limit(req.query.limit);
    const topics = await ctx.topics.list(limit + 1, req.query.cursor);
    const page = topics.slice(0, limit);
    return topics.length > limit ? { topics: page, next: page[page.length - 1].name } : { topics: page };
  });

  app.get<Params<'topic'>>('/v1/topics/:topic', (req) => ctx.topics.get(req.params.topic));

  app.delete<Params<'topic'>>('/v1/topics/:topic', async (req, reply) => {
    await ctx.topics.delete(req.params.topic);
    audit(req, 'topic.delete', req.params.topic);
    return reply.code(204).send();
  });

  acceptRoutes(app, ctx, '/v1/topics/:topic', 'topic', (topic, messages) => ctx.topics.publish(topic, messages));
}
