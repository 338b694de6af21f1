/** `herald queues create|list|get|delete|purge` and `herald redrive`. */
import { Command } from 'commander';
import type { QueueConfig } from '../../types.js';
import { action, examples, type App } from '../context.js';
import { count, seconds } from '../options.js';

interface QueueFlags {
  visibilityTimeout?: number;
  delay?: number;
  retention?: number;
  maxReceiveCount?: number;
  dlq?: string;
  contentBasedDedup?: boolean;
}

function configFrom(o: QueueFlags): Partial<QueueConfig> {
  const cfg: Partial<QueueConfig> = {};
  if (o.visibilityTimeout !== undefined) cfg.visibilityTimeoutSeconds = o.visibilityTimeout;
  if (o.delay !== undefined) cfg.delaySeconds = o.delay;
  if (o.retention !== undefined) cfg.retentionSeconds = o.retention;
  if (o.maxReceiveCount !== undefined) cfg.maxReceiveCount = o.maxReceiveCount;
  if (o.dlq !== undefined) cfg.deadLetterQueue = o.dlq;
  if (o.contentBasedDedup) cfg.contentBasedDeduplication = true;
  return cfg;
}

export function queuesCommand(app: App): Command {
  const queues = new Command('queues')
    .description('create, list, show, purge and delete queues')
    .addHelpText(
      'after',
      examples('herald queues create jobs --visibility-timeout 60', 'herald queues list', 'herald queues get jobs'),
    );

  queues
    .command('create')
    .description('create a queue (does nothing when it exists with the same settings)')
    .argument('<name>', 'queue name')
    .option(
      '--visibility-timeout <seconds>',
      'how long a received message stays hidden (default 30)',
      seconds('--visibility-timeout'),
    )
    .option('--delay <seconds>', 'delay of every new message (default 0)', seconds('--delay'))
    .option('--retention <seconds>', 'how long messages are kept (default 4 days)', seconds('--retention'))
    .option(
      '--max-receive-count <n>',
      'receives after which a message moves to the DLQ (0 = never)',
      count('--max-receive-count'),
    )
    .option('--dlq <queue>', 'dead-letter queue')
    .option('--content-based-dedup', 'FIFO queues (name ending in .fifo): deduplicate by the SHA-256 of the body')
    .addHelpText(
      'after',
      examples(
        'herald queues create jobs',
        'herald queues create jobs-dlq && herald queues create jobs --max-receive-count 5 --dlq jobs-dlq',
      ),
    )
    .action(
      action<QueueFlags>(app, async ({ client, out, opts }, name) => {
        out.result(await client.createQueue(name, configFrom(opts)), (q) => out.line(`queue ${q.name}`));
      }),
    );

  queues
    .command('list')
    .description('list queues')
    .addHelpText('after', examples('herald queues list', 'herald --json queues list'))
    .action(
      action(app, async ({ client, out }) => {
        out.result(await client.listQueues(), (list) =>
          out.table(list, ['name', 'visibilityTimeoutSeconds', 'delaySeconds', 'maxReceiveCount', 'deadLetterQueue']),
        );
      }),
    );

  queues
    .command('get')
    .description('show a queue with its message counts')
    .argument('<name>', 'queue name')
    .addHelpText('after', examples('herald queues get jobs'))
    .action(
      action(app, async ({ client, out }, name) => {
        out.result(await client.getQueue(name), (q) => {
          out.line(`${q.name}: ${q.stats.visible} visible, ${q.stats.inFlight} in flight, ${q.stats.delayed} delayed`);
          out.line(
            `  visibility timeout ${q.visibilityTimeoutSeconds}s, delay ${q.delaySeconds}s, retention ${q.retentionSeconds}s`,
          );
          if (q.deadLetterQueue) out.line(`  after ${q.maxReceiveCount} receives -> ${q.deadLetterQueue}`);
        });
      }),
    );

  queues
    .command('purge')
    .description('delete every message in a queue (the queue stays)')
    .argument('<name>', 'queue name')
    .addHelpText('after', examples('herald queues purge jobs'))
    .action(
      action(app, async ({ client, out }, name) => {
        out.result(await client.purge(name), (r) => out.line(`purged ${r.purged}`));
      }),
    );

  queues
    .command('delete')
    .description('delete a queue and its messages')
    .argument('<name>', 'queue name')
    .addHelpText('after', examples('herald queues delete jobs'))
    .action(
      action(app, async ({ client, out }, name) => {
        await client.deleteQueue(name);
        if (!out.json) out.line(`deleted queue ${name}`);
      }),
    );

  return queues;
}

export function redriveCommand(app: App): Command {
  return new Command('redrive')
    .description('move messages of a dead-letter queue back to the queues or subscriptions they came from')
    .argument('<dlq>', 'dead-letter queue name')
    .option('--max <n>', 'at most this many messages', count('--max', 1))
    .addHelpText('after', examples('herald redrive jobs-dlq', 'herald redrive orders-dlq --max 100'))
    .action(
      action<{ max?: number }>(app, async ({ client, out, opts }, dlq) => {
        out.result(await client.redrive(dlq, { max: opts.max }), (r) => out.line(`moved ${r.moved}`));
      }),
    );
}
