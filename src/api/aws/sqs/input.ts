/**
 * Reading SQS action inputs. JSON requests carry numbers and booleans as such; Query
 * requests carry everything as text. These readers accept both and answer with the SQS
 * error codes for a missing or malformed parameter.
 */
import { AwsError, invalidParameter, missingParameter } from '../errors.js';

export type Input = Record<string, unknown>;

export function optionalString(input: Input, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`Value for parameter ${name} must be a string.`);
  return v;
}

export function requiredString(input: Input, name: string): string {
  const v = optionalString(input, name);
  if (v === undefined || v === '') throw missingParameter(name);
  return v;
}

export function optionalInt(input: Input, name: string, min: number, max: number): number | undefined {
  const v = input[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalidParameter(
      `Value ${String(v)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return n;
}

export function stringList(input: Input, name: string): string[] {
  const v = input[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw invalidParameter(`Value for parameter ${name} must be a list of strings.`);
  }
  return v as string[];
}

export function stringMap(input: Input, name: string): Record<string, string> {
  const v = input[name];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameter(`Value for parameter ${name} must be a map.`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw invalidParameter(`Value for ${name}.${k} must be a string.`);
    out[k] = value;
  }
  return out;
}

export function objectMap(input: Input, name: string): Record<string, Input> {
  const v = input[name];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameter(`Value for parameter ${name} must be a map.`);
  return v as Record<string, Input>;
}

/** Batch entries: 1-10, distinct ids of letters, digits, `-` and `_`. */
export function batchEntries(input: Input): Input[] {
  const v = input.Entries;
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    throw new AwsError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
      400,
      'AWS.SimpleQueueService.EmptyBatchRequest',
    );
  }
  if (!Array.isArray(v)) throw invalidParameter('Value for parameter Entries must be a list.');
  if (v.length > 10) {
    throw new AwsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${v.length}.`,
      400,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    );
  }
  const seen = new Set<string>();
  for (const e of v as Input[]) {
    const id = e?.Id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw new AwsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        400,
        'AWS.SimpleQueueService.InvalidBatchEntryId',
      );
    }
    if (seen.has(id)) {
      throw new AwsError(
        'BatchEntryIdsNotDistinct',
        `Id ${id} repeated.`,
        400,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    }
    seen.add(id);
  }
  return v as Input[];
}
