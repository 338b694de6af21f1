export { HeraldClient } from './client.js';
export type {
  AckResult,
  BatchResult,
  ClientOptions,
  PolicyInput,
  SubscribeOptions,
  SubscriptionPatch,
} from './client.js';
export { HeraldError } from './errors.js';
export type * from '../types.js';
