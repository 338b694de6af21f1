/** Moving messages: `herald publish`, `send`, `receive` and `ack`. */
import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { MessageInput, ReceivedMessage } from '../../types.js';
import { action, examples, UsageError, type App } from '../context.js';
import type { Io, Output } from '../output.js';
import { collectAttr, count, seconds } from '../options.js';

interface MessageFlags {
  file?: string;
  attr?: Record<string, string>;
  delay?: number;
  idempotencyKey?: string;
  group?: string;
  dedupId?: string;
}

/** The flags publish and send share for building a message. */
function messageOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'read the body from a file ("-" for stdin)')
    .option('-a, --attr <key=value>', 'message attribute (repeatable, at most 10)', collectAttr)
    .option('--delay <seconds>', 'make the message available only after this many seconds', seconds('--delay'))
    .option('--idempotency-key <key>', 'a repeat with the same key within the window is not accepted again')
    .option('--group <id>', 'message group (required on FIFO topics and queues)')
    .option('--dedup-id <id>', 'FIFO deduplication id (the same key as --idempotency-key)');
}

/** The body comes from the argument, else `--file`, else stdin when it is not a terminal. */
export async function readMessage(body: string | undefined, flags: MessageFlags, io: Io): Promise<MessageInput> {
  if (body !== undefined && flags.file !== undefined) throw new UsageError('give the body or --file, not both');
  let text = body;
  if (text === undefined && flags.file !== undefined && flags.file !== '-') {
    try {
      text = await readFile(flags.file, 'utf8');
    } catch (error) {
      throw new UsageError(`--file: cannot read ${flags.file}: ${(error as Error).message}`);
    }
  }
  if (text === undefined && (flags.file === '-' || !io.stdin.isTTY)) text = await readAll(io.stdin);
  if (text === undefined) throw new UsageError('give the message body as an argument, with --file, or on stdin');
  const message: MessageInput = { body: text };
  if (flags.attr) message.attributes = flags.attr;
  if (flags.delay !== undefined) message.delaySeconds = flags.delay;
  if (flags.idempotencyKey !== undefined) message.idempotencyKey = flags.idempotencyKey;
  if (flags.group !== undefined) message.messageGroupId = flags.group;
  if (flags.dedupId !== undefined) message.messageDeduplicationId = flags.dedupId;
  return message;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function publishCommand(app: App): Command {
  return messageOptions(
    new Command('publish')
      .description('publish a message to a topic (every subscription gets a copy); prints its id')
      .argument('<topic>', 'topic name')
      .argument('[body]', 'message body (default: --file, or stdin)'),
  )
    .addHelpText(
      'after',
      examples(
        `herald publish orders '{"order":42}' --attr kind=created --attr region=eu`,
        'herald publish orders --file order.json --idempotency-key order-42',
        'echo hello | herald publish orders',
      ),
    )
    .action(
      action<MessageFlags, [string, string | undefined]>(app, async ({ client, out, opts }, topic, body) => {
        const result = await client.publish(topic, await readMessage(body, opts, app.io));
        out.result(result, (r) => out.line(r.duplicate ? `${r.id} (duplicate)` : r.id));
      }),
    );
}

export function sendCommand(app: App): Command {
  return messageOptions(
    new Command('send')
      .description('send a message straight to a queue; prints its id')
      .argument('<queue>', 'queue name')
      .argument('[body]', 'message body (default: --file, or stdin)'),
  )
    .addHelpText(
      'after',
      examples(
        `herald send jobs '{"job":"resize"}' --attr priority=high`,
        'herald send jobs --file job.json --delay 60',
      ),
    )
    .action(
      action<MessageFlags, [string, string | undefined]>(app, async ({ client, out, opts }, queue, body) => {
        const result = await client.send(queue, await readMessage(body, opts, app.io));
        out.result(result, (r) => out.line(r.duplicate ? `${r.id} (duplicate)` : r.id));
      }),
    );
}

function printMessage(out: Output, m: ReceivedMessage): void {
  const attrs = Object.entries(m.attributes ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  out.line(`${m.id}  received ${m.receiveCount}x  receipt ${m.receipt}${attrs ? `  ${attrs}` : ''}`);
  const from = m.sourceQueue ?? (m.sourceSubscription ? `subscription ${m.sourceSubscription}` : undefined);
  if (from) out.line(`  dead-lettered from ${from}${m.topic ? ` (topic ${m.topic})` : ''}`);
  if (m.lastError) out.line(`  last error: ${m.lastError}`);
  out.line(`  ${m.body}`);
}

export function receiveCommand(app: App): Command {
  return new Command('receive')
    .description('receive messages from a queue; they stay hidden for the visibility timeout until acked')
    .argument('<queue>', 'queue name')
    .option('--max <n>', 'at most this many messages', count('--max', 1))
    .option('--wait <seconds>', 'long poll: wait up to this long for a message', seconds('--wait'))
    .option(
      '--visibility-timeout <seconds>',
      "hide received messages this long (default: the queue's)",
      seconds('--visibility-timeout'),
    )
    .option('--ack', 'acknowledge (delete) the messages after printing them')
    .addHelpText(
      'after',
      examples('herald receive jobs --max 10 --wait 20', 'herald receive jobs --ack', 'herald --json receive jobs'),
    )
    .action(
      action<{ max?: number; wait?: number; visibilityTimeout?: number; ack?: boolean }, [string]>(
        app,
        async ({ client, out, opts }, queue) => {
          const messages = await client.receive(queue, {
            max: opts.max,
            waitSeconds: opts.wait,
            visibilityTimeoutSeconds: opts.visibilityTimeout,
          });
          out.result({ messages }, (r) => {
            if (r.messages.length === 0) out.line('(no messages)');
            for (const m of r.messages) printMessage(out, m);
          });
          if (!opts.ack || messages.length === 0) return;
          const acked = await client.ack(
            queue,
            messages.map((m) => m.receipt),
          );
          for (const f of acked.failed) out.warn(`error: not acked ${f.receipt}: ${f.error.code}: ${f.error.message}`);
          if (acked.failed.length > 0) app.exitCode = 1;
        },
      ),
    );
}

export function ackCommand(app: App): Command {
  return new Command('ack')
    .description('acknowledge (delete) received messages by their receipts')
    .argument('<queue>', 'queue name')
    .argument('<receipt...>', 'receipts from receive')
    .addHelpText('after', examples('herald ack jobs <receipt> [<receipt>...]'))
    .action(
      action<Record<string, never>, [string, string[]]>(app, async ({ client, out }, queue, receipts) => {
        const result = await client.ack(queue, receipts);
        out.result(result, (r) => {
          out.line(`acked ${r.acked}`);
          for (const f of r.failed) out.warn(`error: not acked ${f.receipt}: ${f.error.code}: ${f.error.message}`);
        });
        if (result.failed.length > 0) app.exitCode = 1;
      }),
    );
}
