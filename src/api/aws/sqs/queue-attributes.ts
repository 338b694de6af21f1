/**
 * SQS queue attributes <-> Herald's queue configuration. Every settable attribute maps onto
 * a field of `QueueConfig`; the read-only ones are computed from the queue and its counts.
 */
import type { AwsConfig } from '../../../config.js';
import type { Queue, QueueConfig, QueueStats } from '../../../types.js';
import { AwsError } from '../errors.js';
import { nameFromArn, queueArn } from './names.js';

const invalidValue = (name: string, reason: string) =>
  new AwsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: ${reason}`);

export const invalidAttributeName = (name: string) =>
  new AwsError('InvalidAttributeName', `Unknown Attribute ${name}.`);

/** Attributes GetQueueAttributes can answer, in the order `All` lists them. */
export const READABLE = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

function int(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidValue(name, `must be an integer between ${min} and ${max}.`);
  }
  return n;
}

const bool = (name: string, value: string): boolean => {
  if (value !== 'true' && value !== 'false') throw invalidValue(name, 'must be true or false.');
  return value === 'true';
};

/**
 * Settable attributes into a partial queue configuration (only the attributes given).
 * `fifo` says whether the queue is (or is being created as) a FIFO queue: FIFO-only
 * attributes on a standard queue are unknown attributes, as on SQS.
 */
export function configFromAttributes(
  attributes: Record<string, string>,
  aws: AwsConfig,
  fifo: boolean,
): Partial<QueueConfig> {
  const cfg: Partial<QueueConfig> = {};
  for (const [name, raw] of Object.entries(attributes)) {
    const value = String(raw);
    switch (name) {
      case 'VisibilityTimeout':
        cfg.visibilityTimeoutSeconds = int(name, value, 0, 43_200);
        break;
      case 'DelaySeconds':
        cfg.delaySeconds = int(name, value, 0, 900);
        break;
      case 'MessageRetentionPeriod':
        cfg.retentionSeconds = int(name, value, 60, 1_209_600);
        break;
      case 'MaximumMessageSize':
        cfg.maxMessageBytes = int(name, value, 1024, 1_048_576);
        break;
      case 'ReceiveMessageWaitTimeSeconds':
        cfg.receiveWaitSeconds = int(name, value, 0, 20);
        break;
      case 'RedrivePolicy':
        Object.assign(cfg, redrivePolicy(value, aws));
        break;
      case 'RedriveAllowPolicy':
        cfg.redriveAllowPolicy = value === '' ? null : value;
        break;
      case 'SqsManagedSseEnabled':
        // Herald does not encrypt per queue (protect the data directory or database instead);
        // "false" is what it is, "true" would be a promise it cannot keep.
        if (value !== 'false') throw invalidValue(name, 'server-side encryption is not supported by Herald.');
        break;
      case 'FifoQueue':
        // Whether a queue is FIFO follows from its name (".fifo"); the attribute must agree.
        if (bool(name, value) !== fifo) {
          throw invalidValue(
            name,
            fifo
              ? 'a queue named *.fifo must set FifoQueue to true.'
              : 'the name of a FIFO queue must end with ".fifo".',
          );
        }
        break;
      case 'ContentBasedDeduplication':
        if (!fifo) throw invalidAttributeName(name); // FIFO-only, refused on a standard queue as SQS does
        cfg.contentBasedDeduplication = bool(name, value);
        break;
      case 'DeduplicationScope':
        // Herald deduplicates per queue, SQS's default scope.
        if (!fifo) throw invalidAttributeName(name);
        if (value !== 'queue') throw invalidValue(name, 'Herald deduplicates per queue only.');
        break;
      case 'FifoThroughputLimit':
        if (!fifo) throw invalidAttributeName(name);
        if (value !== 'perQueue' && value !== 'perMessageGroupId')
          throw invalidValue(name, 'must be perQueue or perMessageGroupId.');
        break; // no throughput quota to choose between: accepted, changes nothing
      default:
        throw invalidAttributeName(name);
    }
  }
  return cfg;
}

function redrivePolicy(value: string, aws: AwsConfig): Partial<QueueConfig> {
  if (value === '') return { deadLetterQueue: null, maxReceiveCount: 0 };
  let parsed: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidValue('RedrivePolicy', 'Redrive policy is not a valid JSON map.');
  }
  const arn = parsed?.deadLetterTargetArn;
  if (typeof arn !== 'string')
    throw invalidValue('RedrivePolicy', 'Redrive policy does not contain deadLetterTargetArn.');
  const count = Number(parsed.maxReceiveCount);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalidValue('RedrivePolicy', 'Value of maxReceiveCount must be an integer between 1 and 1000.');
  }
  return { deadLetterQueue: nameFromArn(arn, aws, 'RedrivePolicy'), maxReceiveCount: count };
}

const seconds = (iso: string) => String(Math.floor(Date.parse(iso) / 1000));

/** The attributes a queue reports, by name. */
export function queueAttributes(queue: Queue, stats: QueueStats, aws: AwsConfig): Record<string, string> {
  const out: Record<string, string> = {
    QueueArn: queueArn(aws, queue.name),
    ApproximateNumberOfMessages: String(stats.visible),
    ApproximateNumberOfMessagesNotVisible: String(stats.inFlight),
    ApproximateNumberOfMessagesDelayed: String(stats.delayed),
    CreatedTimestamp: seconds(queue.createdAt),
    LastModifiedTimestamp: seconds(queue.updatedAt),
    VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
    MaximumMessageSize: String(queue.maxMessageBytes),
    MessageRetentionPeriod: String(queue.retentionSeconds),
    DelaySeconds: String(queue.delaySeconds),
    ReceiveMessageWaitTimeSeconds: String(queue.receiveWaitSeconds),
    SqsManagedSseEnabled: 'false',
  };
  if (queue.fifo) {
    out.FifoQueue = 'true';
    out.ContentBasedDeduplication = String(queue.contentBasedDeduplication);
    out.DeduplicationScope = 'queue';
    out.FifoThroughputLimit = 'perQueue';
  }
  if (queue.deadLetterQueue && queue.maxReceiveCount > 0) {
    out.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: queueArn(aws, queue.deadLetterQueue),
      maxReceiveCount: queue.maxReceiveCount,
    });
  }
  if (queue.redriveAllowPolicy) out.RedriveAllowPolicy = queue.redriveAllowPolicy;
  return out;
}

/** Which attributes to answer: `All`, or the names asked for (an unknown name is an error). */
export function selectAttributes(all: Record<string, string>, names: string[]): Record<string, string> {
  if (names.length === 0) return {};
  if (names.includes('All')) return all;
  const out: Record<string, string> = {};
  for (const name of names) {
    if (
      !(READABLE as readonly string[]).includes(name) &&
      name !== 'FifoQueue' &&
      name !== 'ContentBasedDeduplication'
    ) {
      throw invalidAttributeName(name);
    }
    if (all[name] !== undefined) out[name] = all[name];
  }
  return out;
}
