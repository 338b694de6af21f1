/**
 * The `herald` program: global options, the commands, and `run(argv)`, which parses a
 * command line and resolves with the exit code (0 ok, 1 the request failed, 2 usage error).
 * `main.ts` runs it on the process; tests run it in-process with their own streams.
 */
import { Command, CommanderError, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigOverrides } from '../config.js';
import { ackCommand, publishCommand, receiveCommand, sendCommand } from './commands/messages.js';
import { queuesCommand, redriveCommand } from './commands/queues.js';
import { serveCommand } from './commands/serve.js';
import { attemptsCommand, subscribeCommand, subscriptionsCommand } from './commands/subscriptions.js';
import { topicsCommand } from './commands/topics.js';
import type { App } from './context.js';
import { processIo, type Io } from './output.js';

export interface RunOptions {
  io?: Io;
  /** Replaces the server for `herald serve` (tests). */
  serve?: (overrides: ConfigOverrides) => Promise<void>;
}

/** The server is loaded only for `herald serve`, so client commands start fast. */
async function runServe(overrides: ConfigOverrides): Promise<void> {
  const { runServe: serve } = await import('../server/serve.js');
  await serve(overrides);
}

export function buildProgram(app: App): Command {
  const program = new Command('herald')
    .description('Herald: durable pub/sub. Topics fan out to signed webhooks and queues.')
    .version(version(), '-V, --version', 'print the version')
    .addOption(
      new Option(
        '--url <url>',
        'Herald base URL; several comma-separated fail over (default http://127.0.0.1:8080)',
      ).env('HERALD_URL'),
    )
    .addOption(new Option('--api-key <key>', 'API key').env('HERALD_API_KEY'))
    .option('--json', 'print results as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ herald serve --data-dir ./data',
        '  $ herald topics create orders',
        '  $ herald queues create billing && herald subscribe orders billing',
        '  $ herald subscribe orders https://example.com/hooks/orders --dlq orders-dlq',
        `  $ herald publish orders '{"order":42}' --attr kind=created`,
        '  $ herald receive billing --wait 20 --ack',
        '',
        'Run "herald <command> --help" for the options of a command.',
      ].join('\n'),
    );

  for (const cmd of [
    serveCommand(app),
    topicsCommand(app),
    publishCommand(app),
    subscribeCommand(app),
    subscriptionsCommand(app),
    attemptsCommand(app),
    queuesCommand(app),
    sendCommand(app),
    receiveCommand(app),
    ackCommand(app),
    redriveCommand(app),
  ]) {
    program.addCommand(cmd);
  }
  configureTree(program, app.io);
  return program;
}

/** Commands added with addCommand do not inherit settings: give every command the same ones. */
function configureTree(cmd: Command, io: Io): void {
  cmd
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(s),
    });
  for (const sub of cmd.commands) configureTree(sub, io);
}

/** Parse `argv` (the arguments after `herald`) and run the command; resolves with the exit code. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<number> {
  const app: App = { io: opts.io ?? processIo, exitCode: 0, serve: opts.serve ?? runServe };
  const program = buildProgram(app);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // Commander already printed its message (or the help) through the configured output.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    app.io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return app.exitCode;
}

/** This package's version, from the nearest package.json up from this file. */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'herald' && pkg.version) return pkg.version;
      } catch {
        // Unreadable: keep looking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}
