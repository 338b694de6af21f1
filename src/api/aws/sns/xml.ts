/** The inner XML of SNS Query answers (the front door wraps it in `<ActionResponse>`). */
import { escapeXml } from '../xml.js';

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
