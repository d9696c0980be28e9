/**
 * The server's choices for a ClientHello: which cipher suite, group,
 * certificate, ALPN protocol and PSK to use, and the transcript the binder is
 * recomputed over. The judge (judge.ts) puts them together into one verdict;
 * the public refusal rules are in rules.ts.
 */
import { type SuiteInfo, suiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import type { ServerSessionState } from '../../tickets/types.js';
import { findExtension } from '../../wire/extensions.js';
import { truncatedClientHello } from '../../wire/handshake.js';
import { type ClientHello, PskKeyExchangeMode } from '../../wire/types.js';
import type { CertifiedKey, ResolvedTickets } from '../types.js';
import type { SelectedPsk, ServerContext } from './context.js';

export function chooseSuite(ctx: ServerContext, ch: ClientHello, tickets: ResolvedTickets, now: number): SuiteInfo | undefined {
  // After a HelloRetryRequest the suite is fixed (§4.1.4); the second hello is checked to still offer it.
  if (ctx.helloRetryRequest) return suiteInfo(ctx.helloRetryRequest.cipherSuite);
  // Keep the resumed session's suite when the client still offers it (as OpenSSL does).
  if (offersPskDheKe(ch)) {
    for (const t of tickets) {
      if (t && isTicketUsableFor(ch, t, now) && ch.cipherSuites.includes(t.suite) && ctx.config.cipherSuites.includes(t.suite)) {
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
export function mutualGroups(ctx: ServerContext, ch: ClientHello): number[] {
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
export function selectPsk(
  _ctx: ServerContext,
  ch: ClientHello,
  tickets: ResolvedTickets,
  suite: SuiteInfo,
  now: number,
): SelectedPsk | undefined {
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  if (!psk || !offersPskDheKe(ch)) return undefined;
  for (let index = 0; index < psk.identities.length; index++) {
    const state = tickets[index];
    if (!state || suiteInfo(state.suite)?.hash !== suite.hash || !isTicketUsableFor(ch, state, now)) continue;
    return { index, state };
  }
  return undefined;
}

/** Same SNI as when it was issued, and within its lifetime (RFC 8446 §4.6.1). */
function isTicketUsableFor(ch: ClientHello, state: ServerSessionState, now: number): boolean {
  const sni = findExtension(ch.extensions, 'server_name')?.hostName;
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
