import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from './generate.js';
import { derToPem, pemToDerList } from './pem.js';

let certA: string;
let certB: string;
let keyPem: string;

beforeAll(async () => {
  const a = await generateSelfSigned({ keyType: 'ecdsa-p256', commonName: 'a.test', dnsNames: ['a.test'] });
  const b = await generateSelfSigned({ keyType: 'ed25519', commonName: 'b.test', dnsNames: ['b.test'] });
  certA = a.certPem;
  certB = b.certPem;
  keyPem = a.keyPem;
});

describe('pemToDerList', () => {
  it('returns the DER of every CERTIFICATE block in order, skipping keys and text between blocks', () => {
    const bundle = `Subject: a.test\n${certA}\n${keyPem}some notes\n${certB}`;
    const ders = pemToDerList(bundle);
    expect(ders).toHaveLength(2);
    expect(new X509Certificate(ders[0] as Uint8Array).subject).toBe('CN=a.test');
    expect(new X509Certificate(ders[1] as Uint8Array).subject).toBe('CN=b.test');
  });

  it('returns an empty list for text without certificates', () => {
    expect(pemToDerList('no PEM here')).toEqual([]);
    expect(pemToDerList(keyPem)).toEqual([]);
  });

  it('accepts CRLF line endings', () => {
    const ders = pemToDerList(certA.replace(/\n/g, '\r\n'));
    expect(ders).toHaveLength(1);
    expect(new X509Certificate(ders[0] as Uint8Array).subject).toBe('CN=a.test');
  });

  it('throws on a CERTIFICATE block whose body is not base64', () => {
    const broken = certA.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1!!');
    expect(() => pemToDerList(broken)).toThrow(/not valid base64/);
  });

  it('throws on a CERTIFICATE block closed by another label', () => {
    const mismatched = certA.replace('-----END CERTIFICATE-----', '-----END PRIVATE KEY-----');
    expect(() => pemToDerList(mismatched)).toThrow(/closed by END PRIVATE KEY/);
  });
});

describe('derToPem', () => {
  it('round-trips through pemToDerList byte for byte', () => {
    const der = pemToDerList(certA)[0] as Uint8Array;
    const again = pemToDerList(derToPem(der));
    expect(again).toHaveLength(1);
    expect(Buffer.from(again[0] as Uint8Array).equals(Buffer.from(der))).toBe(true);
  });

  it('wraps base64 at 64 characters between BEGIN and END lines of the given label', () => {
    const der = new Uint8Array(200).map((_, i) => i);
    const pem = derToPem(der, 'PRIVATE KEY');
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN PRIVATE KEY-----');
    expect(lines[lines.length - 1]).toBe('-----END PRIVATE KEY-----');
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(Buffer.from(body.join(''), 'base64').equals(Buffer.from(der))).toBe(true);
  });
});
