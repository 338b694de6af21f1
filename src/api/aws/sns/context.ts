import type { HeraldConfig } from '../../../config.js';
import type { SnsMessages } from '../../../aws/sns-messages.js';
import type { Store } from '../../../store/store.js';
import type { Subscriptions } from '../../../topics/subscriptions.js';
import type { Topics } from '../../../topics/topics.js';
import type { XmlObject } from './xml.js';
import type { Params } from './params.js';

/** What the SNS actions need from the domain: the same services the native API uses. */
export interface SnsContext {
  config: HeraldConfig;
  store: Store;
  topics: Topics;
  subscriptions: Subscriptions;
  sns: SnsMessages;
}

/** One SNS action: request parameters in, the `<Action>Result` contents out (null: none). */
export type SnsAction = (ctx: SnsContext, p: Params) => Promise<XmlObject | null>;
