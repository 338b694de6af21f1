import { Command } from 'commander';
import type { ReceivedMessage } from '../../types.js';
import { action, messageOptions, number, readMessage } from '../context.js';

export function publishCommand(): Command {
  return messageOptions(
    new Command('publish')
      .description('publish a message to a topic; prints its id')
      .argument('<topic>')
      .argument('[body]'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  herald publish orders \'{"order":42}\' --attr kind=created\n  echo hello | herald publish orders',
    )
    .action(
      action(
        async (c, cmd, topic: string, body?: string) => c.publish(topic, await readMessage(body, cmd.opts())),
        (r) => console.log(r.duplicate ? `${r.id} (duplicate)` : r.id),
      ),
    );
}

export function sendCommand(): Command {
  return messageOptions(
    new Command('send').description('send a message straight to a queue').argument('<queue>').argument('[body]'),
  ).action(
    action(
      async (c, cmd, queue: string, body?: string) => c.send(queue, await readMessage(body, cmd.opts())),
      (r) => console.log(r.id),
    ),
  );
}

export function receiveCommand(): Command {
  return new Command('receive')
    .description('receive messages from a queue (long polls with --wait)')
    .argument('<queue>')
    .option('--max <n>', 'at most this many (1-1000)', number('--max'), 1)
    .option('--wait <s>', 'wait up to this long for a message (0-20)', number('--wait'), 0)
    .option('--visibility-timeout <s>', 'hide received messages this long', number('--visibility-timeout'))
    .option('--ack', 'acknowledge (delete) the messages after printing them')
    .action(
      action(
        async (c, cmd, queue: string) => {
          const o = cmd.opts();
          const messages = await c.receive(queue, {
            max: o.max,
            waitSeconds: o.wait,
            visibilityTimeoutSeconds: o.visibilityTimeout,
          });
          if (o.ack && messages.length > 0)
            await c.ack(
              queue,
              messages.map((m) => m.receipt),
            );
          return { messages };
        },
        (r: { messages: ReceivedMessage[] }) => {
          if (r.messages.length === 0) console.log('(no messages)');
          for (const m of r.messages) {
            const attrs = Object.entries(m.attributes)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ');
            console.log(`${m.id}  received ${m.receiveCount}x  receipt ${m.receipt}${attrs ? `  ${attrs}` : ''}`);
            if (m.lastError) console.log(`  last error: ${m.lastError}`);
            console.log(`  ${m.body}`);
          }
        },
      ),
    );
}

export function ackCommand(): Command {
  return new Command('ack')
    .description('acknowledge (delete) received messages by receipt')
    .argument('<queue>')
    .argument('<receipts...>')
    .action(
      action(
        (c, _cmd, queue: string, receipts: string[]) => c.ack(queue, receipts),
        (r) => {
          console.log(`acked ${r.acked}`);
          for (const f of r.failed) console.log(`  not acked ${f.receipt}: ${f.error.message}`);
          if (r.failed.length) process.exitCode = 1;
        },
      ),
    );
}
