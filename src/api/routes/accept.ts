/**
 * The two message-accepting routes, shared by topics (publish) and queues (send):
 * `POST {base}/messages` answers 201 with the id once the message is durable, and
 * `POST {base}/messages/batch` reports every entry in order, so one bad entry does not
 * fail the others.
 */
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../../errors.js';
import type { AcceptResult } from '../../store/store.js';
import * as validate from '../../validation.js';
import type { ApiContext } from '../context.js';

type Accepted =
  { id: string; duplicate?: boolean; sequenceNumber?: string } | { error: { code: string; message: string } };
type Accept = (name: string, messages: validate.ValidMessage[]) => Promise<AcceptResult[]>;

// A duplicate answers the first message's id and, on FIFO topics and queues, its number.
const answer = (r: { id: string; duplicate: boolean; sequenceNumber?: string }): Accepted => {
  const out: Accepted = r.sequenceNumber ? { id: r.id, sequenceNumber: r.sequenceNumber } : { id: r.id };
  if (r.duplicate) out.duplicate = true;
  return out;
};

export function acceptRoutes(app: FastifyInstance, ctx: ApiContext, base: string, param: string, accept: Accept): void {
  app.post<{ Params: Record<string, string> }>(`${base}/messages`, async (req, reply) => {
    const message = validate.message(req.body, ctx.config.maxMessageBytes);
    const [result] = await accept(req.params[param], [message]);
    if ('error' in result) throw new HeraldError('invalid_request', result.error.message);
    return reply.code(201).send(answer(result));
  });

  app.post<{ Params: Record<string, string> }>(`${base}/messages/batch`, async (req) => {
    const entries = validate.batch(req.body, ctx.config.maxMessageBytes);
    const valid = entries.filter((e): e is validate.ValidMessage => !(e instanceof HeraldError));
    const accepted = valid.length > 0 ? await accept(req.params[param], valid) : [];
    let next = 0;
    const results = entries.map((e): Accepted => {
      if (e instanceof HeraldError) return { error: { code: e.code, message: e.message } };
      const r = accepted[next++];
      return 'error' in r ? r : answer(r);
    });
    return { results };
  });
}
