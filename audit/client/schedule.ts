/**
 * The key schedule of the probing server (RFC 8446 §7.1), step by step.
 *
 * tlschart's own schedule (crypto/keyschedule.ts) is built as forward-only
 * stages that refuse a PSK whose length is not the suite's Hash.length. The
 * probing server must sometimes derive exactly what a lax client would: a
 * resumption under a cipher suite whose hash differs from the ticket's
 * (§4.2.11: the client MUST refuse it), where the Early Secret is
 * HKDF-Extract over a PSK of the other hash's length. So the stages are
 * spelled out here from the same primitives (HKDF-Extract of the provider,
 * Derive-Secret and HKDF-Expand-Label of crypto/keyschedule.ts), with every
 * call given the provider explicitly.
 */
import { deriveSecret } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import type { SuiteInfo } from '../../crypto/suites.js';

export const P = nobleProvider;

const emptyHash = (suite: SuiteInfo) => P.hash(suite.hash, new Uint8Array(0));

/** Early Secret = HKDF-Extract(0, PSK or 0); the PSK may be of any length here. */
export function earlySecret(suite: SuiteInfo, psk: Uint8Array | undefined): Uint8Array {
  return P.hkdfExtract(suite.hash, new Uint8Array(suite.hashLen), psk ?? new Uint8Array(suite.hashLen));
}

/** binder_key = Derive-Secret(Early Secret, "res binder", "") (§7.1). */
export function resumptionBinderKey(suite: SuiteInfo, early: Uint8Array): Uint8Array {
  return deriveSecret(suite.hash, early, 'res binder', emptyHash(suite), P);
}

/** client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello) (§7.1). */
export function clientEarlyTrafficSecret(suite: SuiteInfo, early: Uint8Array, helloHash: Uint8Array): Uint8Array {
  return deriveSecret(suite.hash, early, 'c e traffic', helloHash, P);
}

export interface HandshakeSecrets {
  handshake: Uint8Array;
  client: Uint8Array;
  server: Uint8Array;
}

/** Handshake Secret and the two handshake traffic secrets over ClientHello…ServerHello (§7.1). */
export function handshakeSecrets(suite: SuiteInfo, early: Uint8Array, ecdhe: Uint8Array, helloHash: Uint8Array): HandshakeSecrets {
  const salt = deriveSecret(suite.hash, early, 'derived', emptyHash(suite), P);
  const handshake = P.hkdfExtract(suite.hash, salt, ecdhe);
  return {
    handshake,
    client: deriveSecret(suite.hash, handshake, 'c hs traffic', helloHash, P),
    server: deriveSecret(suite.hash, handshake, 's hs traffic', helloHash, P),
  };
}

export interface ApplicationSecrets {
  master: Uint8Array;
  client: Uint8Array;
  server: Uint8Array;
}

/** Master Secret and the application traffic secrets over ClientHello…server Finished (§7.1). */
export function applicationSecrets(suite: SuiteInfo, handshake: Uint8Array, serverFinishedHash: Uint8Array): ApplicationSecrets {
  const salt = deriveSecret(suite.hash, handshake, 'derived', emptyHash(suite), P);
  const master = P.hkdfExtract(suite.hash, salt, new Uint8Array(suite.hashLen));
  return {
    master,
    client: deriveSecret(suite.hash, master, 'c ap traffic', serverFinishedHash, P),
    server: deriveSecret(suite.hash, master, 's ap traffic', serverFinishedHash, P),
  };
}

/** resumption_master_secret = Derive-Secret(Master Secret, "res master", ClientHello…client Finished) (§7.1). */
export function resumptionMasterSecret(suite: SuiteInfo, master: Uint8Array, clientFinishedHash: Uint8Array): Uint8Array {
  return deriveSecret(suite.hash, master, 'res master', clientFinishedHash, P);
}
