/**
 * The monitor's public context: the recorded side's chart context as the
 * monitor can fill it from public material — the hellos, the transcript, the
 * suite, the peer's certificate key, ChangeCipherSpec and close_notify — with
 * every secret left out (no key shares' private keys, no traffic secrets, no
 * PSK). The chart's own guards and judges run on it wherever they need no
 * secret: the EncryptedExtensions and Certificate rules, CertificateVerify
 * (the transcript is public), ChangeCipherSpec, close_notify, and any guard a
 * chart adds that the monitor has no rule for.
 *
 * The configuration is what the trace recorded of it (groups, suites, ALPN,
 * client authentication) or, for the client, what its ClientHello offered;
 * what the trace does not say keeps tlschart's defaults.
 */
import { nobleProvider } from '../../crypto/noble.js';
import { type HashName, suiteByName } from '../../crypto/suites.js';
import { defaultClientConfig, defaultServerConfig, parseLeafOnly } from '../../engine/config.js';
import { offersPskDheKe } from '../../machines/server/logic.js';
import type { ClientConfig, ServerConfig } from '../../machines/types.js';
import { findExtension } from '../../wire/extensions.js';
import { CipherSuite, type ClientHello, NamedGroup } from '../../wire/types.js';
import type { ConfigSummary, JsonValue, Role } from '../format.js';
import { isResumed, type Knowledge, suiteOf } from './knowledge.js';

/** A chart context as the monitor fills it: the chart's initial context with the public fields set. */
export type PublicContext = Record<string, unknown>;

/**
 * Fills the witness slot of a verification whose outcome the trace gives (a
 * Finished MAC needs the traffic secrets): the charts' guards only ask
 * whether the slot is filled. It is not a witness and proves nothing — the
 * monitor's context never builds a connection.
 */
export const VERIFIED_BY_TRACE = Object.freeze({ kind: 'outcome taken from the recorded trace' });

const codes = (v: JsonValue | undefined, table: Record<string, number>): number[] | undefined =>
  Array.isArray(v) ? v.flatMap((n) => (typeof n === 'string' && n in table ? [table[n] as number] : [])) : undefined;
const flag = (v: JsonValue | undefined): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const strings = (v: JsonValue | undefined): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;

/** A configuration flag the trace recorded (requestClientCertificate, …), if it did. */
export const recordedFlag = (summary: ConfigSummary, name: string): boolean | undefined => flag(summary[name]);

/** The groups whose shares the recorded server would use: its recorded configuration, else all the provider implements. */
export function serverGroups(summary: ConfigSummary): number[] {
  return codes(summary.groups, NamedGroup) ?? [...nobleProvider.groups];
}

/** The hash of the ticket the recorded client offered, when its configuration names the session's suite (§4.2.11). */
export function offeredPskHash(summary: ConfigSummary): HashName | undefined {
  const name = summary.sessionSuite;
  return typeof name === 'string' ? suiteByName(name)?.hash : undefined;
}

function serverConfig(summary: ConfigSummary): ServerConfig {
  const overrides: Partial<ServerConfig> = { groups: serverGroups(summary) };
  const suites = codes(summary.cipherSuites, CipherSuite);
  if (suites) overrides.cipherSuites = suites;
  const alpn = strings(summary.alpnProtocols);
  if (alpn) overrides.alpnProtocols = alpn;
  for (const name of ['requestClientCertificate', 'requireClientCertificate', 'forceHelloRetry'] as const) {
    const f = recordedFlag(summary, name);
    if (f !== undefined) overrides[name] = f;
  }
  return defaultServerConfig(overrides);
}

/** What the client offered is read from its ClientHello; the chain is only parsed (trust comes from the trace). */
function clientConfig(summary: ConfigSummary, ch: ClientHello | undefined): ClientConfig {
  const name = summary.serverName;
  const overrides: Partial<ClientConfig> = { verifyServerChain: parseLeafOnly, serverName: typeof name === 'string' ? name : undefined };
  if (ch) {
    overrides.cipherSuites = [...ch.cipherSuites];
    overrides.groups = findExtension(ch.extensions, 'supported_groups')?.groups ?? [];
    overrides.signatureSchemes = findExtension(ch.extensions, 'signature_algorithms')?.schemes ?? [];
    overrides.alpnProtocols = findExtension(ch.extensions, 'alpn')?.protocols ?? [];
  }
  return defaultClientConfig(overrides);
}

/** The public context of `role` after what the monitor knows so far. */
export function publicContext(role: Role, initial: object, summary: ConfigSummary, k: Knowledge): PublicContext {
  const common = {
    ...initial,
    clientHello: k.clientHello,
    clientHello1: k.clientHello1,
    helloRetryRequest: k.helloRetry,
    suite: suiteOf(k),
    resumed: isResumed(k),
    group: findExtension(k.serverHello?.extensions ?? [], 'key_share_server')?.share.group,
    transcript: k.transcript,
    peerChain: k.peerChain,
    peerSpki: k.peerSpki,
    ccsReceived: k.ccsReceived,
    closeNotifySent: k.closeNotifySent,
    closeNotifyReceived: k.closeNotifyReceived,
    clientRandom: k.clientHello1?.random ?? new Uint8Array(0),
  };
  if (role === 'client') {
    return {
      ...common,
      config: clientConfig(summary, k.clientHello),
      legacySessionId: k.clientHello1?.legacySessionId ?? new Uint8Array(0),
      certificateRequest: k.certificateRequest,
      serverFinished: k.peerFinished ? VERIFIED_BY_TRACE : undefined,
    };
  }
  return {
    ...common,
    config: serverConfig(summary),
    offersPskDheKe: k.clientHello !== undefined && offersPskDheKe(k.clientHello),
    earlyDataOffered: k.clientHello1 !== undefined && findExtension(k.clientHello1.extensions, 'early_data') !== undefined,
    clientCertificateRequested: k.certificateRequest !== undefined,
    clientFinished: k.peerFinished ? VERIFIED_BY_TRACE : undefined,
  };
}
