/**
 * SNS subscription filter policies: `parseFilterPolicy` validates and compiles a policy once,
 * `matchesFilterPolicy` decides per message whether a subscription takes it. Pure; not yet
 * wired into subscriptions (see CHANGELOG).
 */
export {
  FILTER_POLICY_DECIMALS,
  MAX_FILTER_POLICY_BYTES,
  MAX_FILTER_POLICY_COMBINATIONS,
  MAX_FILTER_POLICY_KEYS,
  MAX_FILTER_POLICY_NUMBER,
  parseFilterPolicy,
  parseFilterPolicyScope,
  type FilterPolicy,
  type FilterPolicyScope,
  type ParseFilterPolicyOptions,
} from './parse.js';
export { matchesFilterPolicy, prepareMessage, PreparedMessage, type FilterableMessage } from './match.js';
