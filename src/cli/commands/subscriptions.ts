import { Command, InvalidArgumentError, Option } from 'commander';
import type { PolicyInput } from '../../client/index.js';
import type { Attempt, Delivery, Protocol, Subscription } from '../../types.js';
import { action, number, table } from '../context.js';

/** Delivery-policy flags shared by `subscribe` and `subscriptions update`. */
function policyOptions(cmd: Command): Command {
  return cmd
    .option('--max-attempts <n>', 'attempts before dead-lettering (default 10)', number('--max-attempts'))
    .option('--backoff-initial <s>', 'first retry delay in seconds (default 1)', number('--backoff-initial'))
    .option('--backoff-max <s>', 'longest retry delay in seconds (default 300)', number('--backoff-max'))
    .option('--backoff-multiplier <x>', 'growth per attempt (default 2)', number('--backoff-multiplier'))
    .option('--timeout <s>', 'per-attempt timeout in seconds (default 15)', number('--timeout'))
    .option('--max-per-second <n>', 'rate limit, deliveries per second (0 = unlimited)', number('--max-per-second'))
    .option('--max-concurrency <n>', 'requests in flight at once (default 50)', number('--max-concurrency'));
}

function policyFrom(o: Record<string, number | undefined>): PolicyInput | undefined {
  const backoff = { initialSeconds: o.backoffInitial, maxSeconds: o.backoffMax, multiplier: o.backoffMultiplier };
  const policy: PolicyInput = {
    maxAttempts: o.maxAttempts,
    timeoutSeconds: o.timeout,
    maxPerSecond: o.maxPerSecond,
    maxConcurrency: o.maxConcurrency,
    backoff: Object.values(backoff).some((v) => v !== undefined) ? backoff : undefined,
  };
  const defined = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
  return Object.keys(defined).length ? (defined as PolicyInput) : undefined;
}

export function inferProtocol(endpoint: string): Protocol {
  if (endpoint.startsWith('http://')) return 'http';
  if (endpoint.startsWith('https://')) return 'https';
  return 'queue';
}

const printSub = (s: Subscription) => {
  console.log(`subscription ${s.id}`);
  console.log(
    `  ${s.protocol} ${s.endpoint}${s.raw ? ' (raw)' : ''}  ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`,
  );
  if (s.secret) console.log(`  signing secret: ${s.secret}`);
  if (s.deadLetterQueue) console.log(`  dead-letter queue: ${s.deadLetterQueue}`);
  if (s.protocol === 'queue') return; // copies into a queue are not retried: no policy applies
  const p = s.deliveryPolicy;
  console.log(
    `  policy: ${p.maxAttempts} attempts, backoff ${p.backoff.initialSeconds}s x${p.backoff.multiplier} up to ${p.backoff.maxSeconds}s, timeout ${p.timeoutSeconds}s, ` +
      `${p.maxPerSecond ? `${p.maxPerSecond}/s` : 'no rate limit'}, ${p.maxConcurrency} in flight`,
  );
};

export function subscribeCommand(): Command {
  return policyOptions(
    new Command('subscribe')
      .description('subscribe an endpoint (URL or queue name) to a topic; prints the signing secret')
      .argument('<topic>')
      .argument('<endpoint>', 'http(s):// URL for a webhook, or a Herald queue name')
      .addOption(
        new Option('--protocol <protocol>', 'http, https or queue (inferred from the endpoint)').choices([
          'http',
          'https',
          'queue',
        ]),
      )
      .option('--raw', 'deliver the bare body (attributes as headers) instead of the JSON envelope')
      .option('--dlq <queue>', 'dead-letter queue for messages whose attempts run out'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  herald subscribe orders https://example.test/hook --dlq orders-dlq --max-attempts 5\n  herald subscribe orders billing-queue',
    )
    .action(
      action((c, cmd, topic: string, endpoint: string) => {
        const o = cmd.opts();
        return c.subscribe(topic, {
          protocol: (o.protocol as Protocol | undefined) ?? inferProtocol(endpoint),
          endpoint,
          raw: o.raw ? true : undefined,
          deadLetterQueue: o.dlq,
          deliveryPolicy: policyFrom(o),
        });
      }, printSub),
    );
}

export function subscriptionsCommand(): Command {
  const subs = new Command('subscriptions').description('list, show, change and delete subscriptions');
  subs
    .command('list <topic>')
    .description("list a topic's subscriptions")
    .action(
      action(
        (c, _cmd, topic: string) => c.listSubscriptions(topic),
        (list: Subscription[]) =>
          table(list as unknown as Array<Record<string, unknown>>, [
            'id',
            'protocol',
            'endpoint',
            'raw',
            'status',
            'deadLetterQueue',
          ]),
      ),
    );
  subs
    .command('get <id>')
    .description('show a subscription')
    .action(action((c, _cmd, id: string) => c.getSubscription(id), printSub));
  subs
    .command('delete <id>')
    .description('delete a subscription and its pending deliveries')
    .action(
      action(
        async (c, _cmd, id: string) => void (await c.unsubscribe(id)),
        () => console.log('deleted'),
      ),
    );
  policyOptions(
    subs
      .command('update <id>')
      .description('change a subscription')
      .option('--endpoint <endpoint>', 'new endpoint')
      .option('--raw', 'deliver bare bodies')
      .option('--no-raw', 'deliver the JSON envelope')
      .option('--dlq <queue>', 'dead-letter queue ("none" removes it)')
      .option('--enable', 'resume delivery')
      .option('--disable', 'pause delivery (deliveries wait)'),
  ).action(
    action((c, cmd, id: string) => {
      const o = cmd.opts();
      if (o.enable && o.disable) throw new InvalidArgumentError('--enable and --disable exclude each other');
      return c.updateSubscription(id, {
        endpoint: o.endpoint,
        raw: cmd.getOptionValueSource('raw') === 'cli' ? Boolean(o.raw) : undefined,
        deadLetterQueue: o.dlq === undefined ? undefined : o.dlq === 'none' ? null : o.dlq,
        status: o.enable ? 'active' : o.disable ? 'disabled' : undefined,
        deliveryPolicy: policyFrom(o),
      });
    }, printSub),
  );
  subs
    .command('deliveries <id>')
    .description('list pending or failed deliveries of a subscription')
    .addOption(new Option('--state <state>', 'pending or failed').choices(['pending', 'failed']).default('pending'))
    .option('--limit <n>', 'page size', number('--limit'), 100)
    .action(
      action(
        (c, cmd, id: string) => c.listDeliveries(id, { state: cmd.opts().state, limit: cmd.opts().limit }),
        (r: { deliveries: Delivery[] }) =>
          table(r.deliveries as unknown as Array<Record<string, unknown>>, [
            'id',
            'messageId',
            'state',
            'attempts',
            'nextAttemptAt',
            'lastError',
          ]),
      ),
    );
  subs
    .command('retry-failed <id>')
    .description('give failed deliveries of a subscription a fresh set of attempts')
    .action(
      action(
        (c, _cmd, id: string) => c.retryFailed(id),
        (r: { retried: number }) => console.log(`retrying ${r.retried}`),
      ),
    );
  return subs;
}

export function attemptsCommand(): Command {
  return new Command('attempts')
    .description('show the attempt log of a subscription, newest first')
    .argument('<subscriptionId>')
    .option('--message <id>', 'only this message')
    .option('--limit <n>', 'how many', number('--limit'), 50)
    .action(
      action(
        (c, cmd, id: string) => c.listAttempts(id, { messageId: cmd.opts().message, limit: cmd.opts().limit }),
        (r: { attempts: Attempt[] }) =>
          table(
            r.attempts.map((a) => ({ ...a, latency: `${a.latencyMs} ms`, result: a.ok ? 'ok' : a.errorClass })),
            ['at', 'messageId', 'attempt', 'status', 'latency', 'result', 'error'],
          ),
      ),
    );
}
