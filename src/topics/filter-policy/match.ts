/**
 * Runs a compiled filter policy against a message. This is on the publish path (once per
 * message per subscription with a policy), so the policy is never re-read and a message is
 * decoded at most once however many subscriptions look at it: wrap it in `prepareMessage`
 * and pass the prepared message to every subscription's policy, or hand over a body that
 * is already parsed.
 *
 * Attribute scope: a key matches a message attribute of that name. `String` (and
 * `String.x`) gives one string, `Number` (and `Number.x`) one number, `String.Array` each
 * element of its JSON array; `Binary` attributes are ignored, as if absent. A message with
 * no attributes matches no non-empty policy, not even `"exists": false` (SNS documents this).
 *
 * Body scope: the body must be a JSON object (anything else matches no non-empty policy).
 * Nested policy objects walk nested body objects; an array met on the way matches when any
 * of its elements does, the whole sub-policy being checked against that one element. A leaf
 * that is an array gives each (non-object) element as a value; a leaf that is an object is
 * not a value, so `"exists"` sees it as absent, which is what "exists works only on leaf
 * nodes" means.
 */
import type { Attributes, MessageAttributes, MessageAttributeValue } from '../../types.js';
import type { Scalar } from './conditions.js';
import type { FilterPolicy, PolicyNode } from './parse.js';

/** What a filter looks at: typed or plain attributes, and the body as text or already parsed. */
export interface FilterableMessage {
  attributes?: MessageAttributes | Attributes | null;
  body?: string | null;
  /** The body already JSON-parsed by the caller; takes the place of `body`. */
  parsedBody?: unknown;
}

const NOT_JSON: unique symbol = Symbol('not JSON');
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EMPTY: readonly Scalar[] = Object.freeze([]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The scalar values a JSON value offers a leaf key: arrays flattened, objects dropped. */
export function leafValues(v: unknown): readonly Scalar[] {
  if (v === undefined) return EMPTY;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return [v];
  if (!Array.isArray(v)) return EMPTY;
  const out: Scalar[] = [];
  const walk = (items: unknown[]): void => {
    for (const item of items) {
      if (Array.isArray(item)) walk(item);
      else if (item === null || typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
        out.push(item);
      }
    }
  };
  walk(v);
  return out;
}

function attributeValues(attribute: string | MessageAttributeValue | undefined): readonly Scalar[] | null {
  if (attribute === undefined) return null;
  if (typeof attribute === 'string') return [attribute];
  if (!isObject(attribute)) return null;
  const { dataType, stringValue } = attribute;
  if (dataType === 'String.Array') {
    if (typeof stringValue !== 'string') return EMPTY;
    try {
      return leafValues(JSON.parse(stringValue));
    } catch {
      return EMPTY;
    }
  }
  const base = typeof dataType === 'string' ? dataType.split('.', 1)[0] : '';
  if (base === 'String') return typeof stringValue === 'string' ? [stringValue] : EMPTY;
  if (base === 'Number') {
    if (typeof stringValue !== 'string' || !NUMBER_TEXT.test(stringValue)) return EMPTY;
    const n = Number(stringValue);
    return Number.isFinite(n) ? [n] : EMPTY;
  }
  return null; // Binary, or a type SNS does not filter on: ignored, as if absent
}

/**
 * A message decoded once for any number of filter policies: attribute values are worked out
 * on first use per name, and the body is JSON-parsed on first use.
 */
export class PreparedMessage {
  private readonly attributes: Record<string, string | MessageAttributeValue>;
  private readonly values = new Map<string, readonly Scalar[] | null>();
  private readonly bodyText: string | null;
  private parsed: unknown = NOT_JSON;
  private bodyDone: boolean;
  private counted = -1;

  constructor(message: FilterableMessage) {
    this.attributes = message.attributes ?? {};
    this.bodyText = message.body ?? null;
    this.bodyDone = message.parsedBody !== undefined;
    if (this.bodyDone) this.parsed = message.parsedBody;
  }

  /** The values of an attribute, or null when it is absent or ignored (Binary). */
  attribute(name: string): readonly Scalar[] | null {
    let v = this.values.get(name);
    if (v === undefined) {
      v = Object.hasOwn(this.attributes, name) ? attributeValues(this.attributes[name]) : null;
      this.values.set(name, v);
    }
    return v;
  }

  /** Attributes a policy can see (Binary ones do not count). */
  get attributeCount(): number {
    if (this.counted < 0) this.counted = Object.keys(this.attributes).filter((k) => this.attribute(k) !== null).length;
    return this.counted;
  }

  /** The parsed body, or undefined when the body is missing or not JSON. */
  get body(): unknown {
    if (!this.bodyDone) {
      this.bodyDone = true;
      if (this.bodyText !== null) {
        try {
          this.parsed = JSON.parse(this.bodyText);
        } catch {
          this.parsed = NOT_JSON;
        }
      }
    }
    return this.parsed === NOT_JSON ? undefined : this.parsed;
  }
}

export const prepareMessage = (message: FilterableMessage): PreparedMessage => new PreparedMessage(message);

function matchAttributes(node: PolicyNode, message: PreparedMessage): boolean {
  for (const leaf of node.leaves) if (!leaf.test(message.attribute(leaf.key) ?? EMPTY)) return false;
  for (const group of node.ors) if (!group.some((branch) => matchAttributes(branch, message))) return false;
  return true;
}

function matchBody(node: PolicyNode, value: unknown): boolean {
  // An array on the path: the sub-policy must hold for one element as a whole.
  if (Array.isArray(value) && value.length > 0) return value.some((element) => matchBody(node, element));
  const object = isObject(value) ? value : undefined;
  const get = (key: string): unknown => (object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined);
  for (const leaf of node.leaves) if (!leaf.test(leafValues(get(leaf.key)))) return false;
  for (const child of node.children) if (!matchBody(child.node, get(child.key))) return false;
  for (const group of node.ors) if (!group.some((branch) => matchBody(branch, value))) return false;
  return true;
}

/**
 * Whether a subscription with this policy takes the message. No policy (null, or `{}`)
 * takes every message.
 */
export function matchesFilterPolicy(
  policy: FilterPolicy | null | undefined,
  message: FilterableMessage | PreparedMessage,
): boolean {
  if (!policy || policy.keys.length === 0) return true;
  const prepared = message instanceof PreparedMessage ? message : new PreparedMessage(message);
  if (policy.scope === 'MessageAttributes') {
    return prepared.attributeCount > 0 && matchAttributes(policy.root, prepared);
  }
  const body = prepared.body;
  return isObject(body) && matchBody(policy.root, body);
}
