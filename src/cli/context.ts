/** Shared CLI plumbing: the client from global options, output, and error handling. */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { HeraldClient } from '../client/index.js';
import { HeraldError } from '../client/errors.js';
import type { MessageInput } from '../types.js';

export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function client(cmd: Command): HeraldClient {
  const g = globals(cmd);
  return new HeraldClient({ url: g.url, apiKey: g.apiKey });
}

/** Run an action with a client, print its result, and turn errors into exit codes. */
export function action<A extends unknown[]>(
  run: (c: HeraldClient, cmd: Command, ...args: A) => Promise<unknown>,
  print: (result: any, cmd: Command) => void = printJson,
) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const c = client(cmd);
    try {
      const result = await run(c, cmd, ...(args.slice(0, -1) as A));
      if (globals(cmd).json) printJson(result);
      else print(result, cmd);
    } catch (error) {
      if (error instanceof HeraldError) {
        process.stderr.write(`error: ${error.code}: ${error.message}\n`);
        process.exitCode = 1;
      } else throw error;
    } finally {
      await c.close();
    }
  };
}

export function printJson(result: unknown): void {
  if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

export function table(rows: Array<Record<string, unknown>>, columns: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n${cells.map(line).join('\n')}\n`);
}

export function number(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new InvalidArgumentError(`${flag} takes a number, got "${value}"`);
    return n;
  };
}

export function collectAttr(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--attr takes key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Options shared by publish and send for building a message. */
export function messageOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'read the body from a file')
    .option('-a, --attr <key=value>', 'attribute (repeatable)', collectAttr)
    .option('--delay <seconds>', 'delay delivery (0-900 s)', number('--delay'))
    .option('--idempotency-key <key>', 'a repeat within 5 minutes is not delivered again');
}

export async function readMessage(
  body: string | undefined,
  opts: { file?: string; attr?: Record<string, string>; delay?: number; idempotencyKey?: string },
): Promise<MessageInput> {
  let text = body;
  if (text === undefined && opts.file) text = readFileSync(opts.file, 'utf8');
  if (text === undefined && !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  if (text === undefined) throw new InvalidArgumentError('give the body as an argument, with --file, or on stdin');
  const message: MessageInput = { body: text };
  if (opts.attr) message.attributes = opts.attr;
  if (opts.delay !== undefined) message.delaySeconds = opts.delay;
  if (opts.idempotencyKey) message.idempotencyKey = opts.idempotencyKey;
  return message;
}
