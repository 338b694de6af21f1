/** `herald subscribe`, `herald subscriptions ...` and `herald attempts`. */
import { Command, Option } from 'commander';
import type { PolicyInput, SubscriptionPatch } from '../../client/index.js';
import type { Protocol, Subscription } from '../../types.js';
import { action, examples, UsageError, type App } from '../context.js';
import type { Output } from '../output.js';
import { count, numberArg, seconds } from '../options.js';

interface PolicyFlags {
  maxAttempts?: number;
  backoffInitial?: number;
  backoffMax?: number;
  backoffMultiplier?: number;
  timeout?: number;
  maxPerSecond?: number;
  maxConcurrency?: number;
}

/** Delivery-policy flags shared by `subscribe` and `subscriptions update`. */
function policyOptions(cmd: Command): Command {
  return cmd
    .option(
      '--max-attempts <n>',
      'attempts, the first included, before giving up (default 10)',
      count('--max-attempts', 1),
    )
    .option('--backoff-initial <seconds>', 'first retry delay (default 1)', seconds('--backoff-initial'))
    .option('--backoff-max <seconds>', 'longest retry delay (default 300)', seconds('--backoff-max'))
    .option(
      '--backoff-multiplier <x>',
      'retry delay growth per attempt (default 2)',
      numberArg('--backoff-multiplier', { min: 1 }),
    )
    .option('--timeout <seconds>', 'per-attempt HTTP timeout (default 15)', seconds('--timeout'))
    .option('--max-per-second <n>', 'rate limit, deliveries per second (0 = unlimited)', seconds('--max-per-second'))
    .option('--max-concurrency <n>', 'requests in flight at once (default 50)', count('--max-concurrency', 1));
}

/** The policy fields the user gave, or undefined when none. */
export function policyFrom(o: PolicyFlags): PolicyInput | undefined {
  const policy: PolicyInput = {};
  if (o.maxAttempts !== undefined) policy.maxAttempts = o.maxAttempts;
  if (o.timeout !== undefined) policy.timeoutSeconds = o.timeout;
  if (o.maxPerSecond !== undefined) policy.maxPerSecond = o.maxPerSecond;
  if (o.maxConcurrency !== undefined) policy.maxConcurrency = o.maxConcurrency;
  const backoff: NonNullable<PolicyInput['backoff']> = {};
  if (o.backoffInitial !== undefined) backoff.initialSeconds = o.backoffInitial;
  if (o.backoffMax !== undefined) backoff.maxSeconds = o.backoffMax;
  if (o.backoffMultiplier !== undefined) backoff.multiplier = o.backoffMultiplier;
  if (Object.keys(backoff).length > 0) policy.backoff = backoff;
  return Object.keys(policy).length > 0 ? policy : undefined;
}

/** http://… is http, https://… is https, anything else names a Herald queue. */
export function inferProtocol(endpoint: string): Protocol {
  const lower = endpoint.toLowerCase();
  if (lower.startsWith('http://')) return 'http';
  if (lower.startsWith('https://')) return 'https';
  return 'queue';
}

function printSubscription(out: Output, s: Subscription): void {
  out.line(`subscription ${s.id}`);
  const status = `${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`;
  out.line(`  ${s.protocol} ${s.endpoint}${s.raw ? ' (raw)' : ''}  ${status}`);
  if (s.secret) out.line(`  signing secret: ${s.secret}`);
  if (s.deadLetterQueue) out.line(`  dead-letter queue: ${s.deadLetterQueue}`);
  if (s.protocol === 'queue') return; // copies into a queue are not retried: no policy applies
  const p = s.deliveryPolicy;
  const rate = p.maxPerSecond ? `${p.maxPerSecond}/s` : 'no rate limit';
  out.line(
    `  policy: ${p.maxAttempts} attempts, backoff ${p.backoff.initialSeconds}s x${p.backoff.multiplier} up to ` +
      `${p.backoff.maxSeconds}s, timeout ${p.timeoutSeconds}s, ${rate}, ${p.maxConcurrency} in flight`,
  );
}

export function subscribeCommand(app: App): Command {
  return policyOptions(
    new Command('subscribe')
      .description('attach an endpoint (webhook URL or queue name) to a topic; prints the id and signing secret')
      .argument('<topic>', 'topic name')
      .argument('<endpoint>', 'http(s):// URL for a webhook, or the name of a Herald queue')
      .addOption(
        new Option('--protocol <protocol>', 'http, https or queue (default: inferred from the endpoint)').choices([
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
      examples(
        'herald subscribe orders https://example.com/hooks/orders --max-attempts 5 --dlq orders-dlq',
        'herald subscribe orders billing            # copy every message into the queue "billing"',
        'herald subscribe orders http://10.0.0.7/hook --raw --max-per-second 50',
      ),
    )
    .action(
      action<PolicyFlags & { protocol?: Protocol; raw?: boolean; dlq?: string }, [string, string]>(
        app,
        async ({ client, out, opts }, topic, endpoint) => {
          const sub = await client.subscribe(topic, {
            protocol: opts.protocol ?? inferProtocol(endpoint),
            endpoint,
            raw: opts.raw ? true : undefined,
            deadLetterQueue: opts.dlq,
            deliveryPolicy: policyFrom(opts),
          });
          out.result(sub, (s) => printSubscription(out, s));
        },
      ),
    );
}

interface UpdateFlags extends PolicyFlags {
  endpoint?: string;
  raw?: boolean;
  dlq?: string;
  enable?: boolean;
  disable?: boolean;
}

export function subscriptionsCommand(app: App): Command {
  const subs = new Command('subscriptions')
    .description('list, show, change and delete subscriptions; inspect and retry their deliveries')
    .addHelpText(
      'after',
      examples(
        'herald subscriptions list orders',
        'herald subscriptions update <id> --disable',
        'herald subscriptions deliveries <id> --state failed',
      ),
    );

  subs
    .command('list')
    .description("list a topic's subscriptions")
    .argument('<topic>', 'topic name')
    .addHelpText('after', examples('herald subscriptions list orders'))
    .action(
      action(app, async ({ client, out }, topic) => {
        out.result(await client.listSubscriptions(topic), (list) =>
          out.table(list, ['id', 'protocol', 'endpoint', 'raw', 'status', 'deadLetterQueue']),
        );
      }),
    );

  subs
    .command('get')
    .description('show a subscription with its policy and signing secret')
    .argument('<id>', 'subscription id')
    .addHelpText('after', examples('herald subscriptions get <id>'))
    .action(
      action(app, async ({ client, out }, id) => {
        out.result(await client.getSubscription(id), (s) => printSubscription(out, s));
      }),
    );

  subs
    .command('delete')
    .description('delete a subscription and its pending deliveries')
    .argument('<id>', 'subscription id')
    .addHelpText('after', examples('herald subscriptions delete <id>'))
    .action(
      action(app, async ({ client, out }, id) => {
        await client.unsubscribe(id);
        if (!out.json) out.line(`deleted subscription ${id}`);
      }),
    );

  policyOptions(
    subs
      .command('update')
      .description('change a subscription; only the flags given change')
      .argument('<id>', 'subscription id')
      .option('--endpoint <endpoint>', 'new endpoint')
      .option('--raw', 'deliver bare bodies')
      .option('--no-raw', 'deliver the JSON envelope')
      .option('--dlq <queue>', 'dead-letter queue ("none" removes it)')
      .addOption(new Option('--enable', 'resume delivery').conflicts('disable'))
      .addOption(new Option('--disable', 'pause delivery (deliveries wait until enabled)')),
  )
    .addHelpText(
      'after',
      examples(
        'herald subscriptions update <id> --max-attempts 20 --backoff-max 600',
        'herald subscriptions update <id> --no-raw --dlq none',
        'herald subscriptions update <id> --enable',
      ),
    )
    .action(
      action<UpdateFlags>(app, async ({ client, out, opts, cmd }, id) => {
        const patch: SubscriptionPatch = {};
        if (opts.endpoint !== undefined) patch.endpoint = opts.endpoint;
        if (cmd.getOptionValueSource('raw') === 'cli') patch.raw = Boolean(opts.raw);
        if (opts.dlq !== undefined) patch.deadLetterQueue = opts.dlq === 'none' ? null : opts.dlq;
        if (opts.enable) patch.status = 'active';
        if (opts.disable) patch.status = 'disabled';
        const policy = policyFrom(opts);
        if (policy) patch.deliveryPolicy = policy;
        if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give at least one flag');
        out.result(await client.updateSubscription(id, patch), (s) => printSubscription(out, s));
      }),
    );

  subs
    .command('deliveries')
    .description('list the pending or failed deliveries of a subscription')
    .argument('<id>', 'subscription id')
    .addOption(new Option('--state <state>', 'pending or failed').choices(['pending', 'failed']).default('pending'))
    .option('--limit <n>', 'page size', count('--limit', 1))
    .option('--cursor <cursor>', 'continue where the previous page ended')
    .addHelpText(
      'after',
      examples('herald subscriptions deliveries <id>', 'herald subscriptions deliveries <id> --state failed'),
    )
    .action(
      action<{ state: 'pending' | 'failed'; limit?: number; cursor?: string }>(
        app,
        async ({ client, out, opts }, id) => {
          const page = await client.listDeliveries(id, { state: opts.state, limit: opts.limit, cursor: opts.cursor });
          out.result(page, (p) => {
            out.table(p.deliveries, ['id', 'messageId', 'state', 'attempts', 'nextAttemptAt', 'lastError']);
            if (p.next) out.line(`more: --cursor ${p.next}`);
          });
        },
      ),
    );

  subs
    .command('retry-failed')
    .description('give the failed deliveries of a subscription a fresh set of attempts')
    .argument('<id>', 'subscription id')
    .addHelpText('after', examples('herald subscriptions retry-failed <id>'))
    .action(
      action(app, async ({ client, out }, id) => {
        out.result(await client.retryFailed(id), (r) => out.line(`retrying ${r.retried}`));
      }),
    );

  return subs;
}

export function attemptsCommand(app: App): Command {
  return new Command('attempts')
    .description('show the attempt log of a subscription, newest first')
    .argument('<subscriptionId>', 'subscription id')
    .option('--message <id>', 'only the attempts of this message')
    .option('--limit <n>', 'how many', count('--limit', 1))
    .option('--cursor <cursor>', 'continue where the previous page ended')
    .addHelpText(
      'after',
      examples('herald attempts <subscription-id>', 'herald attempts <subscription-id> --message <message-id>'),
    )
    .action(
      action<{ message?: string; limit?: number; cursor?: string }>(app, async ({ client, out, opts }, id) => {
        const page = await client.listAttempts(id, { messageId: opts.message, limit: opts.limit, cursor: opts.cursor });
        out.result(page, (p) => {
          const rows = p.attempts.map((a) => ({
            time: a.at,
            messageId: a.messageId,
            attempt: a.attempt,
            status: a.status,
            latency: `${a.latencyMs} ms`,
            result: a.ok ? 'ok' : (a.errorClass ?? 'failed'),
            error: a.error,
          }));
          out.table(rows, ['time', 'messageId', 'attempt', 'status', 'latency', 'result', 'error']);
          if (p.next) out.line(`more: --cursor ${p.next}`);
        });
      }),
    );
}
