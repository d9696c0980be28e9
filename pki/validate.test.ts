import { createPrivateKey, createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { REFUSALS } from '../wire/refusals.js';
import { type GeneratedCertificate, type GenerateOptions, generateSelfSigned, type KeyType } from './generate.js';
import { pemToDerList } from './pem.js';
import {
  type CertificateFailureReason,
  clearValidationCache,
  MAX_CHAIN_LENGTH,
  MAX_SIGNATURE_CHECKS,
  VALIDATION_CACHE_SIZE,
  type ValidateOptions,
  type ValidationResult,
  validateServerChain,
} from './validate.js';

const DAY = 86_400_000;
const der = (c: GeneratedCertificate): Uint8Array => pemToDerList(c.certPem)[0] as Uint8Array;
const spkiOf = (keyPem: string): Buffer => createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
const now = (): Date => new Date();

function expectFailure(r: ValidationResult, alert: string, reason: string): string {
  if (r.ok) throw new Error(`expected ${reason}, the chain was accepted`);
  expect(r.error.reason).toBe(reason);
  expect(r.error.alert).toBe(alert);
  return r.error.message;
}

function expectOk(r: ValidationResult): Extract<ValidationResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected acceptance, got ${r.error.reason}: ${r.error.message}`);
  return r;
}

// One PKI for most tests: root → intermediate → leaf (localhost, 127.0.0.1).
let root: GeneratedCertificate;
let inter: GeneratedCertificate;
let leaf: GeneratedCertificate;
let otherRoot: GeneratedCertificate;

const leafOf = (issuer: GeneratedCertificate, extra: Partial<GenerateOptions> = {}): Promise<GeneratedCertificate> =>
  generateSelfSigned({ keyType: 'ecdsa-p256', issuer, ...extra });

beforeAll(async () => {
  root = await generateSelfSigned({ keyType: 'ecdsa-p384', isCa: true, commonName: 'Test Root' });
  inter = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: 'Test Intermediate', issuer: root });
  leaf = await leafOf(inter);
  otherRoot = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: 'Other Root' });
});

const opts = (extra: Partial<ValidateOptions> = {}): ValidateOptions => ({
  ca: root.certPem,
  now: now(),
  purpose: 'server',
  serverName: 'localhost',
  ...extra,
});

describe('validateServerChain accepts', () => {
  it('a root → intermediate → leaf chain and returns the leaf and its SubjectPublicKeyInfo', () => {
    const r = expectOk(validateServerChain([der(leaf), der(inter)], opts()));
    expect(Buffer.from(r.leafSpki).equals(spkiOf(leaf.keyPem))).toBe(true);
    expect(r.leaf.subject).toBe('CN=localhost');
    expect(r.chain.map((c) => c.subject)).toEqual(['CN=localhost', 'CN=Test Intermediate', 'CN=Test Root']);
  });

  it('intermediates in any order and ignores unrelated extra certificates', () => {
    const r = validateServerChain([der(leaf), der(otherRoot), der(root), der(inter)], opts());
    expect(expectOk(r).chain).toHaveLength(3);
  });

  it('a self-signed leaf the user passed as a trusted CA', async () => {
    const self = await generateSelfSigned({ keyType: 'ecdsa-p256' });
    const r = expectOk(validateServerChain([der(self)], opts({ ca: self.certPem })));
    expect(r.chain).toHaveLength(1);
  });

  it('a chain when the CA option is a list or a bundle of several PEM blocks', () => {
    expectOk(validateServerChain([der(leaf), der(inter)], opts({ ca: [otherRoot.certPem, root.certPem] })));
    expectOk(validateServerChain([der(leaf), der(inter)], opts({ ca: otherRoot.certPem + root.certPem })));
  });

  it('an IP literal listed as an IP address subjectAltName, IPv4 and IPv6', async () => {
    const ipLeaf = await leafOf(inter, { dnsNames: [], ips: ['192.0.2.7', '2001:db8::1'] });
    const chain = [der(ipLeaf), der(inter)];
    expectOk(validateServerChain(chain, opts({ serverName: '192.0.2.7' })));
    expectOk(validateServerChain(chain, opts({ serverName: '2001:db8::1' })));
    expectOk(validateServerChain(chain, opts({ serverName: '[2001:db8:0::1]' })));
  });

  it('host names case-insensitively and with a trailing dot', () => {
    expectOk(validateServerChain([der(leaf), der(inter)], opts({ serverName: 'LocalHost' })));
    expectOk(validateServerChain([der(leaf), der(inter)], opts({ serverName: 'localhost.' })));
  });

  it('a wildcard name for exactly one left-most label', async () => {
    const wild = await leafOf(inter, { dnsNames: ['*.example.test'] });
    expectOk(validateServerChain([der(wild), der(inter)], opts({ serverName: 'www.example.test' })));
    for (const name of ['example.test', 'a.b.example.test']) {
      expectFailure(validateServerChain([der(wild), der(inter)], opts({ serverName: name })), 'bad_certificate', 'HostnameMismatch');
    }
  });

  it('any name when no server name is asked for', async () => {
    const other = await leafOf(inter, { dnsNames: ['elsewhere.test'] });
    const { serverName: _unused, ...noName } = opts();
    expectOk(validateServerChain([der(other), der(inter)], noName));
  });

  const keyTypes: KeyType[] = ['rsa-2048', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'];
  for (const keyType of keyTypes) {
    it(`a ${keyType} leaf issued by a ${keyType} CA`, async () => {
      const ca = await generateSelfSigned({ keyType, isCa: true, commonName: `${keyType} CA` });
      const l = await generateSelfSigned({ keyType, issuer: ca });
      const r = expectOk(validateServerChain([der(l)], opts({ ca: ca.certPem })));
      expect(Buffer.from(r.leafSpki).equals(spkiOf(l.keyPem))).toBe(true);
    });
  }

  it('a client certificate for purpose client without a name to check', async () => {
    const client = await leafOf(inter, { dnsNames: [], ips: [], commonName: 'alice', extendedKeyUsage: ['clientAuth'] });
    expectOk(validateServerChain([der(client), der(inter)], { ca: root.certPem, now: now(), purpose: 'client' }));
  });

  it('a leaf without any extendedKeyUsage for both purposes', async () => {
    const noEku = await leafOf(inter, { extendedKeyUsage: [] });
    expectOk(validateServerChain([der(noEku), der(inter)], opts({ purpose: 'server' })));
    expectOk(validateServerChain([der(noEku), der(inter)], opts({ purpose: 'client' })));
  });

  it('a trust anchor that is itself signed with SHA-1, since its own signature is not relied on', async () => {
    const sha1Root = await generateSelfSigned({ keyType: 'rsa-2048', isCa: true, commonName: 'Old Root', signatureHash: 'SHA-1' });
    const l = await leafOf(sha1Root);
    expectOk(validateServerChain([der(l)], opts({ ca: sha1Root.certPem })));
  });

  it('the path through a valid intermediate when the chain also holds an expired certificate for the same key', async () => {
    const expiredCopy = await generateSelfSigned({
      keyType: 'ecdsa-p256',
      keyPem: inter.keyPem,
      isCa: true,
      commonName: 'Test Intermediate',
      issuer: root,
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 30 * DAY),
    });
    expectOk(validateServerChain([der(leaf), der(expiredCopy), der(inter)], opts()));
    // The expired copy alone is not enough, and the error says why.
    expectFailure(validateServerChain([der(leaf), der(expiredCopy)], opts()), 'certificate_expired', 'CertificateExpired');
  });
});

describe('validateServerChain refuses', () => {
  it('an empty chain with bad_certificate EmptyChain', () => {
    expectFailure(validateServerChain([], opts()), 'bad_certificate', 'EmptyChain');
  });

  it('bytes that are not a certificate with bad_certificate BadCertificateEncoding', () => {
    const good = der(leaf);
    const cases = [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), good.subarray(0, good.length - 10), Uint8Array.of(...good, 0)];
    for (const bad of cases) {
      expectFailure(validateServerChain([bad, der(inter)], opts()), 'bad_certificate', 'BadCertificateEncoding');
      expectFailure(validateServerChain([good, bad], opts()), 'bad_certificate', 'BadCertificateEncoding');
    }
  });

  it('an expired leaf with certificate_expired CertificateExpired', async () => {
    const old = await leafOf(inter, { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    const msg = expectFailure(validateServerChain([der(old), der(inter)], opts()), 'certificate_expired', 'CertificateExpired');
    expect(msg).toMatch(/leaf certificate CN=localhost expired at/);
  });

  it('a leaf that is not valid yet with bad_certificate CertificateNotYetValid (as OpenSSL)', async () => {
    const early = await leafOf(inter, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 10 * DAY) });
    const msg = expectFailure(validateServerChain([der(early), der(inter)], opts()), 'bad_certificate', 'CertificateNotYetValid');
    expect(msg).toMatch(/is not valid before/);
  });

  it('a good chain judged at a time after it expired, using the injected clock', () => {
    const later = new Date(Date.now() + 400 * DAY);
    expectFailure(validateServerChain([der(leaf), der(inter)], opts({ now: later })), 'certificate_expired', 'CertificateExpired');
  });

  it('a chain whose intermediate expired, naming the intermediate', async () => {
    const oldInter = await generateSelfSigned({
      keyType: 'ecdsa-p256',
      isCa: true,
      commonName: 'Old Intermediate',
      issuer: root,
      notBefore: new Date(Date.now() - 100 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const l = await leafOf(oldInter);
    const msg = expectFailure(validateServerChain([der(l), der(oldInter)], opts()), 'certificate_expired', 'CertificateExpired');
    expect(msg).toMatch(/intermediate certificate 1 CN=Old Intermediate expired/);
  });

  it('a chain that leads to an untrusted root with unknown_ca UnknownCa', () => {
    expectFailure(validateServerChain([der(leaf), der(inter)], opts({ ca: otherRoot.certPem })), 'unknown_ca', 'UnknownCa');
  });

  it('a chain without its intermediate with unknown_ca UnknownCa', () => {
    const msg = expectFailure(validateServerChain([der(leaf)], opts()), 'unknown_ca', 'UnknownCa');
    expect(msg).toMatch(/issuer CN=Test Intermediate/);
  });

  it('a test chain against the default system roots with unknown_ca UnknownCa', () => {
    const { ca: _unused, ...systemRoots } = opts();
    expectFailure(validateServerChain([der(leaf), der(inter)], systemRoots), 'unknown_ca', 'UnknownCa');
  });

  it('a self-signed leaf that is not among the trusted CAs with unknown_ca UnknownCa', async () => {
    const self = await generateSelfSigned({ keyType: 'ed25519' });
    const msg = expectFailure(validateServerChain([der(self)], opts()), 'unknown_ca', 'UnknownCa');
    expect(msg).toMatch(/self-signed/);
  });

  it('an intermediate with the right name but another key (the signature decides, not the name)', async () => {
    const impostor = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: 'Test Intermediate', issuer: root });
    expectFailure(validateServerChain([der(leaf), der(impostor)], opts()), 'unknown_ca', 'UnknownCa');
  });

  it('a certificate issued by an intermediate without CA:TRUE with bad_certificate NotACa', async () => {
    const notCa = await generateSelfSigned({ keyType: 'ecdsa-p256', commonName: 'Not A CA', issuer: root, dnsNames: [], ips: [] });
    const l = await leafOf(notCa);
    const msg = expectFailure(validateServerChain([der(l), der(notCa)], opts()), 'bad_certificate', 'NotACa');
    expect(msg).toMatch(/CN=Not A CA .*CA:FALSE/);
  });

  it('a certificate issued by a CA whose keyUsage lacks keyCertSign with bad_certificate NotACa', async () => {
    const noSign = await generateSelfSigned({
      keyType: 'ecdsa-p256',
      isCa: true,
      commonName: 'No CertSign',
      issuer: root,
      keyUsage: ['digitalSignature', 'cRLSign'],
    });
    const l = await leafOf(noSign);
    const msg = expectFailure(validateServerChain([der(l), der(noSign)], opts()), 'bad_certificate', 'NotACa');
    expect(msg).toMatch(/keyCertSign/);
  });

  it('a chain longer than a CA pathLenConstraint allows with bad_certificate PathLengthExceeded', async () => {
    const strictRoot = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, pathLength: 0, commonName: 'Strict Root' });
    const i1 = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: 'Under Strict', issuer: strictRoot });
    const l = await leafOf(i1);
    expectFailure(validateServerChain([der(l), der(i1)], opts({ ca: strictRoot.certPem })), 'bad_certificate', 'PathLengthExceeded');
    // pathLen 0 still allows issuing leaves directly.
    expectOk(validateServerChain([der(await leafOf(strictRoot))], opts({ ca: strictRoot.certPem })));
  });

  it('a leaf whose keyUsage lacks digitalSignature with bad_certificate BadKeyUsage', async () => {
    const l = await leafOf(inter, { keyUsage: ['keyEncipherment'] });
    expectFailure(validateServerChain([der(l), der(inter)], opts()), 'bad_certificate', 'BadKeyUsage');
  });

  it('a client-only leaf as a server certificate with unsupported_certificate BadExtendedKeyUsage', async () => {
    const l = await leafOf(inter, { extendedKeyUsage: ['clientAuth'] });
    const msg = expectFailure(validateServerChain([der(l), der(inter)], opts()), 'unsupported_certificate', 'BadExtendedKeyUsage');
    expect(msg).toMatch(/serverAuth/);
  });

  it('a server-only leaf as a client certificate with unsupported_certificate BadExtendedKeyUsage', async () => {
    const l = await leafOf(inter, { extendedKeyUsage: ['serverAuth'] });
    expectOk(validateServerChain([der(l), der(inter)], opts({ purpose: 'server' })));
    expectFailure(validateServerChain([der(l), der(inter)], opts({ purpose: 'client' })), 'unsupported_certificate', 'BadExtendedKeyUsage');
  });

  it('a leaf under an intermediate restricted to other purposes with unsupported_certificate BadExtendedKeyUsage', async () => {
    const emailCa = await generateSelfSigned({
      keyType: 'ecdsa-p256',
      isCa: true,
      commonName: 'Email CA',
      issuer: root,
      extendedKeyUsage: ['emailProtection'],
    });
    const l = await leafOf(emailCa);
    const msg = expectFailure(validateServerChain([der(l), der(emailCa)], opts()), 'unsupported_certificate', 'BadExtendedKeyUsage');
    expect(msg).toMatch(/Email CA/);
  });

  it('a leaf for another host with bad_certificate HostnameMismatch, naming the host and the SANs', async () => {
    const other = await leafOf(inter, { dnsNames: ['other.test'], ips: ['192.0.2.1'] });
    const msg = expectFailure(validateServerChain([der(other), der(inter)], opts()), 'bad_certificate', 'HostnameMismatch');
    expect(msg).toContain('"localhost"');
    expect(msg).toContain('DNS:other.test');
    expect(msg).toContain('IP Address:192.0.2.1');
  });

  it('an IP address that is not an IP SAN, even when it appears as a DNS name', async () => {
    const dnsOnly = await leafOf(inter, { dnsNames: ['192.0.2.9', 'localhost'], ips: ['192.0.2.10'] });
    expectFailure(
      validateServerChain([der(dnsOnly), der(inter)], opts({ serverName: '192.0.2.9' })),
      'bad_certificate',
      'HostnameMismatch',
    );
  });

  it('a name that is only in the subject CN, since the CN is never used', async () => {
    const cnOnly = await leafOf(inter, { commonName: 'localhost', dnsNames: [], ips: [] });
    const msg = expectFailure(validateServerChain([der(cnOnly), der(inter)], opts()), 'bad_certificate', 'HostnameMismatch');
    expect(msg).toMatch(/no subjectAltName/);
  });

  it('a leaf signed with SHA-1 with bad_certificate WeakSignature', async () => {
    const rsaRoot = await generateSelfSigned({ keyType: 'rsa-2048', isCa: true, commonName: 'RSA Root' });
    const l = await leafOf(rsaRoot, { signatureHash: 'SHA-1' });
    const msg = expectFailure(validateServerChain([der(l)], opts({ ca: rsaRoot.certPem })), 'bad_certificate', 'WeakSignature');
    expect(msg).toMatch(/SHA-1/);
  });

  it('an intermediate signed with ECDSA-SHA-1 with bad_certificate WeakSignature', async () => {
    const weakInter = await generateSelfSigned({
      keyType: 'ecdsa-p256',
      isCa: true,
      commonName: 'Weak Intermediate',
      issuer: root,
      signatureHash: 'SHA-1',
    });
    const l = await leafOf(weakInter);
    const msg = expectFailure(validateServerChain([der(l), der(weakInter)], opts()), 'bad_certificate', 'WeakSignature');
    expect(msg).toMatch(/Weak Intermediate/);
  });

  it(`a path longer than ${MAX_CHAIN_LENGTH} certificates with unknown_ca ChainTooLong, and accepts one of exactly ${MAX_CHAIN_LENGTH}`, async () => {
    const chainRoot = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: 'Deep Root' });
    const inters: GeneratedCertificate[] = [];
    let issuer = chainRoot;
    for (let i = 0; i < MAX_CHAIN_LENGTH - 1; i++) {
      issuer = await generateSelfSigned({ keyType: 'ecdsa-p256', isCa: true, commonName: `Deep ${i}`, issuer });
      inters.push(issuer);
    }
    // root + 9 intermediates + leaf = 11 certificates.
    const tooDeep = await leafOf(issuer);
    const deepChain = [der(tooDeep), ...inters.map(der)];
    expectFailure(validateServerChain(deepChain, opts({ ca: chainRoot.certPem })), 'unknown_ca', 'ChainTooLong');
    // root + 8 intermediates + leaf = 10 certificates.
    const justFits = await leafOf(inters[inters.length - 2] as GeneratedCertificate);
    const fitChain = [der(justFits), ...inters.slice(0, -1).map(der)];
    expect(expectOk(validateServerChain(fitChain, opts({ ca: chainRoot.certPem }))).chain).toHaveLength(MAX_CHAIN_LENGTH);
  });

  it(`a chain that needs more than ${MAX_SIGNATURE_CHECKS} signature checks to find its issuer`, async () => {
    // Decoys share the intermediate's name but not its key; the real intermediate comes last.
    const decoys = (
      await Promise.all(
        Array.from({ length: MAX_SIGNATURE_CHECKS }, () =>
          generateSelfSigned({ keyType: 'ed25519', isCa: true, commonName: 'Test Intermediate' }),
        ),
      )
    ).map(der);
    const msg = expectFailure(validateServerChain([der(leaf), ...decoys, der(inter)], opts()), 'unknown_ca', 'UnknownCa');
    expect(msg).toMatch(/gave up/);
    // With the real intermediate first the same certificates validate.
    expectOk(validateServerChain([der(leaf), der(inter), ...decoys], opts()));
  });

  it('a CA option that is not a certificate with internal_error InvalidTrustAnchor', () => {
    const garbage = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expectFailure(validateServerChain([der(leaf), der(inter)], opts({ ca: garbage })), 'internal_error', 'InvalidTrustAnchor');
  });
});

describe('certificate refusals in the refusal table', () => {
  it('name for every reason an alert RFC 8446 §6.2 defines for certificate failures, or internal_error', () => {
    const allowed = new Set(['bad_certificate', 'unsupported_certificate', 'certificate_expired', 'unknown_ca', 'internal_error']);
    const reasons: CertificateFailureReason[] = [
      'EmptyChain',
      'BadCertificateEncoding',
      'CertificateExpired',
      'CertificateNotYetValid',
      'UnknownCa',
      'ChainTooLong',
      'NotACa',
      'PathLengthExceeded',
      'WeakSignature',
      'BadKeyUsage',
      'BadExtendedKeyUsage',
      'HostnameMismatch',
      'InvalidTrustAnchor',
    ];
    for (const reason of reasons) expect(allowed.has(String(REFUSALS[reason].alert)), reason).toBe(true);
  });
});

describe('validateServerChain remembers a success, never an expiry', () => {
  it('parses and checks a chain once: the same inputs give back the same result object', () => {
    clearValidationCache();
    const first = expectOk(validateServerChain([der(leaf), der(inter)], opts()));
    const copies = [new Uint8Array(der(leaf)), new Uint8Array(der(inter))];
    expect(validateServerChain(copies, opts())).toBe(first);
  });

  it('refuses a remembered chain once a certificate of its path expired, even a millisecond after', async () => {
    // Whole seconds: X.509 validity times have no fractions.
    const notAfter = new Date(Math.floor((Date.now() + DAY) / 1000) * 1000);
    const short = await leafOf(inter, { notBefore: new Date(Date.now() - DAY), notAfter });
    const ok = expectOk(validateServerChain([der(short), der(inter)], opts()));
    expect(validateServerChain([der(short), der(inter)], opts({ now: notAfter }))).toBe(ok);
    const msg = expectFailure(
      validateServerChain([der(short), der(inter)], opts({ now: new Date(notAfter.getTime() + 1) })),
      'certificate_expired',
      'CertificateExpired',
    );
    expect(msg).toMatch(/leaf certificate CN=localhost expired at/);
  });

  it('refuses a remembered chain before the notBefore of a certificate of its path', async () => {
    const notBefore = new Date(Math.floor((Date.now() - 2000) / 1000) * 1000);
    const fresh = await leafOf(inter, { notBefore, notAfter: new Date(Date.now() + DAY) });
    expectOk(validateServerChain([der(fresh), der(inter)], opts()));
    expectFailure(
      validateServerChain([der(fresh), der(inter)], opts({ now: new Date(notBefore.getTime() - 1) })),
      'bad_certificate',
      'CertificateNotYetValid',
    );
  });

  it('judges the same chain again for another server name, CA list or purpose', async () => {
    expectOk(validateServerChain([der(leaf), der(inter)], opts()));
    expectFailure(validateServerChain([der(leaf), der(inter)], opts({ serverName: 'example.com' })), 'bad_certificate', 'HostnameMismatch');
    expectFailure(validateServerChain([der(leaf), der(inter)], opts({ ca: otherRoot.certPem })), 'unknown_ca', 'UnknownCa');
    const serverOnly = await leafOf(inter, { extendedKeyUsage: ['serverAuth'] });
    expectOk(validateServerChain([der(serverOnly), der(inter)], opts()));
    expectFailure(
      validateServerChain([der(serverOnly), der(inter)], opts({ purpose: 'client', serverName: undefined as unknown as string })),
      'unsupported_certificate',
      'BadExtendedKeyUsage',
    );
  });

  it('keeps a bounded number of validations: the least recently used is validated again', () => {
    clearValidationCache();
    const first = expectOk(validateServerChain([der(leaf), der(inter)], opts()));
    // Other names the leaf is valid for (host names match case-insensitively), each its own entry.
    const spellings = Array.from({ length: VALIDATION_CACHE_SIZE }, (_, i) =>
      [...'localhost'].map((ch, bit) => (((i + 1) >> bit) & 1 ? ch.toUpperCase() : ch)).join(''),
    );
    expect(new Set(spellings).size).toBe(VALIDATION_CACHE_SIZE);
    for (const name of spellings) expectOk(validateServerChain([der(leaf), der(inter)], opts({ serverName: name })));
    const again = expectOk(validateServerChain([der(leaf), der(inter)], opts()));
    expect(again).not.toBe(first);
    expect(again.leafSpki).toEqual(first.leafSpki);
  });
});
