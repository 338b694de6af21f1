/** Every SNS action Herald answers, by its Query-protocol name. */
import type { SnsAction } from './context.js';
import { publishActions } from './publish-actions.js';
import { subscriptionActions } from './subscription-actions.js';
import { topicActions } from './topic-actions.js';

export const SNS_ACTIONS: Readonly<Record<string, SnsAction>> = {
  ...topicActions,
  ...subscriptionActions,
  ...publishActions,
};
