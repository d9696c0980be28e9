/**
 * Throwaway certificates: the CLI's self-signed certificate and the chains the
 * tests need (CA → intermediate → leaf, expired leaves, leaves for other names,
 * intermediates without CA:TRUE, SHA-1 signatures, ...).
 *
 * node:crypto can parse certificates but not issue them, so issuing goes
 * through @peculiar/x509 over node's WebCrypto. Nothing here is used to
 * validate a peer; see validate.ts for that.
 */
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { derToPem } from './pem.js';

// @peculiar/x509 is typed against the DOM's WebCrypto; node's is the same API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa-2048';

/** RFC 5280 §4.2.1.3 key usage bits, by name. */
export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign';

export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection';

export interface GenerateOptions {
  /** Type of the fresh key; must match `keyPem` when that is given. */
  keyType: KeyType;
  /** Certify this existing PKCS#8 key instead of a fresh one (a renewed or cross-signed certificate). */
  keyPem?: string;
  commonName?: string;
  /** subjectAltName DNS names. When both `dnsNames` and `ips` are absent: localhost and 127.0.0.1 (leaf only). Pass [] for none. */
  dnsNames?: string[];
  /** subjectAltName IP addresses (IPv4 or IPv6 literals). */
  ips?: string[];
  /** Default: five minutes ago, so a small clock skew does not matter. */
  notBefore?: Date;
  /** Default: 365 days after notBefore. */
  notAfter?: Date;
  /** basicConstraints CA:TRUE (and keyCertSign + cRLSign key usage unless `keyUsage` says otherwise). */
  isCa?: boolean;
  /** basicConstraints pathLenConstraint, for CA certificates. */
  pathLength?: number;
  /** The issuing certificate and its PKCS#8 key; absent means self-signed. */
  issuer?: { certPem: string; keyPem: string };
  /** Overrides the key usage bits; [] leaves the extension out. Default: digitalSignature (leaf), keyCertSign + cRLSign + digitalSignature (CA). */
  keyUsage?: KeyUsageName[];
  /** Overrides extendedKeyUsage; [] leaves the extension out. Default: serverAuth + clientAuth (leaf), none (CA). */
  extendedKeyUsage?: ExtendedKeyUsageName[];
  /** Hash of the certificate signature for ECDSA/RSA issuers (default SHA-256, SHA-384 for a P-384 issuer). SHA-1 exists to test rejection of weak signatures. */
  signatureHash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
}

export interface GeneratedCertificate {
  certPem: string;
  /** PKCS#8 private key, PEM. */
  keyPem: string;
}

const KEY_USAGE_BITS: Record<KeyUsageName, x509.KeyUsageFlags> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  nonRepudiation: x509.KeyUsageFlags.nonRepudiation,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  dataEncipherment: x509.KeyUsageFlags.dataEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
  keyCertSign: x509.KeyUsageFlags.keyCertSign,
  cRLSign: x509.KeyUsageFlags.cRLSign,
};

const EKU_OIDS: Record<ExtendedKeyUsageName, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
  codeSigning: x509.ExtendedKeyUsage.codeSigning,
  emailProtection: x509.ExtendedKeyUsage.emailProtection,
};

/** WebCrypto parameters to generate a key pair of each type. The RSA hash only matters for certificate signatures. */
function generationAlgorithm(keyType: KeyType): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | Algorithm {
  switch (keyType) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'rsa-2048':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
  }
}

/** The key type of an existing PKCS#8 PEM key, so an issuer key can be imported for signing. */
function keyTypeOfPem(keyPem: string): KeyType {
  const key = createPrivateKey(keyPem);
  const kind = key.asymmetricKeyType;
  if (kind === 'ed25519') return 'ed25519';
  if (kind === 'rsa') return 'rsa-2048';
  if (kind === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256';
    if (curve === 'secp384r1') return 'ecdsa-p384';
    throw new TypeError(`issuer key: unsupported EC curve ${String(curve)}`);
  }
  throw new TypeError(`issuer key: unsupported key type ${String(kind)}`);
}

/** Signature algorithm for certificates signed by a key of this type. */
function signingAlgorithm(keyType: KeyType, hash: GenerateOptions['signatureHash']): Algorithm | EcdsaParams {
  switch (keyType) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', hash: hash ?? 'SHA-256' } as EcdsaParams;
    case 'ecdsa-p384':
      return { name: 'ECDSA', hash: hash ?? 'SHA-384' } as EcdsaParams;
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'rsa-2048':
      return { name: 'RSASSA-PKCS1-v1_5', hash: hash ?? 'SHA-256' } as Algorithm;
  }
}

async function importSigningKey(keyPem: string, keyType: KeyType, hash: GenerateOptions['signatureHash']): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  const base = generationAlgorithm(keyType);
  // For RSA the hash is bound to the imported key in WebCrypto.
  const alg = keyType === 'rsa-2048' ? { ...base, hash: hash ?? 'SHA-256' } : base;
  return webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
}

async function freshKeys(keyType: KeyType): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(generationAlgorithm(keyType), true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function existingKeys(keyPem: string, keyType: KeyType): Promise<webcrypto.CryptoKeyPair> {
  const actual = keyTypeOfPem(keyPem);
  if (actual !== keyType) throw new TypeError(`generateSelfSigned: keyPem is ${actual}, keyType says ${keyType}`);
  const priv = createPrivateKey(keyPem);
  const alg = generationAlgorithm(keyType);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', priv.export({ type: 'pkcs8', format: 'der' }), alg, true, ['sign']);
  const spki = createPublicKey(priv).export({ type: 'spki', format: 'der' });
  const publicKey = await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify']);
  return { privateKey, publicKey };
}

/**
 * Issue a certificate for a fresh key of `keyType` (or for `keyPem`):
 * self-signed, or signed by `issuer`. Returns the certificate and its PKCS#8 private key, both PEM.
 */
export async function generateSelfSigned(opts: GenerateOptions): Promise<GeneratedCertificate> {
  const isCa = opts.isCa ?? false;
  const keys = opts.keyPem === undefined ? await freshKeys(opts.keyType) : await existingKeys(opts.keyPem, opts.keyType);

  const noNamesGiven = opts.dnsNames === undefined && opts.ips === undefined;
  const dnsNames = opts.dnsNames ?? (noNamesGiven && !isCa ? ['localhost'] : []);
  const ips = opts.ips ?? (noNamesGiven && !isCa ? ['127.0.0.1'] : []);
  for (const ip of ips) {
    if (isIP(ip) === 0) throw new TypeError(`generateSelfSigned: ${ip} is not an IP address`);
  }
  const commonName = opts.commonName ?? dnsNames[0] ?? ips[0] ?? (isCa ? 'tlschart test CA' : 'tlschart');

  const notBefore = opts.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + 365 * 86_400_000);

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, isCa ? opts.pathLength : undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const keyUsage = opts.keyUsage ?? (isCa ? ['keyCertSign', 'cRLSign', 'digitalSignature'] : ['digitalSignature']);
  if (keyUsage.length > 0) {
    let bits = 0;
    for (const u of keyUsage) bits |= KEY_USAGE_BITS[u];
    extensions.push(new x509.KeyUsagesExtension(bits, true));
  }
  const eku = opts.extendedKeyUsage ?? (isCa ? [] : ['serverAuth', 'clientAuth']);
  if (eku.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(eku.map((u) => EKU_OIDS[u])));
  }
  const sans = [...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));

  const subject: x509.JsonName = [{ CN: [commonName] }];
  let cert: x509.X509Certificate;
  if (opts.issuer === undefined) {
    cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: subject,
      keys,
      notBefore,
      notAfter,
      extensions,
      signingAlgorithm: signingAlgorithm(opts.keyType, opts.signatureHash),
    });
  } else {
    const issuerCert = new x509.X509Certificate(opts.issuer.certPem);
    const issuerKeyType = keyTypeOfPem(opts.issuer.keyPem);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey));
    cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: issuerCert.subjectName,
      publicKey: keys.publicKey,
      signingKey: await importSigningKey(opts.issuer.keyPem, issuerKeyType, opts.signatureHash),
      notBefore,
      notAfter,
      extensions,
      signingAlgorithm: signingAlgorithm(issuerKeyType, opts.signatureHash),
    });
  }

  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certPem: derToPem(new Uint8Array(cert.rawData)),
    keyPem: derToPem(new Uint8Array(pkcs8), 'PRIVATE KEY'),
  };
}
