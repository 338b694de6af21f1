/** Parsers for flag values. A bad value is a usage error (exit 2) that names the flag. */
import { InvalidArgumentError } from 'commander';

export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest value allowed (default 0: no flag takes a negative number). */
  min?: number;
  max?: number;
}

/** A commander argument parser for a numeric flag. */
export function numberArg(flag: string, rule: NumberRule = {}): (value: string) => number {
  const { integer = false, min = 0, max } = rule;
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`${flag} takes a number, got "${value}"`);
    }
    if (integer && !Number.isInteger(n)) {
      throw new InvalidArgumentError(`${flag} takes a whole number, got "${value}"`);
    }
    if (n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}, got "${value}"`);
    if (max !== undefined && n > max) throw new InvalidArgumentError(`${flag} must be at most ${max}, got "${value}"`);
    return n;
  };
}

/** Seconds: any non-negative number. */
export const seconds = (flag: string) => numberArg(flag);

/** A count: a whole number, at least `min` (default 0). */
export const count = (flag: string, min = 0) => numberArg(flag, { integer: true, min });

/** `--attr key=value`, repeatable: collects into one object (a repeated key keeps the last value). */
export function collectAttr(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--attr takes key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
