/**
 * The crypto verdicts an imported trace can carry truthfully: with the
 * traffic secrets of the key log and the transcript as captured, the importer
 * recomputes each Finished (RFC 8446 §4.4.4: HMAC over the transcript with the
 * finished_key of the sender's handshake traffic secret) and verifies each
 * CertificateVerify (§4.4.3) with the key of the sender's certificate. The
 * outcome goes on the receiver's step under the name of the chart guard that
 * makes that decision, so the conformance monitor judges the captured peer
 * with it: a peer that goes on after a Finished that does not verify is
 * reported.
 *
 * PSK binders (§4.2.11.2) are not recomputed: the binder key comes from the
 * resumption_master_secret of the earlier connection, which an NSS key log
 * does not hold. Certificate trust is not judged either (the peer's trust
 * store is unknown). For those the monitor follows what the peer did.
 */

import { X509Certificate } from 'node:crypto';
import { nobleProvider } from '../../crypto/noble.js';
import type { SuiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { verifyCertificateVerify, verifyFinished } from '../../crypto/witness.js';
import type { HandshakeMessage } from '../../wire/types.js';
import type { GuardOutcome } from '../format.js';
import type { ConnectionSecrets } from './keylog.js';
import type { WireItem } from './tls.js';

/** Guard outcomes recomputed for the receiver of each item, by item index. */
export function recomputedGuards(
  items: readonly WireItem[],
  suite: SuiteInfo | undefined,
  secrets: ConnectionSecrets,
): Map<number, GuardOutcome[]> {
  const out = new Map<number, GuardOutcome[]>();
  if (!suite) return out;
  let transcript: Uint8Array[] = [];
  const spki: Partial<Record<'client' | 'server', Uint8Array>> = {};
  let clientFinished = false;
  const hash = () => transcriptHash(suite.hash, transcript, nobleProvider);
  items.forEach((it, i) => {
    const m: HandshakeMessage | undefined = it.decoded;
    if (!m || clientFinished || m.type === 'new_session_ticket' || m.type === 'key_update') return;
    if (m.type === 'server_hello' && m.isHelloRetryRequest && transcript.length === 1) {
      // §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by message_hash.
      transcript = [messageHashMessage(suite.hash, transcript[0] as Uint8Array, nobleProvider)];
    }
    if (m.type === 'certificate') {
      const leaf = m.entries[0]?.certData;
      const key = leaf ? leafSpki(leaf) : undefined;
      if (key) spki[it.from] = key;
      else delete spki[it.from];
    }
    if (m.type === 'certificate_verify') {
      const key = spki[it.from];
      if (key) {
        const ok = verifyCertificateVerify(m.algorithm, key, it.from, hash(), m.signature, nobleProvider) !== undefined;
        out.set(i, [{ guard: it.from === 'server' ? 'isServerSignatureValid' : 'isClientSignatureValid', result: ok }]);
      }
    }
    if (m.type === 'finished') {
      const base = secrets[it.from === 'server' ? 'SERVER_HANDSHAKE_TRAFFIC_SECRET' : 'CLIENT_HANDSHAKE_TRAFFIC_SECRET'];
      if (base && base.length === suite.hashLen) {
        const ok = verifyFinished(suite, base, hash(), m.verifyData, nobleProvider) !== undefined;
        out.set(i, [{ guard: it.from === 'server' ? 'isServerFinishedValid' : 'isClientFinishedValid', result: ok }]);
      }
      if (it.from === 'client') clientFinished = true;
    }
    transcript.push(m.raw);
  });
  return out;
}

/** The SubjectPublicKeyInfo of a DER certificate, or undefined if it does not parse. */
function leafSpki(der: Uint8Array): Uint8Array | undefined {
  try {
    return new Uint8Array(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }));
  } catch (e) {
    // A certificate node cannot parse leaves the signature unjudged; the monitor follows the peer.
    if (e instanceof Error) return undefined;
    throw e;
  }
}
