import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_POLICY } from '../../src/config.js';
import {
  parseSnsDeliveryPolicy,
  SNS_DEFAULT_RETRY,
  toHeraldDeliveryPolicy,
  toSnsDeliveryPolicy,
} from '../../src/aws/sns-delivery-policy.js';
import { HeraldError } from '../../src/errors.js';

const base = DEFAULT_DELIVERY_POLICY;
const map = (policy: object) => toHeraldDeliveryPolicy(parseSnsDeliveryPolicy(JSON.stringify(policy)), base);

describe('SNS DeliveryPolicy -> Herald delivery policy', () => {
  it("maps the AWS guide's example: retries + 1 attempts, delays, throttle", () => {
    const p = map({
      healthyRetryPolicy: {
        minDelayTarget: 1,
        maxDelayTarget: 60,
        numRetries: 50,
        numNoDelayRetries: 3,
        numMinDelayRetries: 2,
        numMaxDelayRetries: 35,
        backoffFunction: 'exponential',
      },
      throttlePolicy: { maxReceivesPerSecond: 10 },
    });
    expect(p.maxAttempts).toBe(51);
    expect(p.backoff.initialSeconds).toBe(1);
    expect(p.backoff.maxSeconds).toBe(60);
    // 10 backoff-phase retries (50 - 3 - 2 - 35) grow 1 s to 60 s: 60^(1/10).
    expect(p.backoff.multiplier).toBeCloseTo(60 ** 0.1, 3);
    expect(p.maxPerSecond).toBe(10);
    expect(p.timeoutSeconds).toBe(base.timeoutSeconds);
    expect(p.maxConcurrency).toBe(base.maxConcurrency);
  });

  it('fills what is left out with SNS defaults (3 retries, 20 s) and keeps the base rate', () => {
    const p = map({});
    expect(p).toEqual({
      ...base,
      maxAttempts: SNS_DEFAULT_RETRY.numRetries + 1,
      backoff: { initialSeconds: 20, maxSeconds: 20, multiplier: 1 },
    });
  });

  it('uses growth 1 when min = max, caps attempts at 100 and growth at 10', () => {
    expect(
      map({ healthyRetryPolicy: { minDelayTarget: 5, maxDelayTarget: 5, numRetries: 2 } }).backoff.multiplier,
    ).toBe(1);
    expect(map({ healthyRetryPolicy: { numRetries: 100 } }).maxAttempts).toBe(100);
    expect(
      map({ healthyRetryPolicy: { minDelayTarget: 1, maxDelayTarget: 3600, numRetries: 1 } }).backoff.multiplier,
    ).toBe(10);
  });

  it('reads a topic-level policy (http.defaultHealthyRetryPolicy, defaultThrottlePolicy)', () => {
    const p = map({
      http: {
        defaultHealthyRetryPolicy: { minDelayTarget: 2, maxDelayTarget: 8, numRetries: 4 },
        defaultThrottlePolicy: { maxReceivesPerSecond: 3 },
      },
    });
    expect(p).toMatchObject({ maxAttempts: 5, backoff: { initialSeconds: 2, maxSeconds: 8 }, maxPerSecond: 3 });
    expect(p.backoff.multiplier).toBeCloseTo(4 ** 0.25, 3);
  });

  it('accepts numbers given as strings, as some tools send them', () => {
    expect(map({ healthyRetryPolicy: { numRetries: '2', minDelayTarget: '3', maxDelayTarget: '3' } }).maxAttempts).toBe(
      3,
    );
  });

  it.each([
    ['not json', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"healthyRetryPolicy":{"numRetries":101}}', /numRetries must be an integer from 0 to 100/],
    ['{"healthyRetryPolicy":{"minDelayTarget":0}}', /minDelayTarget must be an integer from 1 to 3600/],
    ['{"healthyRetryPolicy":{"maxDelayTarget":3601}}', /maxDelayTarget must be an integer from 1 to 3600/],
    [
      '{"healthyRetryPolicy":{"minDelayTarget":10,"maxDelayTarget":5}}',
      /minDelayTarget must not exceed maxDelayTarget/,
    ],
    [
      '{"healthyRetryPolicy":{"numRetries":2,"numNoDelayRetries":2,"numMaxDelayRetries":1}}',
      /must not exceed numRetries/,
    ],
    ['{"healthyRetryPolicy":{"backoffFunction":"cubic"}}', /backoffFunction must be one of/],
    ['{"healthyRetryPolicy":{"numRetries":1.5}}', /numRetries must be an integer/],
    ['{"throttlePolicy":{"maxReceivesPerSecond":0}}', /maxReceivesPerSecond must be an integer from 1/],
    ['{"healthyRetryPolicy":3}', /healthyRetryPolicy must be an object/],
  ])('refuses %s, naming DeliveryPolicy and the field', (text, message) => {
    let error: unknown;
    try {
      parseSnsDeliveryPolicy(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).message).toMatch(/^DeliveryPolicy: /);
    expect((error as HeraldError).message).toMatch(message);
  });
});

describe('Herald delivery policy -> SNS DeliveryPolicy (what GetSubscriptionAttributes shows)', () => {
  it('reads back a mapped policy', () => {
    const sns = toSnsDeliveryPolicy(
      map({ healthyRetryPolicy: { numRetries: 5, minDelayTarget: 2, maxDelayTarget: 30 } }),
    );
    expect(sns.healthyRetryPolicy).toMatchObject({
      numRetries: 5,
      minDelayTarget: 2,
      maxDelayTarget: 30,
      backoffFunction: 'geometric',
    });
    expect(sns.throttlePolicy).toBeUndefined();
    expect(toSnsDeliveryPolicy({ ...base, maxPerSecond: 7 }).throttlePolicy).toEqual({ maxReceivesPerSecond: 7 });
    expect(
      toSnsDeliveryPolicy({ ...base, backoff: { initialSeconds: 0.05, maxSeconds: 0.2, multiplier: 1 } })
        .healthyRetryPolicy,
    ).toMatchObject({
      minDelayTarget: 1,
      maxDelayTarget: 1,
      backoffFunction: 'linear',
    });
  });
});
