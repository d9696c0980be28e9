/** Defaults for client and server configurations, and the chain checkers the engine plugs in. */
import { createHash, X509Certificate } from 'node:crypto';
import { BoundedCache } from '../crypto/cache.js';
import { SUPPORTED_SIGNATURE_SCHEMES } from '../crypto/signature.js';
import { SUPPORTED_SUITES } from '../crypto/suites.js';
import type { ChainVerifier, ClientConfig, ServerConfig } from '../machines/types.js';
import { validateServerChain } from '../pki/validate.js';
import { TlsError } from '../wire/alerts.js';
import { NamedGroup } from '../wire/types.js';

/** Leaf certificates already parsed by parseLeafOnly (SHA-256 of the DER → its SubjectPublicKeyInfo), bounded. */
const leafKeys = new BoundedCache<string, Uint8Array>(256);

/**
 * For rejectUnauthorized: false — the chain is not judged, but the leaf must
 * parse so the CertificateVerify signature can still be checked against its key.
 * Each distinct leaf is parsed once (a cache of 256, least recently used out).
 */
export const parseLeafOnly: ChainVerifier = (chain) => {
  const leaf = chain[0];
  if (!leaf) return { ok: false, error: new TlsError('bad_certificate', 'EmptyChain', 'no certificate') };
  const key = createHash('sha256').update(leaf).digest('base64');
  const known = leafKeys.get(key);
  if (known !== undefined) return { ok: true, leafSpki: known };
  try {
    const leafSpki = new Uint8Array(new X509Certificate(leaf).publicKey.export({ type: 'spki', format: 'der' }));
    leafKeys.set(key, leafSpki);
    return { ok: true, leafSpki };
  } catch (e) {
    return {
      ok: false,
      error: new TlsError(
        'bad_certificate',
        'BadCertificateEncoding',
        `the end-entity certificate does not parse: ${(e as Error).message}`,
      ),
    };
  }
};

/** A checker that validates a chain against CA certificates (PEM; default: Node's root store). */
export function chainVerifier(opts: { ca?: string | string[]; serverName?: string; purpose: 'server' | 'client' }): ChainVerifier {
  return (chain, now) => {
    const r = validateServerChain(chain, {
      now,
      purpose: opts.purpose,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.serverName !== undefined ? { serverName: opts.serverName } : {}),
    });
    return r.ok ? { ok: true, leafSpki: r.leafSpki } : r;
  };
}

/**
 * Groups offered and accepted by default, in preference order: the hybrid
 * post-quantum X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem) first, then x25519,
 * P-256, P-384 — what Chromium, Firefox and OpenSSL 3.5 prefer too.
 */
export const DEFAULT_GROUPS: readonly number[] = [NamedGroup.X25519MLKEM768, NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];

/**
 * The groups a ClientHello sends key shares for (RFC 8446 §4.2.8), given the
 * groups in preference order: the first one; when that is the hybrid
 * X25519MLKEM768, also the first classical group after it, so a server that
 * does not know the hybrid can still answer without a HelloRetryRequest
 * (Chromium sends X25519MLKEM768 + x25519 the same way).
 */
export function keyShareGroupsFor(groups: readonly number[]): number[] {
  const first = groups[0];
  if (first === undefined) return [];
  if (first !== NamedGroup.X25519MLKEM768) return [first];
  const classical = groups.find((g) => g !== NamedGroup.X25519MLKEM768);
  return classical === undefined ? [first] : [first, classical];
}

export function defaultClientConfig(overrides: Partial<ClientConfig> = {}): ClientConfig {
  const groups = overrides.groups ?? [...DEFAULT_GROUPS];
  return {
    serverName: undefined,
    alpnProtocols: [],
    groups,
    keyShareGroups: keyShareGroupsFor(groups),
    cipherSuites: [...SUPPORTED_SUITES],
    signatureSchemes: [...SUPPORTED_SIGNATURE_SCHEMES],
    compatibilityMode: true,
    verifyServerChain: parseLeafOnly,
    clientCertificate: undefined,
    session: undefined,
    ...overrides,
  };
}

export const DEFAULT_TICKETS_PER_HANDSHAKE = 2;
export const DEFAULT_TICKET_LIFETIME_S = 7200;

export function defaultServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    certificates: [],
    groups: [...DEFAULT_GROUPS],
    cipherSuites: [...SUPPORTED_SUITES],
    alpnProtocols: [],
    ticketsPerHandshake: DEFAULT_TICKETS_PER_HANDSHAKE,
    ticketLifetimeS: DEFAULT_TICKET_LIFETIME_S,
    requestClientCertificate: false,
    requireClientCertificate: false,
    verifyClientChain: undefined,
    forceHelloRetry: false,
    maxEarlyDataSkip: 16384,
    earlyTickets: false,
    ...overrides,
  };
}
