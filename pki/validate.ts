/**
 * Peer certificate chain validation for TLS 1.3 (RFC 8446 §4.4.2.4: a peer
 * whose certificate chain is unacceptable gets an alert; §6.2 names them).
 *
 * The chain arrives as DER, leaf first, intermediates in any order (RFC 8446
 * §4.4.2 allows that and lets the sender add unneeded certificates).
 * Parsing and signature checks are node:crypto's (OpenSSL); extension fields
 * (basicConstraints, keyUsage bits, extendedKeyUsage, the signature algorithm
 * OID) are read with @peculiar/x509's parser. No ASN.1 is decoded here.
 *
 * Everything is synchronous so the engine can run it before it sends the
 * `recv.Certificate` event; the result carries the leaf's SubjectPublicKeyInfo
 * that the CertificateVerify guard then checks a signature against.
 */
import 'reflect-metadata';
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import * as px509 from '@peculiar/x509';
import { BoundedCache } from '../crypto/cache.js';
import { refuse, type TlsError } from '../wire/alerts.js';
import { pemToDerList } from './pem.js';

/** Most certificates in a path, leaf and trust anchor included. */
export const MAX_CHAIN_LENGTH = 10;
/** Signature checks one validation may spend building paths (Go uses the same bound). */
export const MAX_SIGNATURE_CHECKS = 100;

/**
 * Why a chain was refused. Each reason is an entry of the refusal table
 * (wire/refusals.ts), which names its one alert: mostly what OpenSSL's
 * ssl_x509err2alert sends (a not-yet-valid certificate is bad_certificate, only a
 * past notAfter is certificate_expired; an issuer that is not a CA is bad_certificate).
 */
export type CertificateFailureReason =
  | 'EmptyChain'
  | 'BadCertificateEncoding'
  | 'CertificateExpired'
  | 'CertificateNotYetValid'
  | 'UnknownCa'
  | 'ChainTooLong'
  | 'NotACa'
  | 'PathLengthExceeded'
  | 'WeakSignature'
  | 'BadKeyUsage'
  | 'BadExtendedKeyUsage'
  | 'HostnameMismatch'
  | 'InvalidTrustAnchor';

export interface ValidateOptions {
  /** Name the peer must be valid for: a DNS name or an IPv4/IPv6 literal. No check when absent. */
  serverName?: string;
  /** Trusted CA certificates, PEM (several blocks per string allowed). Default: node:tls rootCertificates. */
  ca?: string | string[];
  now: Date;
  /** Which extendedKeyUsage the leaf must allow: serverAuth or clientAuth. */
  purpose: 'server' | 'client';
}

export type ValidationResult =
  | {
      ok: true;
      /** DER SubjectPublicKeyInfo of the leaf, for the CertificateVerify signature check. */
      leafSpki: Uint8Array;
      leaf: X509Certificate;
      /** The verified path, leaf first, trust anchor last. */
      chain: X509Certificate[];
    }
  | { ok: false; error: TlsError };

const OID_ANY_EKU = '2.5.29.37.0';
/** Hashes too weak for certificate signatures (collisions are practical). */
const WEAK_HASHES: ReadonlySet<string> = new Set(['MD2', 'MD4', 'MD5', 'SHA-1']);
/**
 * Signature algorithms whose hash is broken, by OID: the ones @peculiar/x509
 * does not name (it reports an unknown algorithm by its OID).
 */
const WEAK_SIGNATURE_OIDS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption'],
  ['1.2.840.113549.1.1.3', 'md4WithRSAEncryption'],
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.3.14.3.2.29', 'sha1WithRSASignature'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10040.4.3', 'dsa-with-sha1'],
]);

let nextId = 0;

/** The fields the path checks read, from @peculiar/x509's parser. */
interface CertDetails {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly basicConstraints: px509.BasicConstraintsExtension | null;
  readonly keyUsage: px509.KeyUsagesExtension | null;
  readonly extendedKeyUsage: px509.ExtendedKeyUsageExtension | null;
  /** Signature algorithm as @peculiar/x509 names it: `{name, hash}` when it knows it, `{name: OID}` when it does not. */
  readonly signatureAlgorithm: { name: string; hash?: { name?: string } };
}

/**
 * One certificate. node:crypto parses it up front (fast, and it is what
 * verifies signatures); the extension details are parsed only for the
 * certificates of a candidate path, because @peculiar/x509 is slow and the
 * system root store alone holds well over a hundred certificates.
 */
class Cert {
  readonly id = nextId++;
  /** SHA-256 fingerprint: identity of the DER bytes. */
  readonly key: string;
  readonly subject: string;
  readonly issuer: string;
  #details: CertDetails | null | undefined;

  constructor(
    readonly der: Uint8Array,
    readonly node: X509Certificate,
  ) {
    this.key = node.fingerprint256;
    this.subject = node.subject;
    this.issuer = node.issuer;
  }

  /** Extension details, or undefined when @peculiar/x509 cannot parse the certificate. */
  details(): CertDetails | undefined {
    if (this.#details === undefined) {
      try {
        const px = new px509.X509Certificate(this.der);
        this.#details = {
          notBefore: px.notBefore,
          notAfter: px.notAfter,
          basicConstraints: px.getExtension(px509.BasicConstraintsExtension),
          keyUsage: px.getExtension(px509.KeyUsagesExtension),
          extendedKeyUsage: px.getExtension(px509.ExtendedKeyUsageExtension),
          signatureAlgorithm: px.signatureAlgorithm as CertDetails['signatureAlgorithm'],
        };
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        this.#details = null;
      }
    }
    return this.#details ?? undefined;
  }
}

/** Parse DER; undefined when node:crypto refuses it or bytes trail the certificate. */
function parseCert(der: Uint8Array): Cert | undefined {
  try {
    const node = new X509Certificate(der);
    if (node.raw.length !== der.length) return undefined;
    return new Cert(der, node);
  } catch (e) {
    if (e instanceof Error) return undefined;
    throw e;
  }
}

/** A set of trust anchors, indexed by subject for issuer lookups and by DER for "is this cert itself trusted". */
interface Anchors {
  /** Names this set in the validation cache. */
  id: number;
  bySubject: Map<string, Cert[]>;
  byKey: Map<string, Cert>;
}

let nextAnchorsId = 0;

function indexAnchors(pems: readonly string[]): Anchors | string {
  const anchors: Anchors = { id: nextAnchorsId++, bySubject: new Map(), byKey: new Map() };
  for (const [i, pem] of pems.entries()) {
    let ders: Uint8Array[];
    try {
      ders = pemToDerList(pem);
    } catch (e) {
      return `trusted CA entry ${i}: ${e instanceof Error ? e.message : String(e)}`;
    }
    for (const [j, der] of ders.entries()) {
      const c = parseCert(der);
      if (c === undefined) return `trusted CA entry ${i}, certificate ${j} cannot be parsed`;
      if (anchors.byKey.has(c.key)) continue;
      anchors.byKey.set(c.key, c);
      const list = anchors.bySubject.get(c.subject) ?? [];
      list.push(c);
      anchors.bySubject.set(c.subject, list);
    }
  }
  return anchors;
}

let systemAnchors: Anchors | undefined;
/** Parsed CA lists, by PEM text, so a server checking many client chains parses its ca option once. */
const anchorCache = new Map<string, Anchors>();
const ANCHOR_CACHE_SIZE = 16;

function anchorsFor(ca: ValidateOptions['ca']): Anchors | string {
  if (ca === undefined) {
    if (systemAnchors === undefined) {
      const a = indexAnchors(rootCertificates);
      if (typeof a === 'string') return a;
      systemAnchors = a;
    }
    return systemAnchors;
  }
  const pems = typeof ca === 'string' ? [ca] : ca;
  const cacheKey = pems.join('\n');
  const hit = anchorCache.get(cacheKey);
  if (hit !== undefined) return hit;
  const a = indexAnchors(pems);
  if (typeof a === 'string') return a;
  if (anchorCache.size >= ANCHOR_CACHE_SIZE) {
    const oldest = anchorCache.keys().next();
    if (oldest.done !== true) anchorCache.delete(oldest.value);
  }
  anchorCache.set(cacheKey, a);
  return a;
}

/** How a certificate is named in messages: its subject on one line. */
function nameOf(c: Cert): string {
  return c.subject.replace(/\n/g, ', ') || '(empty subject)';
}

function roleOf(index: number, pathLength: number): string {
  if (index === 0) return pathLength === 1 ? 'trusted leaf certificate' : 'leaf certificate';
  return index === pathLength - 1 ? 'trust anchor' : `intermediate certificate ${index}`;
}

/** A failure, and whether it belongs to the leaf alone (then no other path can avoid it). */
interface PathFailure {
  error: TlsError;
  leafOnly: boolean;
}

function failure(reason: CertificateFailureReason, message: string, leafOnly = false): PathFailure {
  return { error: refuse(reason, message), leafOnly };
}

interface SearchState {
  signatureChecks: number;
  budgetExhausted: boolean;
  depthReached: boolean;
  verified: Map<string, boolean>;
}

/** Does `parent`'s key verify `child`'s signature? Memoized, and bounded by MAX_SIGNATURE_CHECKS. */
function isSignedBy(child: Cert, parent: Cert, st: SearchState): boolean {
  const memoKey = `${child.id}:${parent.id}`;
  const known = st.verified.get(memoKey);
  if (known !== undefined) return known;
  if (st.signatureChecks >= MAX_SIGNATURE_CHECKS) {
    st.budgetExhausted = true;
    return false;
  }
  st.signatureChecks++;
  let ok: boolean;
  try {
    ok = child.node.verify(parent.node.publicKey);
  } catch (e) {
    // A key type OpenSSL cannot use for this signature: not an issuer.
    if (!(e instanceof Error)) throw e;
    ok = false;
  }
  st.verified.set(memoKey, ok);
  return ok;
}

/**
 * Every path from the last certificate of `path` to a trust anchor, shortest
 * first at each step: a certificate that is itself in the CA list ends the
 * path; otherwise an anchor whose subject is its issuer and whose key verifies
 * its signature; otherwise each pool certificate that does, recursively.
 */
function* buildPaths(path: Cert[], pool: readonly Cert[], anchors: Anchors, st: SearchState): Generator<Cert[]> {
  const cur = path[path.length - 1] as Cert;
  if (anchors.byKey.has(cur.key)) {
    yield path;
    return;
  }
  if (path.length >= MAX_CHAIN_LENGTH) {
    st.depthReached = true;
    return;
  }
  for (const anchor of anchors.bySubject.get(cur.issuer) ?? []) {
    if (isSignedBy(cur, anchor, st)) yield [...path, anchor];
  }
  for (const next of pool) {
    if (next.subject !== cur.issuer || path.some((p) => p.key === next.key)) continue;
    if (isSignedBy(cur, next, st)) yield* buildPaths([...path, next], pool, anchors, st);
  }
}

function hasEku(d: CertDetails, oid: string): boolean {
  const usages = d.extendedKeyUsage?.usages ?? [];
  return usages.some((u) => u === oid || u === OID_ANY_EKU);
}

function isSelfIssued(c: Cert): boolean {
  return c.subject === c.issuer;
}

/** The checks that depend on a complete path (leaf → anchor), in the order their failures are reported. */
function checkPath(path: readonly Cert[], opts: ValidateOptions): PathFailure | undefined {
  const n = path.length;
  const now = opts.now.getTime();
  const ds: CertDetails[] = [];
  for (const [i, c] of path.entries()) {
    const d = c.details();
    if (d === undefined) {
      return i === n - 1 && i > 0
        ? failure('InvalidTrustAnchor', `the extensions of trusted CA ${nameOf(c)} cannot be parsed`)
        : failure('BadCertificateEncoding', `the extensions of ${roleOf(i, n)} ${nameOf(c)} cannot be parsed`, i === 0);
    }
    ds.push(d);
  }
  const at = (i: number): CertDetails => ds[i] as CertDetails;

  // Validity period of every certificate, anchor included (RFC 5280 §6.1.3 (a)(2)).
  for (const [i, c] of path.entries()) {
    const { notBefore, notAfter } = at(i);
    if (now < notBefore.getTime()) {
      return failure(
        'CertificateNotYetValid',
        `${roleOf(i, n)} ${nameOf(c)} is not valid before ${notBefore.toISOString()} (now ${opts.now.toISOString()})`,
        i === 0,
      );
    }
    if (now > notAfter.getTime()) {
      return failure(
        'CertificateExpired',
        `${roleOf(i, n)} ${nameOf(c)} expired at ${notAfter.toISOString()} (now ${opts.now.toISOString()})`,
        i === 0,
      );
    }
  }

  // Every issuing certificate must be a CA allowed to sign certificates (RFC 5280 §4.2.1.9, §4.2.1.3).
  // An intermediate needs basicConstraints CA:TRUE; a configured trust anchor only must not
  // contradict it (old v1 roots carry no extensions at all).
  for (let i = 1; i < n; i++) {
    const c = path[i] as Cert;
    const isAnchor = i === n - 1;
    const bc = at(i).basicConstraints;
    if (isAnchor ? bc !== null && !bc.ca : bc === null || !bc.ca) {
      return failure(
        'NotACa',
        `${roleOf(i, n)} ${nameOf(c)} issued a certificate but ${bc === null ? 'has no basicConstraints' : 'has basicConstraints CA:FALSE'}`,
      );
    }
    const ku = at(i).keyUsage;
    if (ku !== null && (ku.usages & px509.KeyUsageFlags.keyCertSign) === 0) {
      return failure('NotACa', `${roleOf(i, n)} ${nameOf(c)} issued a certificate but its keyUsage lacks keyCertSign`);
    }
    const pathLen = bc?.pathLength;
    if (pathLen !== undefined) {
      let below = 0;
      for (let j = 1; j < i; j++) if (!isSelfIssued(path[j] as Cert)) below++;
      if (below > pathLen) {
        return failure(
          'PathLengthExceeded',
          `${roleOf(i, n)} ${nameOf(c)} allows ${pathLen} intermediate certificate(s) below it, the chain has ${below}`,
        );
      }
    }
  }

  // Signatures made with a broken hash, on every certificate whose signature the path relies on.
  for (let i = 0; i < n - 1; i++) {
    const c = path[i] as Cert;
    const alg = at(i).signatureAlgorithm;
    const hash = alg.hash?.name;
    const weak =
      WEAK_SIGNATURE_OIDS.get(alg.name) ??
      (hash !== undefined && WEAK_HASHES.has(hash.toUpperCase()) ? `${alg.name} with ${hash}` : undefined);
    if (weak !== undefined) {
      return failure('WeakSignature', `${roleOf(i, n)} ${nameOf(c)} is signed with ${weak}`, i === 0);
    }
  }

  const leaf = path[0] as Cert;
  // TLS 1.3 authenticates with a signature (CertificateVerify, RFC 8446 §4.4.3).
  const leafKu = at(0).keyUsage;
  if (leafKu !== null && (leafKu.usages & px509.KeyUsageFlags.digitalSignature) === 0) {
    return failure('BadKeyUsage', `${roleOf(0, n)} ${nameOf(leaf)} has a keyUsage without digitalSignature`, true);
  }

  const wanted = opts.purpose === 'server' ? px509.ExtendedKeyUsage.serverAuth : px509.ExtendedKeyUsage.clientAuth;
  const wantedName = opts.purpose === 'server' ? 'serverAuth' : 'clientAuth';
  for (const [i, c] of path.entries()) {
    if (at(i).extendedKeyUsage !== null && !hasEku(at(i), wanted)) {
      return failure('BadExtendedKeyUsage', `${roleOf(i, n)} ${nameOf(c)} has an extendedKeyUsage without ${wantedName}`, i === 0);
    }
  }

  if (opts.serverName !== undefined) {
    const mismatch = checkName(leaf, opts.serverName);
    if (mismatch !== undefined) return failure('HostnameMismatch', mismatch, true);
  }
  return undefined;
}

/**
 * Name check against subjectAltName only: DNS names (wildcard only as a whole
 * left-most label) for a host name, IP addresses for an IP literal. The subject
 * CN is never used, as in Go (1.15+) and browsers. Returns why it failed.
 */
function checkName(leaf: Cert, serverName: string): string | undefined {
  let name = serverName.trim();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  const sans = leaf.node.subjectAltName;
  const listed = sans === undefined ? 'it has no subjectAltName (the subject CN is not used)' : `its subjectAltName is ${sans}`;
  if (isIP(name) !== 0) {
    if (leaf.node.checkIP(name) !== undefined) return undefined;
    return `certificate is not valid for IP address ${name}: ${listed}`;
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  const matched = leaf.node.checkHost(name, {
    subject: 'never',
    wildcards: true,
    partialWildcards: false,
    multiLabelWildcards: false,
    singleLabelSubdomains: false,
  });
  if (matched !== undefined) return undefined;
  return `certificate is not valid for ${JSON.stringify(serverName)}: ${listed}`;
}

function refused(reason: CertificateFailureReason, message: string): { ok: false; error: TlsError } {
  return { ok: false, error: refuse(reason, message) };
}

// ------------------------------------------------------------------ validation cache

/**
 * Distinct successful validations kept: a client that reconnects to the same
 * servers, or a server whose clients present the same chains, parses and
 * checks each chain once instead of on every handshake.
 */
export const VALIDATION_CACHE_SIZE = 256;

/** A successful validation, and the time window in which every certificate of its path is valid. */
interface CachedValidation {
  result: Extract<ValidationResult, { ok: true }>;
  /** Latest notBefore of the path (ms). */
  validFrom: number;
  /** Earliest notAfter of the path (ms). */
  validUntil: number;
}

const validations = new BoundedCache<string, CachedValidation>(VALIDATION_CACHE_SIZE);

/**
 * The cache key: every input the verdict depends on except the time. The
 * chain is named by SHA-256 over its DER certificates, each with its length,
 * in order; the trust anchors by their set (anchorsFor keeps one per CA list);
 * then the purpose and the server name.
 *
 * The time is not in the key and there is no time bucket: a cached success
 * carries the window in which all certificates of its path are valid (latest
 * notBefore .. earliest notAfter), and a lookup outside it is a miss that
 * validates again. So a certificate that expires, even a second after the
 * first validation, is refused exactly as without the cache; inside the
 * window every check of the path gives the same answer (nothing else in the
 * checks depends on the time), so the verdict and the leaf key are the same.
 * Failures are not cached: they are recomputed, with their exact reason.
 */
function validationKey(chainDer: readonly Uint8Array[], anchors: Anchors, opts: ValidateOptions): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const der of chainDer) {
    len.writeUInt32BE(der.length);
    h.update(len).update(der);
  }
  return `${anchors.id}|${opts.purpose}|${opts.serverName ?? ''}|${h.digest('base64')}`;
}

/** Forget every cached validation (tests; after changing what a CA list means). */
export function clearValidationCache(): void {
  validations.clear();
}

/**
 * Validate a peer's certificate chain (leaf first) against trusted CAs at
 * `opts.now`. Returns the leaf and its SubjectPublicKeyInfo, or a TlsError
 * carrying the alert to send and a reason from {@link CertificateFailureReason}.
 *
 * The trust anchor may be the leaf itself only when the leaf is in the CA list
 * (a self-signed certificate the user chose to trust).
 *
 * A chain is parsed and checked once per distinct set of inputs while the
 * result stays valid (see validationKey for what that means); the returned
 * objects are then shared between calls and must not be changed.
 */
export function validateServerChain(chainDer: readonly Uint8Array[], opts: ValidateOptions): ValidationResult {
  if (chainDer.length === 0) return refused('EmptyChain', 'the peer sent no certificate');
  const anchors = anchorsFor(opts.ca);
  if (typeof anchors === 'string') return refused('InvalidTrustAnchor', anchors);
  const key = validationKey(chainDer, anchors, opts);
  const now = opts.now.getTime();
  const hit = validations.get(key);
  if (hit !== undefined) {
    if (now >= hit.validFrom && now <= hit.validUntil) return hit.result;
    validations.delete(key);
  }
  const r = validateUncached(chainDer, anchors, opts);
  if (r.ok) {
    const path = r.path;
    validations.set(key, {
      result: r.result,
      validFrom: Math.max(...path.map((c) => (c.details() as CertDetails).notBefore.getTime())),
      validUntil: Math.min(...path.map((c) => (c.details() as CertDetails).notAfter.getTime())),
    });
    return r.result;
  }
  return r;
}

function validateUncached(
  chainDer: readonly Uint8Array[],
  anchors: Anchors,
  opts: ValidateOptions,
): { ok: true; result: Extract<ValidationResult, { ok: true }>; path: Cert[] } | { ok: false; error: TlsError } {
  const certs: Cert[] = [];
  for (const [i, der] of chainDer.entries()) {
    const c = parseCert(der);
    if (c === undefined) {
      return refused('BadCertificateEncoding', `certificate ${i} of the chain (${der.length} bytes) is not a valid X.509 DER certificate`);
    }
    certs.push(c);
  }

  const leaf = certs[0] as Cert;
  const pool: Cert[] = [];
  for (const c of certs.slice(1)) {
    if (c.key !== leaf.key && !pool.some((p) => p.key === c.key)) pool.push(c);
  }

  const st: SearchState = { signatureChecks: 0, budgetExhausted: false, depthReached: false, verified: new Map() };
  let first: PathFailure | undefined;
  for (const path of buildPaths([leaf], pool, anchors, st)) {
    const f = checkPath(path, opts);
    if (f === undefined) {
      const result = {
        ok: true as const,
        leafSpki: new Uint8Array(leaf.node.publicKey.export({ type: 'spki', format: 'der' })),
        leaf: leaf.node,
        chain: path.map((c) => c.node),
      };
      return { ok: true, result, path };
    }
    first ??= f;
    if (f.leafOnly) break;
  }
  if (first !== undefined) return { ok: false, error: first.error };
  if (st.budgetExhausted) {
    return refused('UnknownCa', `gave up looking for a trusted issuer of ${nameOf(leaf)} after ${MAX_SIGNATURE_CHECKS} signature checks`);
  }
  if (st.depthReached) {
    return refused('ChainTooLong', `no path from ${nameOf(leaf)} to a trusted CA within ${MAX_CHAIN_LENGTH} certificates`);
  }
  if (isSelfIssued(leaf) && pool.length === 0) {
    return refused('UnknownCa', `self-signed certificate ${nameOf(leaf)} is not among the trusted CAs`);
  }
  return refused(
    'UnknownCa',
    `no trusted CA issued ${nameOf(leaf)} (issuer ${leaf.issuer.replace(/\n/g, ', ')}; ${certs.length} certificate(s) sent)`,
  );
}
