import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned, type KeyType } from './generate.js';

const spkiOf = (keyPem: string): Buffer => createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });

describe('generateSelfSigned', () => {
  it('makes a self-signed certificate for localhost and 127.0.0.1 by default', async () => {
    const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256' });
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(cert.subject).toBe('CN=localhost');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(keyPem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
  });

  const expected: Record<KeyType, { type: string; curve?: string; bits?: number }> = {
    'ecdsa-p256': { type: 'ec', curve: 'prime256v1' },
    'ecdsa-p384': { type: 'ec', curve: 'secp384r1' },
    ed25519: { type: 'ed25519' },
    'rsa-2048': { type: 'rsa', bits: 2048 },
  };
  for (const [keyType, want] of Object.entries(expected) as [KeyType, (typeof expected)[KeyType]][]) {
    it(`certifies a ${keyType} key that matches the returned PKCS#8 key`, async () => {
      const { certPem, keyPem } = await generateSelfSigned({ keyType });
      const cert = new X509Certificate(certPem);
      const key = createPrivateKey(keyPem);
      expect(key.asymmetricKeyType).toBe(want.type);
      if (want.curve !== undefined) expect(key.asymmetricKeyDetails?.namedCurve).toBe(want.curve);
      if (want.bits !== undefined) expect(key.asymmetricKeyDetails?.modulusLength).toBe(want.bits);
      expect(cert.checkPrivateKey(key)).toBe(true);
      expect(cert.verify(cert.publicKey)).toBe(true);
    });
  }

  it('issues a certificate signed by the given issuer, with the issuer subject as its issuer', async () => {
    const ca = await generateSelfSigned({ keyType: 'ecdsa-p384', isCa: true, commonName: 'Test Root' });
    const leaf = await generateSelfSigned({ keyType: 'rsa-2048', issuer: ca, dnsNames: ['svc.test'] });
    const caCert = new X509Certificate(ca.certPem);
    const leafCert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(leafCert.issuer).toBe('CN=Test Root');
    expect(leafCert.subject).toBe('CN=svc.test');
    expect(leafCert.subjectAltName).toBe('DNS:svc.test');
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
    expect(leafCert.verify(leafCert.publicKey)).toBe(false);
    expect(leafCert.checkIssued(caCert)).toBe(true);
  });

  it('uses the validity period it is given', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2020-02-01T00:00:00Z');
    const cert = new X509Certificate((await generateSelfSigned({ keyType: 'ed25519', notBefore, notAfter })).certPem);
    expect(new Date(cert.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(cert.validTo).toISOString()).toBe(notAfter.toISOString());
  });

  it('leaves the subjectAltName out when given no names', async () => {
    const cert = new X509Certificate(
      (await generateSelfSigned({ keyType: 'ed25519', commonName: 'nameless', dnsNames: [], ips: [] })).certPem,
    );
    expect(cert.subjectAltName).toBeUndefined();
    expect(cert.subject).toBe('CN=nameless');
  });

  it('certifies an existing key when given one', async () => {
    const first = await generateSelfSigned({ keyType: 'ecdsa-p256' });
    const second = await generateSelfSigned({ keyType: 'ecdsa-p256', keyPem: first.keyPem });
    expect(spkiOf(second.keyPem).equals(spkiOf(first.keyPem))).toBe(true);
    expect(new X509Certificate(second.certPem).checkPrivateKey(createPrivateKey(first.keyPem))).toBe(true);
    await expect(generateSelfSigned({ keyType: 'ed25519', keyPem: first.keyPem })).rejects.toThrow(/keyType/);
  });

  it('refuses an IP SAN that is not an IP address', async () => {
    await expect(generateSelfSigned({ keyType: 'ed25519', ips: ['localhost'] })).rejects.toThrow(/not an IP address/);
  });
});
