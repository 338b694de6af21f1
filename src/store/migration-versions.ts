/**
 * Shared by both stores' migrators: which ledger versions this build does not know. Feature
 * branches number their migrations apart, so versions can have gaps; a version in the ledger
 * that this build lacks means a newer Herald wrote the schema.
 */
export function unknownVersions(applied: Iterable<number>, known: ReadonlyArray<{ version: number }>): number[] {
  const versions = new Set(known.map((m) => m.version));
  return [...applied].filter((v) => !versions.has(v)).sort((a, b) => a - b);
}
