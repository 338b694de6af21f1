/**
 * SNS HTTP/S `DeliveryPolicy` <-> Herald's delivery policy. Pure.
 *
 * SNS retries in four phases: `numNoDelayRetries` immediately, `numMinDelayRetries` at
 * `minDelayTarget`, a backoff phase from `minDelayTarget` up to `maxDelayTarget`
 * (`backoffFunction`: arithmetic, geometric, exponential or linear), then the rest at
 * `maxDelayTarget`; `numRetries` counts them all. Herald's engine has one geometric backoff
 * (initial delay, growth factor, ceiling), so the mapping is:
 *
 *   maxAttempts          = numRetries + 1 (the first attempt is not a retry; at most 100)
 *   backoff.initialSeconds = minDelayTarget
 *   backoff.maxSeconds     = maxDelayTarget
 *   backoff.multiplier     = the growth factor that goes from minDelayTarget to maxDelayTarget
 *                            over the backoff phase's retries (1 when min = max; at most 10):
 *                            exact in shape for geometric/exponential, an approximation for
 *                            arithmetic/linear, whose curves bend differently between the ends
 *   maxPerSecond         = throttlePolicy.maxReceivesPerSecond (0: unlimited)
 *
 * Immediate retries (numNoDelayRetries) wait minDelayTarget in Herald, and
 * requestPolicy.headerContentType is not applied (Herald sends text/plain; charset=UTF-8).
 * Validation follows SNS's limits: 0-100 retries, delays 1-3600 s with min <= max.
 */
import { invalid } from '../errors.js';
import type { DeliveryPolicy } from '../types.js';

export const BACKOFF_FUNCTIONS = ['arithmetic', 'geometric', 'exponential', 'linear'] as const;
export type BackoffFunction = (typeof BACKOFF_FUNCTIONS)[number];

export interface SnsHealthyRetryPolicy {
  numRetries: number;
  minDelayTarget: number;
  maxDelayTarget: number;
  numNoDelayRetries: number;
  numMinDelayRetries: number;
  numMaxDelayRetries: number;
  backoffFunction: BackoffFunction;
}

export interface SnsDeliveryPolicy {
  healthyRetryPolicy: SnsHealthyRetryPolicy;
  throttlePolicy?: { maxReceivesPerSecond: number };
}

/** SNS's default HTTP/S retry policy (3 retries, 20 s apart). */
export const SNS_DEFAULT_RETRY: SnsHealthyRetryPolicy = {
  numRetries: 3,
  minDelayTarget: 20,
  maxDelayTarget: 20,
  numNoDelayRetries: 0,
  numMinDelayRetries: 0,
  numMaxDelayRetries: 0,
  backoffFunction: 'linear',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function integer(field: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw invalid(`DeliveryPolicy: ${field} must be an integer from ${min} to ${max}`);
  return n;
}

/** Parse an SNS subscription DeliveryPolicy (JSON text). Errors start with "DeliveryPolicy:". */
export function parseSnsDeliveryPolicy(text: string): SnsDeliveryPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(`DeliveryPolicy: not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw invalid('DeliveryPolicy: must be a JSON object');
  // A topic-level policy nests the subscription policy under "http" with "default" names.
  const http = isObject(json.http) ? json.http : null;
  const retry = http ? http.defaultHealthyRetryPolicy : json.healthyRetryPolicy;
  const throttle = http ? http.defaultThrottlePolicy : json.throttlePolicy;
  if (retry !== undefined && !isObject(retry)) throw invalid('DeliveryPolicy: healthyRetryPolicy must be an object');
  const r = (retry ?? {}) as Record<string, unknown>;
  const minDelayTarget = integer('minDelayTarget', r.minDelayTarget, 1, 3600, SNS_DEFAULT_RETRY.minDelayTarget);
  const maxDelayTarget = integer(
    'maxDelayTarget',
    r.maxDelayTarget,
    1,
    3600,
    Math.max(minDelayTarget, SNS_DEFAULT_RETRY.maxDelayTarget),
  );
  if (minDelayTarget > maxDelayTarget) throw invalid('DeliveryPolicy: minDelayTarget must not exceed maxDelayTarget');
  const numRetries = integer('numRetries', r.numRetries, 0, 100, SNS_DEFAULT_RETRY.numRetries);
  const phase = (name: string) => integer(name, r[name], 0, numRetries, 0);
  const numNoDelayRetries = phase('numNoDelayRetries');
  const numMinDelayRetries = phase('numMinDelayRetries');
  const numMaxDelayRetries = phase('numMaxDelayRetries');
  if (numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries > numRetries)
    throw invalid(
      'DeliveryPolicy: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries',
    );
  const fn = r.backoffFunction ?? SNS_DEFAULT_RETRY.backoffFunction;
  if (!BACKOFF_FUNCTIONS.includes(fn as BackoffFunction))
    throw invalid(`DeliveryPolicy: backoffFunction must be one of ${BACKOFF_FUNCTIONS.join(', ')}`);
  const policy: SnsDeliveryPolicy = {
    healthyRetryPolicy: {
      numRetries,
      minDelayTarget,
      maxDelayTarget,
      numNoDelayRetries,
      numMinDelayRetries,
      numMaxDelayRetries,
      backoffFunction: fn as BackoffFunction,
    },
  };
  if (throttle !== undefined && throttle !== null) {
    if (!isObject(throttle)) throw invalid('DeliveryPolicy: throttlePolicy must be an object');
    policy.throttlePolicy = {
      maxReceivesPerSecond: integer('maxReceivesPerSecond', throttle.maxReceivesPerSecond, 1, 100_000, 0),
    };
  }
  return policy;
}

/** Herald's delivery policy for an SNS one; fields SNS does not speak of come from `base`. */
export function toHeraldDeliveryPolicy(sns: SnsDeliveryPolicy, base: DeliveryPolicy): DeliveryPolicy {
  const r = sns.healthyRetryPolicy;
  const backoffRetries = Math.max(1, r.numRetries - r.numNoDelayRetries - r.numMinDelayRetries - r.numMaxDelayRetries);
  const growth =
    r.maxDelayTarget === r.minDelayTarget ? 1 : (r.maxDelayTarget / r.minDelayTarget) ** (1 / backoffRetries);
  return {
    ...base,
    maxAttempts: Math.min(100, r.numRetries + 1),
    backoff: {
      initialSeconds: r.minDelayTarget,
      maxSeconds: r.maxDelayTarget,
      multiplier: Math.min(10, Math.max(1, Math.round(growth * 1000) / 1000)),
    },
    maxPerSecond: sns.throttlePolicy?.maxReceivesPerSecond ?? base.maxPerSecond,
  };
}

/** How a Herald delivery policy reads as an SNS one (GetSubscriptionAttributes' EffectiveDeliveryPolicy). */
export function toSnsDeliveryPolicy(p: DeliveryPolicy): SnsDeliveryPolicy {
  const policy: SnsDeliveryPolicy = {
    healthyRetryPolicy: {
      numRetries: p.maxAttempts - 1,
      minDelayTarget: Math.max(1, Math.round(p.backoff.initialSeconds)),
      maxDelayTarget: Math.max(1, Math.round(p.backoff.maxSeconds)),
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      numMaxDelayRetries: 0,
      backoffFunction: p.backoff.multiplier === 1 ? 'linear' : 'geometric',
    },
  };
  if (p.maxPerSecond > 0) policy.throttlePolicy = { maxReceivesPerSecond: p.maxPerSecond };
  return policy;
}
