/** `herald serve`: run the server in the foreground. */
import { Command, Option } from 'commander';
import type { ConfigOverrides, Role } from '../../config.js';
import { examples, type App } from '../context.js';
import { numberArg } from '../options.js';

interface ServeFlags {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  role?: Role;
  logLevel?: string;
  redisUrl?: string;
  awsPort?: number | 'off';
}

/** Only the flags the user gave, so HERALD_* environment variables still apply to the rest. */
export function serveOverrides(o: ServeFlags): ConfigOverrides {
  const overrides: ConfigOverrides = {};
  if (o.port !== undefined) overrides.port = o.port;
  if (o.host !== undefined) overrides.host = o.host;
  if (o.dataDir !== undefined) overrides.dataDir = o.dataDir;
  if (o.databaseUrl !== undefined) overrides.databaseUrl = o.databaseUrl;
  if (o.role !== undefined) overrides.role = o.role;
  if (o.logLevel !== undefined) overrides.logLevel = o.logLevel;
  if (o.redisUrl !== undefined) overrides.redisUrl = o.redisUrl;
  if (o.awsPort !== undefined) overrides.aws = { port: o.awsPort === 'off' ? null : o.awsPort };
  return overrides;
}

const portArg = numberArg('--aws-port', { integer: true, max: 65535 });
const awsPortArg = (value: string): number | 'off' => (value === 'off' ? 'off' : portArg(value));

export function serveCommand(app: App): Command {
  return new Command('serve')
    .description(
      'run the Herald server in the foreground (SQLite store in --data-dir, or PostgreSQL with --database-url) until SIGTERM or SIGINT',
    )
    .option(
      '--port <n>',
      'HTTP port (env HERALD_PORT, default 8080)',
      numberArg('--port', { integer: true, max: 65535 }),
    )
    .option('--host <address>', 'listen address (env HERALD_HOST, default 0.0.0.0)')
    .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./data)')
    .option(
      '--database-url <url>',
      'PostgreSQL URL shared by several nodes, postgres://user@host/db[?schema=name] (env HERALD_DATABASE_URL; default: SQLite in --data-dir)',
    )
    .addOption(
      new Option('--role <role>', 'which parts to run (env HERALD_ROLE, default all)').choices([
        'all',
        'api',
        'delivery',
      ]),
    )
    .option(
      '--aws-port <n>',
      'port of the AWS-compatible SQS and SNS endpoint (env HERALD_AWS_PORT, default 4566; 0 picks a free port, "off" disables it)',
      awsPortArg,
    )
    .option('--redis-url <url>', 'Redis for signals between nodes (env HERALD_REDIS_URL; optional)')
    .addOption(
      new Option('--log-level <level>', 'log level (env HERALD_LOG_LEVEL, default info)').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addHelpText(
      'after',
      examples(
        'herald serve',
        'herald serve --port 9000 --data-dir /var/lib/herald',
        'herald serve --database-url postgres://herald@db:5432/herald',
        'herald serve --aws-port 9324',
        'HERALD_API_KEY=secret herald serve --role api',
      ),
    )
    .action(async (o: ServeFlags) => {
      try {
        await app.serve(serveOverrides(o));
      } catch (error) {
        app.io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        app.exitCode = 1;
      }
    });
}
