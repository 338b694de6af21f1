import { Command } from 'commander';
import type { Topic } from '../../types.js';
import { action, table } from '../context.js';

export function topicsCommand(): Command {
  const topics = new Command('topics').description('create, list, show and delete topics');
  topics
    .command('create <name>')
    .description('create a topic (no-op when it exists)')
    .action(
      action(
        (c, _cmd, name: string) => c.createTopic(name),
        (t: Topic) => console.log(`topic ${t.name}`),
      ),
    );
  topics
    .command('list')
    .description('list topics')
    .option('--limit <n>', 'page size', '100')
    .option('--cursor <name>', 'continue after this topic')
    .action(
      action(
        (c, cmd) => {
          const o = cmd.opts();
          return c.listTopics({ limit: Number(o.limit), cursor: o.cursor });
        },
        (r: { topics: Topic[]; next?: string }) => {
          table(r.topics as unknown as Array<Record<string, unknown>>, ['name', 'createdAt']);
          if (r.next) console.log(`more: --cursor ${r.next}`);
        },
      ),
    );
  topics
    .command('get <name>')
    .description('show a topic and its subscription count')
    .action(
      action(
        (c, _cmd, name: string) => c.getTopic(name),
        (t) => console.log(`${t.name}  created ${t.createdAt}  subscriptions ${t.subscriptions}`),
      ),
    );
  topics
    .command('delete <name>')
    .description('delete a topic with its subscriptions and pending deliveries')
    .action(
      action(
        async (c, _cmd, name: string) => void (await c.deleteTopic(name)),
        () => console.log('deleted'),
      ),
    );
  return topics;
}
