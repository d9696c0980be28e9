/**
 * The peer certificate as node:tls's getPeerCertificate() describes it, built
 * by node:crypto's X509Certificate (its legacy object form is the same shape).
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate as NodePeerCertificate } from 'node:tls';

/** node:tls's certificate object: subject, issuer, valid_from, valid_to, subjectaltname, fingerprint256, raw, ... */
export type PeerCertificate = NodePeerCertificate & { issuerCertificate?: PeerCertificate };

function describe(der: Uint8Array): PeerCertificate {
  return new X509Certificate(der).toLegacyObject() as PeerCertificate;
}

/**
 * The leaf of `chain` (DER, leaf first) as a node-like object, or `{}` when
 * there is none (as node:tls). With `detailed`, each certificate links to the
 * next one of the chain through `issuerCertificate`; a self-issued last
 * certificate links to itself, as node:tls does for a root.
 */
export function peerCertificateObject(chain: readonly Uint8Array[], detailed = false): PeerCertificate | Record<string, never> {
  const [leaf] = chain;
  if (leaf === undefined) return {};
  const first = describe(leaf);
  if (!detailed) return first;
  let current = first;
  for (const der of chain.slice(1)) {
    const next = describe(der);
    current.issuerCertificate = next;
    current = next;
  }
  const last = new X509Certificate(chain[chain.length - 1] as Uint8Array);
  if (last.checkIssued(last)) current.issuerCertificate = current;
  return first;
}
