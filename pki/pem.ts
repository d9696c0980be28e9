/**
 * PEM (RFC 7468) to DER and back. Only the textual wrapping is handled here;
 * what is inside the DER is parsed by node:crypto and @peculiar/x509.
 */
import { bufferOf } from '../wire/bytes.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every `CERTIFICATE` block of a PEM text, in order, as DER.
 * Other blocks (keys, parameters) and text between blocks are skipped, as
 * RFC 7468 §2 allows explanatory text around the encapsulation boundaries.
 * A CERTIFICATE block whose body is not base64, or whose END label does not
 * match, is a configuration error and throws a TypeError that says which block.
 */
export function pemToDerList(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let index = 0;
  for (const m of pem.matchAll(BLOCK)) {
    const label = m[1] as string;
    const body = m[2] as string;
    const endLabel = m[3] as string;
    index++;
    if (label !== 'CERTIFICATE') continue;
    if (endLabel !== label) {
      throw new TypeError(`PEM block ${index}: BEGIN ${label} is closed by END ${endLabel}`);
    }
    const compact = body.replace(/\s+/g, '');
    if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64_BODY.test(compact)) {
      throw new TypeError(`PEM block ${index} (CERTIFICATE) is not valid base64`);
    }
    out.push(new Uint8Array(Buffer.from(compact, 'base64')));
  }
  return out;
}

/** DER wrapped as PEM with 64-character lines (RFC 7468 §2); the label defaults to CERTIFICATE. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = bufferOf(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
