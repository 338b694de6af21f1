/** SNS Query-protocol answers: XML in the SNS namespace, each with a RequestId. */
import type { SnsError } from './errors.js';

export const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

export const escapeXml = (s: string) =>
  s.replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c]!,
  );

/** An XML fragment: elements are written in order; arrays become `<member>` lists. */
export type XmlValue = string | number | boolean | null | undefined | XmlObject | XmlValue[] | XmlRaw;
export interface XmlObject {
  [name: string]: XmlValue;
}
/** Pre-rendered XML (for `<entry><key/><value/></entry>` maps). */
export class XmlRaw {
  constructor(readonly xml: string) {}
}

export function toXml(value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (value instanceof XmlRaw) return value.xml;
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    let out = '';
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out += `<${k}>${toXml(v)}</${k}>`;
    return out;
  }
  return escapeXml(String(value));
}

/** A string map as SNS writes attributes: `<entry><key/><value/></entry>`. */
export function entries(map: Record<string, string>): XmlRaw {
  return new XmlRaw(
    Object.entries(map)
      .map(([k, v]) => `<entry><key>${escapeXml(k)}</key><value>${escapeXml(v)}</value></entry>`)
      .join(''),
  );
}

export function responseXml(action: string, result: XmlObject | null, requestId: string): string {
  const body = result === null ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  return (
    `<?xml version="1.0"?>\n<${action}Response xmlns="${SNS_XMLNS}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function errorXml(error: SnsError, requestId: string): string {
  return (
    `<?xml version="1.0"?>\n<ErrorResponse xmlns="${SNS_XMLNS}"><Error><Type>${error.type}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
