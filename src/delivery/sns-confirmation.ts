/**
 * Sends the SNS `SubscriptionConfirmation` POST to a new SNS-style HTTP/S subscription. A few
 * tries with a growing pause: an endpoint that is briefly down still gets its confirmation,
 * and one that never answers leaves the subscription pending (it can be subscribed again,
 * which sends the confirmation again).
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
  const attempts = opts.attempts ?? 3;
  return async (sub: Subscription): Promise<void> => {
    const topic = await store.getTopic(sub.topic);
    if (!topic) return;
    const { body, headers } = await sns.confirmation(topic, sub);
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, (opts.firstDelayMs ?? 1000) * 2 ** (i - 1)));
      try {
        const res = await fetch(sub.endpoint, {
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
  };
}
