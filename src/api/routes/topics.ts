import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../errors.js';
import * as validate from '../../validation.js';
import { audit, type ApiContext, type Params } from '../context.js';

export function topicRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put<Params<'topic'>>('/v1/topics/:topic', async (req, reply) => {
    const { topic, created } = await ctx.topics.create(req.params.topic);
    if (created) audit(req, 'topic.create', topic.name);
    return reply.code(created ? 201 : 200).send(topic);
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

  app.post<Params<'topic'>>('/v1/topics/:topic/messages', async (req, reply) => {
    const message = validate.message(req.body, ctx.config.maxMessageBytes);
    const [result] = await ctx.topics.publish(req.params.topic, [message]);
    if ('error' in result) throw new HeraldError('invalid_request', result.error.message);
    return reply.code(201).send(result.duplicate ? { id: result.id, duplicate: true } : { id: result.id });
  });

  app.post<Params<'topic'>>('/v1/topics/:topic/messages/batch', async (req) => {
    const entries = validate.batch(req.body, ctx.config.maxMessageBytes);
    return { results: await acceptBatch(entries, (valid) => ctx.topics.publish(req.params.topic, valid)) };
  });
}

type Accepted = { id: string; duplicate?: boolean } | { error: { code: string; message: string } };

/**
 * Accept the valid entries of a batch in one commit and report every entry in order:
 * an invalid entry gets its own error and does not fail the others.
 */
export async function acceptBatch(
  entries: Array<validate.ValidMessage | HeraldError>,
  accept: (valid: validate.ValidMessage[]) => Promise<Array<{ id: string; duplicate: boolean } | { error: { code: string; message: string } }>>,
): Promise<Accepted[]> {
  const valid = entries.filter((e): e is validate.ValidMessage => !(e instanceof HeraldError));
  const accepted = valid.length > 0 ? await accept(valid) : [];
  let next = 0;
  return entries.map((e): Accepted => {
    if (e instanceof HeraldError) return { error: { code: e.code, message: e.message } };
    const r = accepted[next++];
    if ('error' in r) return r;
    return r.duplicate ? { id: r.id, duplicate: true } : { id: r.id };
  });
}
