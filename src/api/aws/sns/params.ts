/**
 * Reading Query-protocol parameters: flat `Name=value` pairs, where lists and maps are spelt
 * out member by member (`Attributes.entry.1.key`, `Tags.member.2.Value`,
 * `MessageAttributes.entry.1.Value.DataType`).
 */
import { invalidParameter } from './errors.js';

export type Params = Record<string, string>;

export function required(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === '') throw invalidParameter(`${name} is required`);
  return v;
}

/** Indexes present under `prefix` (`prefix.1.`, `prefix.2.`...), in order. */
export function indexes(p: Params, prefix: string): number[] {
  const seen = new Set<number>();
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)(?:\\.|$)`);
  for (const k of Object.keys(p)) {
    const m = pattern.exec(k);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** A `<name>.entry.N.key` / `.value` map (Attributes). */
export function entryMap(p: Params, name: string, keyName = 'key', valueName = 'value'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of indexes(p, `${name}.entry`)) {
    const key = p[`${name}.entry.${i}.${keyName}`];
    if (key === undefined) throw invalidParameter(`${name}.entry.${i}.${keyName} is missing`);
    out[key] = p[`${name}.entry.${i}.${valueName}`] ?? '';
  }
  return out;
}

/** A `<name>.member.N` list of strings (TagKeys). */
export function memberList(p: Params, name: string): string[] {
  return indexes(p, `${name}.member`).map((i) => p[`${name}.member.${i}`] ?? '');
}

/** `<name>.member.N.<field>` records (Tags, PublishBatchRequestEntries): each as its own Params. */
export function memberRecords(p: Params, name: string): Params[] {
  return indexes(p, `${name}.member`).map((i) => {
    const prefix = `${name}.member.${i}.`;
    const record: Params = {};
    for (const [k, v] of Object.entries(p)) if (k.startsWith(prefix)) record[k.slice(prefix.length)] = v;
    return record;
  });
}

export function bool(name: string, v: string | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw invalidParameter(`${name}: must be true or false`);
}
