import { Command } from 'commander';
import type { QueueConfig } from '../../types.js';
import { action, number, table } from '../context.js';

function configFrom(o: Record<string, unknown>): Partial<QueueConfig> {
  const cfg: Partial<QueueConfig> = {
    visibilityTimeoutSeconds: o.visibilityTimeout as number | undefined,
    delaySeconds: o.delay as number | undefined,
    retentionSeconds: o.retention as number | undefined,
    maxReceiveCount: o.maxReceiveCount as number | undefined,
    deadLetterQueue: o.dlq as string | undefined,
  };
  return Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined));
}

export function queuesCommand(): Command {
  const queues = new Command('queues').description('create, list, show, purge and delete queues');
  queues
    .command('create <name>')
    .description('create a queue (no-op when it exists with the same settings)')
    .option(
      '--visibility-timeout <s>',
      'seconds a received message stays hidden (default 30)',
      number('--visibility-timeout'),
    )
    .option('--delay <s>', 'default delay of new messages', number('--delay'))
    .option('--retention <s>', 'how long messages are kept (default 4 days)', number('--retention'))
    .option('--max-receive-count <n>', 'receives before a message moves to the DLQ', number('--max-receive-count'))
    .option('--dlq <queue>', 'dead-letter queue')
    .action(
      action(
        (c, cmd, name: string) => c.createQueue(name, configFrom(cmd.opts())),
        (q) => console.log(`queue ${q.name}`),
      ),
    );
  queues
    .command('list')
    .description('list queues')
    .action(
      action(
        (c) => c.listQueues(),
        (list) =>
          table(list, ['name', 'visibilityTimeoutSeconds', 'delaySeconds', 'maxReceiveCount', 'deadLetterQueue']),
      ),
    );
  queues
    .command('get <name>')
    .description('show a queue with its message counts')
    .action(
      action(
        (c, _cmd, name: string) => c.getQueue(name),
        (q) => {
          console.log(
            `${q.name}: ${q.stats.visible} visible, ${q.stats.inFlight} in flight, ${q.stats.delayed} delayed`,
          );
          console.log(
            `  visibility ${q.visibilityTimeoutSeconds}s, delay ${q.delaySeconds}s, retention ${q.retentionSeconds}s`,
          );
          if (q.deadLetterQueue) console.log(`  after ${q.maxReceiveCount} receives -> ${q.deadLetterQueue}`);
        },
      ),
    );
  queues
    .command('purge <name>')
    .description('delete every message in a queue')
    .action(
      action(
        (c, _cmd, name: string) => c.purge(name),
        (r) => console.log(`purged ${r.purged}`),
      ),
    );
  queues
    .command('delete <name>')
    .description('delete a queue and its messages')
    .action(
      action(
        async (c, _cmd, name: string) => void (await c.deleteQueue(name)),
        () => console.log('deleted'),
      ),
    );
  return queues;
}

export function redriveCommand(): Command {
  return new Command('redrive')
    .description('move messages from a dead-letter queue back to the queues or subscriptions they came from')
    .argument('<dlq>')
    .option('--max <n>', 'at most this many', number('--max'))
    .action(
      action(
        (c, cmd, dlq: string) => c.redrive(dlq, { max: cmd.opts().max }),
        (r) => console.log(`moved ${r.moved}`),
      ),
    );
}
