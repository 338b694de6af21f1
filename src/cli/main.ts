#!/usr/bin/env node
/** The `herald` command: runs the server, and drives a running one through the typed client. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ackCommand, publishCommand, receiveCommand, sendCommand } from './commands/messages.js';
import { queuesCommand, redriveCommand } from './commands/queues.js';
import { serveCommand } from './commands/serve.js';
import { attemptsCommand, subscribeCommand, subscriptionsCommand } from './commands/subscriptions.js';
import { topicsCommand } from './commands/topics.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('herald')
    .description('Herald: durable pub/sub with topics, signed webhooks and queues')
    .version(version(), '-V, --version')
    .option('--url <url>', 'Herald base URL; several comma-separated (env HERALD_URL, default http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key (env HERALD_API_KEY)')
    .option('--json', 'print results as JSON')
    .showHelpAfterError()
    .exitOverride((err) => {
      // Usage errors exit 2; help and version exit 0.
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    .configureOutput({ outputError: (str, write) => write(str) });
  for (const cmd of [
    serveCommand(),
    topicsCommand(),
    publishCommand(),
    subscribeCommand(),
    subscriptionsCommand(),
    attemptsCommand(),
    queuesCommand(),
    sendCommand(),
    receiveCommand(),
    ackCommand(),
    redriveCommand(),
  ]) {
    program.addCommand(cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)));
  }
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error) => {
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error?.code?.startsWith?.('commander.') ? 2 : 1);
  });
