import { Command, Option } from 'commander';
import type { ConfigOverrides, Role } from '../../config.js';
import { runServe } from '../../server/serve.js';
import { number } from '../context.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the Herald server (embedded SQLite store in --data-dir)')
    .option('--port <n>', 'HTTP port (env HERALD_PORT, default 8080)', number('--port'))
    .option('--host <address>', 'listen address (env HERALD_HOST, default 0.0.0.0)')
    .option('--data-dir <dir>', 'data directory (env HERALD_DATA_DIR, default ./data)')
    .addOption(
      new Option('--role <role>', 'which parts to run (env HERALD_ROLE, default all)').choices([
        'all',
        'api',
        'delivery',
      ]),
    )
    .option('--log-level <level>', 'log level (env HERALD_LOG_LEVEL, default info)')
    .action(async (o: { port?: number; host?: string; dataDir?: string; role?: Role; logLevel?: string }) => {
      // Only what the user gave, so environment variables still apply to the rest.
      const overrides: ConfigOverrides = {};
      if (o.port !== undefined) overrides.port = o.port;
      if (o.host !== undefined) overrides.host = o.host;
      if (o.dataDir !== undefined) overrides.dataDir = o.dataDir;
      if (o.role !== undefined) overrides.role = o.role;
      if (o.logLevel !== undefined) overrides.logLevel = o.logLevel;
      try {
        await runServe(overrides);
      } catch (error) {
        process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      }
    });
}
