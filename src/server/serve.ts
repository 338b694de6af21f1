/** `herald serve`: run Herald in the foreground until SIGTERM/SIGINT, then stop cleanly. */
import type { ConfigOverrides } from '../config.js';
import { startHerald } from './herald.js';

export async function runServe(overrides: ConfigOverrides): Promise<void> {
  const herald = await startHerald(overrides);
  const { logger, config } = herald;
  const store = config.databaseUrl ? 'postgres' : 'sqlite';
  logger.info({ url: herald.url, store, dataDir: config.dataDir, role: config.role }, 'herald is listening');
  if (herald.apiKeyGenerated) {
    // Printed once, on the start that created it; it is kept in the data directory.
    process.stdout.write(
      `\nGenerated an API key (kept in ${config.dataDir}/api-key):\n\n  HERALD_API_KEY=${herald.apiKey}\n\n`,
    );
  }
  if (herald.aws) {
    logger.info({ url: herald.aws.url }, 'AWS front door (SQS, SNS) is listening');
    if (herald.aws.generated) {
      process.stdout.write(
        `\nGenerated AWS access keys for the SQS and SNS endpoint (kept in ${config.dataDir}/aws-credentials):\n\n` +
          `  AWS_ACCESS_KEY_ID=${herald.aws.accessKeyId}\n  AWS_SECRET_ACCESS_KEY=${herald.aws.secretAccessKey}\n` +
          `  AWS_ENDPOINT_URL=${herald.aws.url}\n\n`,
      );
    }
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    herald.close().then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
