/**
 * SQS outputs as Query protocol XML. The JSON shapes map one to one, except that lists and
 * maps are written flattened under singular names (`<QueueUrl>` per URL, `<Attribute>` with
 * Name/Value per attribute, `<Message>` per message) as the SQS Query API always did.
 */
import { element, textElement } from '../xml.js';

/** List members written flattened, under these element names. */
const LIST_ITEM: Record<string, string> = {
  QueueUrls: 'QueueUrl',
  queueUrls: 'QueueUrl',
  Messages: 'Message',
  Failed: 'BatchResultErrorEntry',
  Results: 'ListMessageMoveTasksResultEntry',
};

/** Map members written as repeated entries with key and value elements. */
const MAP_ITEM: Record<string, [string, string, string]> = {
  Attributes: ['Attribute', 'Name', 'Value'],
  MessageAttributes: ['MessageAttribute', 'Name', 'Value'],
  Tags: ['Tag', 'Key', 'Value'],
};

function render(name: string, value: unknown, action: string): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const item = name === 'Successful' ? `${action}ResultEntry` : (LIST_ITEM[name] ?? name);
    return value.map((v) => render(item, v, action)).join('');
  }
  if (typeof value === 'object') {
    const map = MAP_ITEM[name];
    if (map) {
      const [entry, key, val] = map;
      return Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => element(entry, textElement(key, k) + render(val, v, action)))
        .join('');
    }
    return element(name, renderFields(value as Record<string, unknown>, action));
  }
  return textElement(name, value as string | number | boolean);
}

export function renderFields(output: Record<string, unknown>, action: string): string {
  return Object.entries(output)
    .map(([k, v]) => render(k, v, action))
    .join('');
}

/** The SQS actions that have no output: their Query answers carry no `<ActionResult>`. */
const NO_RESULT = new Set([
  'DeleteQueue',
  'SetQueueAttributes',
  'PurgeQueue',
  'TagQueue',
  'UntagQueue',
  'DeleteMessage',
  'ChangeMessageVisibility',
]);

/** The inner XML of `<ActionResult>`, empty for an empty output; null when the action has none. */
export function renderQueryResult(action: string, output: Record<string, unknown>): string | null {
  return NO_RESULT.has(action) ? null : renderFields(output, action);
}
