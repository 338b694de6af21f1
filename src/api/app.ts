/**
 * The HTTP front end (the seeds' "FrontEnd service"): validation, authentication,
 * throttling, error mapping, and the native REST routes under /v1.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installAuth, installThrottle } from './auth.js';
import type { ApiContext } from './context.js';
import { installErrorHandling } from './errors.js';
import { opsRoutes } from './routes/ops.js';
import { queueRoutes } from './routes/queues.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { topicRoutes } from './routes/topics.js';

/** The HTTP server settings both front doors share (the native API and the AWS one). */
export function serverOptions(logger: Logger, bodyLimitBytes: number) {
  return {
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per request would dominate at publish rates; errors and audit entries are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    // Long polls hold requests for up to 20 s; keep idle keep-alive sockets a bit longer.
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
    return503OnClosing: true,
    forceCloseConnections: 'idle' as const,
  };
}

export function buildApp(ctx: ApiContext, logger: Logger): FastifyInstance {
  const app: FastifyInstance = Fastify(serverOptions(logger, ctx.config.bodyLimitBytes));
  installErrorHandling(app);
  installAuth(app, ctx.config.apiKey);
  installThrottle(app, ctx.config.rateLimitPerSecond);
  opsRoutes(app, ctx);
  // A delivery node only sends: it answers health checks and metrics, not the API.
  if (ctx.config.role !== 'delivery') {
    topicRoutes(app, ctx);
    subscriptionRoutes(app, ctx);
    queueRoutes(app, ctx);
  }
  return app;
}
