/**
 * The server's decisions: what makes a ClientHello unacceptable (each with the
 * alert RFC 8446 names), when to ask for a retry, which cipher suite, group,
 * certificate and PSK to use, and how the binder is recomputed.
 */
import type { AlertOf, AlertingReason } from '../../wire/refusals.js';
import { suiteInfo, type SuiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { TlsError, type AlertName } from '../../wire/alerts.js';
import { memo } from '../memo.js';
import { findDisallowedExtension, findExtension } from '../../wire/extensions.js';
import { truncatedClientHello } from '../../wire/handshake.js';
import { PskKeyExchangeMode, TLS13, type ClientHello } from '../../wire/types.js';
import type { ServerSessionState } from '../../tickets/types.js';
import type { CertifiedKey, ResolvedTickets } from '../types.js';
import type { SelectedPsk, ServerContext } from './context.js';

const err = <R extends AlertingReason>(alert: AlertOf<R>, reason: R, message: string) => new TlsError<R>(alert as never, reason, message);

export function chooseSuite(ctx: ServerContext, ch: ClientHello, tickets: ResolvedTickets): SuiteInfo | undefined {
  // After a HelloRetryRequest the suite is fixed (§4.1.4); the second hello is checked to still offer it.
  if (ctx.helloRetryRequest) return suiteInfo(ctx.helloRetryRequest.cipherSuite);
  // Keep the resumed session's suite when the client still offers it (as OpenSSL does).
  if (offersPskDheKe(ch)) {
    for (const t of tickets) {
      if (t && isTicketUsableFor(ctx, ch, t) && ch.cipherSuites.includes(t.suite) && ctx.config.cipherSuites.includes(t.suite)) {
        return suiteInfo(t.suite);
      }
    }
  }
  const code = ctx.config.cipherSuites.find((c) => ch.cipherSuites.includes(c));
  return code === undefined ? undefined : suiteInfo(code);
}

export function offersPskDheKe(ch: ClientHello): boolean {
  return findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes.includes(PskKeyExchangeMode.psk_dhe_ke) ?? false;
}

/** Groups both sides support, in the server's order. */
function mutualGroups(ctx: ServerContext, ch: ClientHello): number[] {
  const theirs = findExtension(ch.extensions, 'supported_groups')?.groups ?? [];
  return ctx.config.groups.filter((g) => theirs.includes(g));
}

/** The share to use: the server's most preferred group for which the client sent a share. */
export function chooseShare(ctx: ServerContext, ch: ClientHello) {
  const shares = findExtension(ch.extensions, 'key_share_client')?.shares ?? [];
  for (const g of mutualGroups(ctx, ch)) {
    const s = shares.find((x) => x.group === g);
    if (s) return s;
  }
  return undefined;
}

/** The group a HelloRetryRequest asks for. */
export function retryGroup(ctx: ServerContext, ch: ClientHello): number | undefined {
  return mutualGroups(ctx, ch)[0];
}

export function chooseCertificate(ctx: ServerContext, ch: ClientHello): { cert: CertifiedKey; scheme: number } | undefined {
  const offered = findExtension(ch.extensions, 'signature_algorithms')?.schemes ?? [];
  for (const scheme of offered) {
    const cert = ctx.config.certificates.find((c) => c.key.schemes.includes(scheme));
    if (cert) return { cert, scheme };
  }
  return undefined;
}

export function chooseAlpn(ctx: ServerContext, ch: ClientHello): string | undefined {
  const theirs = findExtension(ch.extensions, 'alpn')?.protocols;
  if (!theirs) return undefined;
  return ctx.config.alpnProtocols.find((p) => theirs.includes(p));
}

/**
 * The first offered identity that can be resumed: found in the store, same hash
 * as the chosen suite, same SNI, not expired — and only with psk_dhe_ke (§4.2.9).
 */
export function selectPsk(ctx: ServerContext, ch: ClientHello, tickets: ResolvedTickets): SelectedPsk | undefined {
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  if (!psk || !offersPskDheKe(ch)) return undefined;
  const suite = chooseSuite(ctx, ch, tickets);
  if (!suite) return undefined;
  for (let index = 0; index < psk.identities.length; index++) {
    const state = tickets[index];
    if (!state || suiteInfo(state.suite)?.hash !== suite.hash || !isTicketUsableFor(ctx, ch, state)) continue;
    return { index, state };
  }
  return undefined;
}

/** Same SNI as when it was issued, and within its lifetime (RFC 8446 §4.6.1). */
function isTicketUsableFor(ctx: ServerContext, ch: ClientHello, state: ServerSessionState): boolean {
  const sni = findExtension(ch.extensions, 'server_name')?.hostName;
  const now = ctx.env.now();
  return state.serverName === sni && now >= state.issuedAtMs && now < state.issuedAtMs + state.lifetimeS * 1000;
}

/** Transcript before the ClientHello being processed: empty, or message_hash(CH1) + HRR. */
export function transcriptPrefix(ctx: ServerContext): Uint8Array[] {
  return ctx.helloRetryRequest ? ctx.transcript : [];
}

/** Hash of the PartialClientHello for the binder (§4.2.11.2), from the bytes received. */
export function partialHelloHash(ctx: ServerContext, ch: ClientHello, suite: SuiteInfo): Uint8Array | undefined {
  const partial = truncatedClientHello(ch.raw);
  if (!partial.ok) return undefined;
  return transcriptHash(suite.hash, [...transcriptPrefix(ctx), partial.value], ctx.env.crypto);
}

/** Everything that makes a ClientHello unacceptable, in RFC 8446 order; undefined if none. */
export function clientHelloProblem(ctx: ServerContext, ch: ClientHello, tickets: ResolvedTickets): TlsError | undefined {
  const sv = findExtension(ch.extensions, 'supported_versions_client');
  if (!sv || !sv.versions.includes(TLS13)) {
    return err('protocol_version', 'NoTls13', 'the client does not offer TLS 1.3: tlschart speaks only TLS 1.3');
  }
  if (ch.legacyCompressionMethods.length !== 1 || ch.legacyCompressionMethods[0] !== 0) {
    return err('illegal_parameter', 'Compression', 'legacy_compression_methods must be exactly [null] (§4.1.2)');
  }
  const bad = findDisallowedExtension(ch.extensions, 'client_hello');
  if (bad) return err('illegal_parameter', 'ExtensionNotAllowed', `ClientHello may not carry ${bad.type}`);
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  const modes = findExtension(ch.extensions, 'psk_key_exchange_modes');
  if (psk && !modes) {
    return err('missing_extension', 'PskWithoutModes', 'pre_shared_key offered without psk_key_exchange_modes (§4.2.9)');
  }
  if (psk && psk.identities.length !== psk.binders.length) {
    return err('illegal_parameter', 'BinderCountMismatch', `${psk.identities.length} PSK identities but ${psk.binders.length} binders`);
  }
  const groups = findExtension(ch.extensions, 'supported_groups');
  const keyShare = findExtension(ch.extensions, 'key_share_client');
  if (!groups !== !keyShare) {
    return err('missing_extension', 'GroupsWithoutKeyShare', 'supported_groups and key_share must come together (§9.2)');
  }
  if (!groups || !keyShare) {
    return err('missing_extension', 'NoKeyShare', 'no key_share: tlschart requires (EC)DHE, also on resumption');
  }
  if (!findExtension(ch.extensions, 'signature_algorithms') && !psk) {
    return err('missing_extension', 'NoSignatureAlgorithms', 'signature_algorithms is required for certificate authentication (§9.2)');
  }
  const seen = new Set<number>();
  for (const s of keyShare.shares) {
    if (seen.has(s.group)) return err('illegal_parameter', 'DuplicateKeyShare', `two key shares for group ${s.group}`);
    seen.add(s.group);
    if (!groups.groups.includes(s.group)) {
      return err('illegal_parameter', 'ShareForUnlistedGroup', `key share for group ${s.group}, which supported_groups does not list`);
    }
    if (ctx.config.groups.includes(s.group) && !memo(ctx, ch, `share:${s.group}`, () => ctx.env.crypto.isValidShare(s.group, s.keyExchange))) {
      return err('illegal_parameter', 'InvalidKeyShare', `the key share for group ${s.group} is not a valid public key`);
    }
  }
  const suite = chooseSuite(ctx, ch, tickets);
  if (!suite) return err('handshake_failure', 'NoCommonCipherSuite', 'no cipher suite in common');
  if (mutualGroups(ctx, ch).length === 0) return err('handshake_failure', 'NoCommonGroup', 'no key exchange group in common');
  const alpnOffered = findExtension(ch.extensions, 'alpn');
  if (alpnOffered && ctx.config.alpnProtocols.length > 0 && !chooseAlpn(ctx, ch)) {
    return err('no_application_protocol', 'NoCommonAlpn', `none of the offered ALPN protocols ${JSON.stringify(alpnOffered.protocols)} is served`);
  }

  const retry = ctx.helloRetryRequest;
  if (retry) {
    // §4.1.2: the second ClientHello answers the HelloRetryRequest exactly.
    if (findExtension(ch.extensions, 'early_data')) {
      return err('illegal_parameter', 'EarlyDataAfterRetry', 'the second ClientHello offers early_data (§4.2.10)');
    }
    const cookie = findExtension(ch.extensions, 'cookie');
    if (ctx.cookie && (!cookie || !sameBytes(cookie.cookie, ctx.cookie))) {
      return err('illegal_parameter', 'CookieMismatch', 'the second ClientHello does not echo the cookie');
    }
    if (!ch.cipherSuites.includes(retry.cipherSuite)) {
      return err('illegal_parameter', 'SuiteChangedAfterRetry', 'the second ClientHello no longer offers the retry cipher suite');
    }
    if (ctx.group !== undefined && !(keyShare.shares.length === 1 && keyShare.shares[0]?.group === ctx.group)) {
      return err('illegal_parameter', 'WrongRetryShare', 'the second ClientHello must carry exactly one share, for the requested group');
    }
    if (!chooseShare(ctx, ch)) return err('illegal_parameter', 'WrongRetryShare', 'no usable key share after HelloRetryRequest');
  }
  if (!selectPsk(ctx, ch, tickets) && !chooseCertificate(ctx, ch)) {
    return err('handshake_failure', 'NoCertificate', 'no certificate matches the offered signature_algorithms');
  }
  return undefined;
}

/** First ClientHello without a usable share (or a forced retry): answer with a HelloRetryRequest. */
export function needsHelloRetry(ctx: ServerContext, ch: ClientHello): boolean {
  if (ctx.helloRetryRequest) return false;
  return ctx.config.forceHelloRetry || chooseShare(ctx, ch) === undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}
