/**
 * What every command shares: the run's streams and exit code, the client built from the
 * global options (`--url`, `--api-key`), and the action wrapper that prints results and
 * turns errors into exit codes (1: the request failed, 2: the command line is wrong).
 */
import type { Command } from 'commander';
import { HeraldClient, HeraldError } from '../client/index.js';
import type { ConfigOverrides } from '../config.js';
import { Output, type Io } from './output.js';

/** One run of the CLI. */
export interface App {
  io: Io;
  /** What the run exits with; actions raise it. */
  exitCode: number;
  /** Runs the server for `herald serve` (replaceable in tests). */
  serve(overrides: ConfigOverrides): Promise<void>;
}

export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** A command line that cannot work (exit 2), found after commander parsed it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** The client for the global options; unset ones fall back to HERALD_URL / HERALD_API_KEY. */
export function clientFor(cmd: Command): HeraldClient {
  const g = globals(cmd);
  try {
    return new HeraldClient({ url: g.url, apiKey: g.apiKey });
  } catch (error) {
    throw new UsageError(`--url: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export interface ActionContext<O> {
  client: HeraldClient;
  out: Output;
  /** The command's own options. */
  opts: O;
  cmd: Command;
  app: App;
}

/**
 * A commander action that runs `run` with a client and an output, then closes the client.
 * A HeraldError prints `error: <code>: <message>` and exits 1 (no stack trace); a UsageError
 * exits 2 like commander's own usage errors.
 */
export function action<O = Record<string, unknown>, A extends unknown[] = string[]>(
  app: App,
  run: (ctx: ActionContext<O>, ...args: A) => Promise<void>,
) {
  return async (...params: unknown[]): Promise<void> => {
    // Commander calls actions with (...arguments, options, command).
    const cmd = params[params.length - 1] as Command;
    const args = params.slice(0, -2) as A;
    let client: HeraldClient | undefined;
    try {
      client = clientFor(cmd);
      const out = new Output(app.io, Boolean(globals(cmd).json));
      await run({ client, out, opts: cmd.opts<O & Record<string, unknown>>(), cmd, app }, ...args);
    } catch (error) {
      if (error instanceof HeraldError) {
        app.io.err(`error: ${error.code}: ${error.message}\n`);
        app.exitCode = 1;
      } else if (error instanceof UsageError) {
        cmd.error(`error: ${error.message}`, { exitCode: 2, code: 'herald.usage' });
      } else {
        throw error;
      }
    } finally {
      await client?.close();
    }
  };
}

/** Help text with examples, appended after the options. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
