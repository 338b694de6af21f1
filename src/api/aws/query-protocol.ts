/**
 * The AWS Query protocol's request side: form fields (`Action=...&Attribute.1.Name=...`)
 * into the same input objects the JSON protocol carries, so one action implementation
 * serves both. Lists arrive flattened (`AttributeName.1`, `AttributeName.2`) or wrapped
 * (`Entries.member.1.Id`); maps as numbered Name/Value (or Key/Value) pairs. Which form
 * field becomes which input member is the service's table (`QueryFieldMap`).
 */

/** A form field tree: `{ Attribute: { '1': { Name: 'x', Value: 'y' } } }`. */
export type FieldTree = { [key: string]: string | FieldTree };

/** How one flattened or wrapped form field becomes an input member. */
export interface QueryField {
  /** Member name in the JSON input. */
  member: string;
  kind: 'list' | 'map' | 'struct-list';
  /** For maps: the names of the key and value parts (default Name/Value). */
  key?: string;
  value?: string;
  /** For struct-lists: how the fields of each entry map in turn. */
  fields?: QueryFieldMap;
}

export type QueryFieldMap = Record<string, QueryField>;

export function parseForm(text: string): URLSearchParams {
  return new URLSearchParams(text);
}

/** Split dotted names into a tree; numeric segments stay object keys ('1', '2', ...). */
export function fieldTree(params: URLSearchParams, skip: (name: string) => boolean): FieldTree {
  const root: FieldTree = {};
  for (const [name, value] of params) {
    if (skip(name)) continue;
    const parts = name.split('.');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (typeof next === 'object') node = next;
      else node = node[parts[i]] = {};
    }
    const leaf = parts[parts.length - 1];
    if (typeof node[leaf] !== 'object') node[leaf] = value;
  }
  return root;
}

/** Numbered children in order (`1`, `2`, ...), unwrapping a `member` level. */
function numbered(node: string | FieldTree): Array<string | FieldTree> {
  if (typeof node !== 'object') return [node];
  const inner = typeof node.member === 'object' ? node.member : node;
  return Object.keys(inner)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => inner[k]);
}

/** Convert a field tree into a JSON-protocol input using the service's field map. */
export function toInput(tree: FieldTree, map: QueryFieldMap): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, node] of Object.entries(tree)) {
    const field = map[name];
    if (!field) {
      input[name] = typeof node === 'object' ? toInput(node, map) : node;
      continue;
    }
    const items = numbered(node);
    if (field.kind === 'list') input[field.member] = items.filter((i) => typeof i === 'string');
    else if (field.kind === 'struct-list') {
      input[field.member] = items.map((i) => (typeof i === 'object' ? toInput(i, field.fields ?? {}) : i));
    } else {
      const out: Record<string, unknown> = {};
      for (const item of items) {
        if (typeof item !== 'object') continue;
        const key = item[field.key ?? 'Name'];
        const value = item[field.value ?? 'Value'];
        if (typeof key === 'string') out[key] = typeof value === 'object' ? toInput(value, {}) : value;
      }
      input[field.member] = out;
    }
  }
  return input;
}
