/**
 * Sends SNS's subscription control messages to SNS-style HTTP/S subscriptions: the
 * `SubscriptionConfirmation` POST to a new one, and the `UnsubscribeConfirmation` POST to one
 * just unsubscribed. A few tries with a growing pause: an endpoint that is briefly down still
 * gets its message, and one that never answers leaves a new subscription pending (it can be
 * subscribed again, which sends the confirmation again) or an unsubscribed one gone.
 */
import type { SnsMessages } from '../aws/sns-messages.js';
import type { Store } from '../store/store.js';
import type { Subscription } from '../types.js';

export interface ConfirmationOptions {
  attempts?: number;
  firstDelayMs?: number;
  timeoutMs?: number;
}

export function confirmationSender(store: Store, sns: SnsMessages, opts: ConfirmationOptions = {}) {
  return async (sub: Subscription): Promise<void> => {
    const topic = await store.getTopic(sub.topic);
    if (!topic) return;
    const { body, headers } = await sns.confirmation(topic, sub);
    await post(sub.endpoint, body, headers, opts);
  };
}

/** Sends the UnsubscribeConfirmation of `sub` (deleted, kept under `token`). */
export function unsubscribeConfirmationSender(store: Store, sns: SnsMessages, opts: ConfirmationOptions = {}) {
  return async (sub: Subscription, token: string): Promise<void> => {
    const topic = await store.getTopic(sub.topic);
    if (!topic) return;
    const { body, headers } = await sns.unsubscribeConfirmation(topic, sub, token);
    await post(sub.endpoint, body, headers, opts);
  };
}

async function post(
  endpoint: string,
  body: string,
  headers: Record<string, string>,
  opts: ConfirmationOptions,
): Promise<void> {
  const attempts = opts.attempts ?? 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, (opts.firstDelayMs ?? 1000) * 2 ** (i - 1)));
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
      });
      await res.arrayBuffer();
      if (res.ok) return;
      lastError = new Error(`endpoint answered ${res.status}`);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
