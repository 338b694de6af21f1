import type { FastifyRequest } from 'fastify';
import type { HeraldConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Queues } from '../queues/queues.js';
import type { Store } from '../store/store.js';
import type { Subscriptions } from '../topics/subscriptions.js';
import type { Topics } from '../topics/topics.js';

/** What the routes need from the domain. */
export interface ApiContext {
  config: HeraldConfig;
  store: Store;
  topics: Topics;
  subscriptions: Subscriptions;
  queues: Queues;
  metrics: Metrics;
  /** Ready to serve: store open and not shutting down. */
  ready(): boolean;
}

/** Audit trail for changes to resources (not for every publish: that is what metrics are for). */
export function audit(req: FastifyRequest, action: string, resource: string): void {
  req.log.info({ audit: { action, resource, ip: req.ip } }, `audit ${action} ${resource}`);
}

export type Params<K extends string> = { Params: Record<K, string> };
