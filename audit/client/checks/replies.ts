/**
 * Deviant server replies (RFC 8446 §4, §4.2, §4.2.11, §4.4.4): the probing
 * server answers the first resumption offer of the check in one precise
 * wrong way, keyed so that a client which does not check would go on (the
 * keys a lax client would derive), and expects the alert RFC 8446 names.
 * Later connections of the check are answered normally.
 */

import { PskKeyExchangeMode } from '../../../wire/types.js';
import type { FindingDraft } from '../../findings.js';
import {
  type Deviation,
  deviant,
  fromConnection,
  inconclusive,
  judgeRefusal,
  noOffer,
  type ProbeDef,
  reaction,
  records,
  resumeIfPossible,
  type Scenario,
  type ScenarioState,
  STANDARD_TICKETS,
} from './common.js';

const check = 'reply';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

const PSK_RULE =
  'Clients MUST verify that the server\'s selected_identity is within the range supplied by the client, that the server selected a cipher suite indicating a Hash associated with the PSK, and that a server "key_share" extension is present if required by the ClientHello "psk_key_exchange_modes" extension; if these values are not consistent, the client MUST abort the handshake with an "illegal_parameter" alert.';
const ORDER_RULE =
  'Protocol messages MUST be sent in the order of §4.4.1 and §2; a peer which receives a handshake message in an unexpected order MUST abort with "unexpected_message". With a PSK, the server authenticates with the PSK: EncryptedExtensions is followed by Finished (Appendix A.1: WAIT_EE → WAIT_FINISHED).';

const atServerHello = ['expectServerHello', 'failed'];
const inPskFlight = ['expectServerHello', 'expectEncryptedExtensions', 'expectServerFinished', 'failed'];

export const REPLY_PROBES = {
  outOfRange: def({
    id: 'reply.selected-identity-out-of-range',
    title: 'A selected_identity out of range is refused',
    rfc: { section: '4.2.11', keyword: 'MUST', text: PSK_RULE },
    refusal: 'SelectedUnofferedPsk',
    expected: { summary: 'abort with illegal_parameter on the ServerHello', alert: 'illegal_parameter', statePath: atServerHello },
    sends: 'a PSK ServerHello whose selected_identity is the number of identities offered (one past the last), keyed with the first PSK',
  }),
  pskKe: def({
    id: 'reply.psk-without-key-share',
    title: 'A PSK ServerHello without key_share (psk_ke forced) is refused',
    rfc: { section: '4.2.11', keyword: 'MUST', text: PSK_RULE },
    refusal: 'PskWithoutKeyShare',
    expected: {
      summary: 'abort with illegal_parameter when only psk_dhe_ke was offered',
      alert: 'illegal_parameter',
      statePath: atServerHello,
    },
    sends: 'a PSK ServerHello without key_share, keyed as psk_ke (no (EC)DHE), whatever modes were offered',
  }),
  hash: def({
    id: 'reply.suite-hash-mismatch',
    title: "A cipher suite whose hash is not the ticket's is refused",
    rfc: { section: '4.2.11', keyword: 'MUST', text: PSK_RULE },
    refusal: 'PskHashMismatch',
    expected: { summary: 'abort with illegal_parameter on the ServerHello', alert: 'illegal_parameter', statePath: atServerHello },
    sends: 'a PSK ServerHello for a SHA-256 ticket under a SHA-384 suite (or the reverse), keyed with the PSK extracted under that hash',
  }),
  certificate: def({
    id: 'reply.certificate-after-psk',
    title: 'A Certificate after a PSK ServerHello is refused',
    rfc: { section: '4', keyword: 'MUST', text: ORDER_RULE },
    refusal: 'UnexpectedMessage',
    expected: { summary: 'abort with unexpected_message on the Certificate', alert: 'unexpected_message', statePath: inPskFlight },
    sends: 'a resumed flight with Certificate and a valid CertificateVerify between EncryptedExtensions and a Finished over all of it',
  }),
  certificateVerify: def({
    id: 'reply.certificate-verify-after-psk',
    title: 'A CertificateVerify after a PSK ServerHello is refused',
    rfc: { section: '4', keyword: 'MUST', text: ORDER_RULE },
    refusal: 'UnexpectedMessage',
    expected: { summary: 'abort with unexpected_message on the CertificateVerify', alert: 'unexpected_message', statePath: inPskFlight },
    sends: 'a resumed flight with a CertificateVerify (no Certificate) between EncryptedExtensions and a Finished over all of it',
  }),
  earlyData: def({
    id: 'reply.unoffered-early-data',
    title: 'early_data in EncryptedExtensions that was not offered is refused',
    rfc: {
      section: '4.2',
      keyword: 'MUST',
      text: 'Implementations MUST NOT send extension responses if the remote endpoint did not send the corresponding extension requests; upon receiving such an extension, an endpoint MUST abort the handshake with an "unsupported_extension" alert.',
    },
    refusal: 'UnofferedEarlyData',
    expected: {
      summary: 'abort with unsupported_extension on the EncryptedExtensions',
      alert: 'unsupported_extension',
      statePath: ['expectServerHello', 'expectEncryptedExtensions', 'failed'],
    },
    sends: 'a resumed flight whose EncryptedExtensions carries early_data, to a ClientHello without early_data',
  }),
  skipFinished: def({
    id: 'reply.skip-finished',
    title: 'A resumed handshake that skips Finished is refused',
    rfc: {
      section: '4',
      keyword: 'MUST',
      text: `${ORDER_RULE} The server Finished is mandatory (§4.4.4): nothing else may take its place.`,
    },
    refusal: 'UnexpectedMessage',
    expected: { summary: 'abort with unexpected_message on the application data', alert: 'unexpected_message', statePath: inPskFlight },
    sends:
      'a resumed ServerHello and EncryptedExtensions, then application data under the handshake keys where the server Finished belongs',
  }),
  wrongFinished: def({
    id: 'reply.wrong-finished',
    title: 'A wrong server Finished is refused',
    rfc: {
      section: '4.4.4',
      keyword: 'MUST',
      text: 'Recipients of Finished messages MUST verify that the contents are correct and if incorrect MUST terminate the connection with a "decrypt_error" alert.',
    },
    refusal: 'BadFinished',
    expected: { summary: 'abort with decrypt_error on the server Finished', alert: 'decrypt_error', statePath: inPskFlight },
    sends: 'a resumed flight whose Finished has the last bit of its verify_data flipped',
  }),
} satisfies Record<string, ProbeDef>;

function replyScenario(
  deviation: Deviation,
  probe: ProbeDef,
  alerts: string[],
  what: string,
  title: string,
  atServerHello = false,
): Scenario {
  return {
    id: deviation,
    check,
    title,
    does: probe.sends,
    connections: 2,
    instructions: 'connect twice: a full handshake, then one that offers a ticket',
    probes: [probe],
    reply: (v, s: ScenarioState) => resumeIfPossible(v, s.deviated ? undefined : deviation),
    tickets: () => STANDARD_TICKETS,
    judge(s): FindingDraft[] {
      const c = deviant(s);
      if (!c) {
        const skipped = s.connections.find((x) => x.deviationSkipped !== undefined);
        return [inconclusive(probe, skipped?.deviationSkipped ?? noOffer(s), records(s.connections))];
      }
      const j = judgeRefusal(c, alerts, what, atServerHello);
      const offeredPskKe = c.hellos.at(-1)?.modes?.includes(PskKeyExchangeMode.psk_ke) ?? false;
      if (deviation === 'psk-without-key-share') {
        const accepted = c.clientFinished === true;
        const policy = { rule: 'tlschart never resumes without (EC)DHE', violated: accepted };
        if (offeredPskKe) {
          // The client listed psk_ke: a resumption without key_share is one it asked for.
          return [
            fromConnection(
              probe,
              c,
              accepted
                ? {
                    ...j,
                    rfcVerdict: 'info',
                    reason: 'the client listed psk_ke, so a resumption without key_share is allowed; it has no forward secrecy',
                    policy,
                  }
                : { ...j, rfcVerdict: 'warn', reason: `the client listed psk_ke but ${reaction(c)} when the server chose it`, policy },
              s.connections,
            ),
          ];
        }
        return [fromConnection(probe, c, { ...j, policy }, s.connections)];
      }
      return [fromConnection(probe, c, j, s.connections)];
    },
  };
}

export const replyScenarios: Scenario[] = [
  replyScenario(
    'selected-identity-out-of-range',
    REPLY_PROBES.outOfRange,
    ['illegal_parameter'],
    'a selected_identity out of range',
    'selected_identity out of range',
    true,
  ),
  replyScenario(
    'psk-without-key-share',
    REPLY_PROBES.pskKe,
    ['illegal_parameter'],
    'a PSK ServerHello without key_share',
    'PSK ServerHello without key_share',
    true,
  ),
  replyScenario(
    'suite-hash-mismatch',
    REPLY_PROBES.hash,
    ['illegal_parameter'],
    "a cipher suite whose hash is not the ticket's",
    "Suite hash not the ticket's",
    true,
  ),
  replyScenario(
    'certificate-after-psk',
    REPLY_PROBES.certificate,
    ['unexpected_message'],
    'a Certificate after a PSK ServerHello',
    'Certificate after PSK',
  ),
  replyScenario(
    'certificate-verify-after-psk',
    REPLY_PROBES.certificateVerify,
    ['unexpected_message'],
    'a CertificateVerify after a PSK ServerHello',
    'CertificateVerify after PSK',
  ),
  replyScenario(
    'unoffered-early-data',
    REPLY_PROBES.earlyData,
    ['unsupported_extension'],
    'early_data in EncryptedExtensions it did not offer',
    'Unoffered early_data',
  ),
  replyScenario(
    'skip-finished',
    REPLY_PROBES.skipFinished,
    ['unexpected_message'],
    'a resumed handshake without the server Finished',
    'Skipped Finished',
  ),
  replyScenario('wrong-finished', REPLY_PROBES.wrongFinished, ['decrypt_error'], 'a wrong server Finished', 'Wrong Finished'),
];
