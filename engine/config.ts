/** Defaults for client and server configurations, and the chain checkers the engine plugs in. */
import { createHash, X509Certificate } from 'node:crypto';
import { BoundedCache } from '../crypto/cache.js';
import { SUPPORTED_GROUPS } from '../crypto/kex.js';
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
      error: new TlsError('bad_certificate', 'BadCertificateEncoding', `the end-entity certificate does not parse: ${(e as Error).message}`),
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

export function defaultClientConfig(overrides: Partial<ClientConfig> = {}): ClientConfig {
  const groups = overrides.groups ?? [...SUPPORTED_GROUPS];
  return {
    serverName: undefined,
    alpnProtocols: [],
    groups,
    keyShareGroups: groups.length > 0 ? [groups[0] ?? NamedGroup.x25519] : [],
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
    groups: [...SUPPORTED_GROUPS],
    cipherSuites: [...SUPPORTED_SUITES],
    alpnProtocols: [],
    ticketsPerHandshake: DEFAULT_TICKETS_PER_HANDSHAKE,
    ticketLifetimeS: DEFAULT_TICKET_LIFETIME_S,
    requestClientCertificate: false,
    requireClientCertificate: false,
    verifyClientChain: undefined,
    forceHelloRetry: false,
    maxEarlyDataSkip: 16384,
    ...overrides,
  };
}
