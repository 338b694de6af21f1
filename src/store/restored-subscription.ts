import type { Subscription } from '../types.js';

/**
 * The subscription an UnsubscribeConfirmation's token brings back (both stores'
 * `restoreUnsubscribed`): the same id and settings, active again, without its dead-letter
 * queue when that queue was deleted meanwhile.
 */
export function restoredSubscription(kept: Subscription, deadLetterQueueExists: boolean): Subscription {
  return {
    ...kept,
    status: 'active',
    statusReason: null,
    confirmationToken: null,
    deadLetterQueue: deadLetterQueueExists ? kept.deadLetterQueue : null,
  };
}
