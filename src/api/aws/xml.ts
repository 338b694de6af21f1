/** Small XML writer for Query protocol answers: escaped text, nested elements. */

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) =>
    c === '&'
      ? '&amp;'
      : c === '<'
        ? '&lt;'
        : c === '>'
          ? '&gt;'
          : c === '"'
            ? '&quot;'
            : c === "'"
              ? '&apos;'
              : '&#xD;',
  );
}

/** `<name>` around already-rendered children, or escaped text. */
export const element = (name: string, inner: string) => `<${name}>${inner}</${name}>`;
export const textElement = (name: string, text: string | number | boolean) => element(name, escapeXml(String(text)));

/**
 * The envelope every Query action answers with. `result` is the inner XML of
 * `<ActionResult>`, or null for actions without an output, which answer none. An action with
 * an output keeps the element even when it is empty (no messages, no tags): botocore's Query
 * parser (the AWS CLI v2, older boto3) fails on an answer without it.
 */
export function queryResponse(action: string, namespace: string, result: string | null, requestId: string): string {
  const body = result === null ? '' : element(`${action}Result`, result);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}">${body}` +
    `${element('ResponseMetadata', textElement('RequestId', requestId))}</${action}Response>`
  );
}

export function queryError(namespace: string, fault: string, code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${namespace}">` +
    element(
      'Error',
      textElement('Type', fault) + textElement('Code', code) + textElement('Message', message) + '<Detail/>',
    ) +
    `${textElement('RequestId', requestId)}</ErrorResponse>`
  );
}
