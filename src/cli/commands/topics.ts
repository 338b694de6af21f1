/** `herald topics create|list|get|delete`. */
import { Command } from 'commander';
import { action, examples, type App } from '../context.js';
import { count } from '../options.js';

export function topicsCommand(app: App): Command {
  const topics = new Command('topics')
    .description('create, list, show and delete topics')
    .addHelpText('after', examples('herald topics create orders', 'herald topics list', 'herald topics get orders'));

  topics
    .command('create')
    .description('create a topic (does nothing when it exists)')
    .argument('<name>', 'topic name (ending in .fifo for a FIFO topic)')
    .option('--content-based-dedup', 'FIFO topics: deduplicate by the SHA-256 of the body')
    .addHelpText(
      'after',
      examples('herald topics create orders', 'herald topics create orders.fifo --content-based-dedup'),
    )
    .action(
      action<{ contentBasedDedup?: boolean }>(app, async ({ client, out, opts }, name) => {
        const config = opts.contentBasedDedup ? { contentBasedDeduplication: true } : {};
        out.result(await client.createTopic(name, config), (t) => out.line(`topic ${t.name}`));
      }),
    );

  topics
    .command('list')
    .description('list topics in name order, a page at a time')
    .option('--limit <n>', 'page size', count('--limit', 1))
    .option('--cursor <cursor>', 'continue where the previous page ended')
    .addHelpText('after', examples('herald topics list', 'herald topics list --limit 10 --cursor orders'))
    .action(
      action<{ limit?: number; cursor?: string }>(app, async ({ client, out, opts }) => {
        const page = await client.listTopics({ limit: opts.limit, cursor: opts.cursor });
        out.result(page, (p) => {
          out.table(p.topics, ['name', 'createdAt']);
          if (p.next) out.line(`more: --cursor ${p.next}`);
        });
      }),
    );

  topics
    .command('get')
    .description('show a topic and how many subscriptions it has')
    .argument('<name>', 'topic name')
    .addHelpText('after', examples('herald topics get orders'))
    .action(
      action(app, async ({ client, out }, name) => {
        out.result(await client.getTopic(name), (t) =>
          out.line(`${t.name}  created ${t.createdAt}  subscriptions ${t.subscriptions}`),
        );
      }),
    );

  topics
    .command('delete')
    .description('delete a topic with its subscriptions and their pending deliveries')
    .argument('<name>', 'topic name')
    .addHelpText('after', examples('herald topics delete orders'))
    .action(
      action(app, async ({ client, out }, name) => {
        await client.deleteTopic(name);
        if (!out.json) out.line(`deleted topic ${name}`);
      }),
    );

  return topics;
}
