/**
 * The client's computations: building ClientHellos (with PSK binders), checking
 * what the server sent (each check names the alert RFC 8446 requires) and
 * deriving keys. Pure functions of the context; the machine's guards and actions
 * call them by name.
 */

import { computeBinder, EarlySecret, obfuscatedTicketAge } from '../../crypto/keyschedule.js';
import type { CryptoProvider } from '../../crypto/provider.js';
import { suiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { findExtension } from '../../wire/extensions.js';
import { encodeClientHelloWithoutBinders, encodeHandshake, withBinders } from '../../wire/handshake.js';
import { type ClientHello, type Extension, PskKeyExchangeMode, type ServerHello, TLS12, TLS13, type Unencoded } from '../../wire/types.js';
import type { ClientContext, OfferedPsk } from './context.js';

const isIpLiteral = (name: string): boolean => /^[0-9.]+$/.test(name) || name.includes(':');

/** The ticket to offer, if it is still usable (RFC 8446 §4.6.1 lifetime, a suite we offer). */
export function usableSession(ctx: ClientContext): OfferedPsk | undefined {
  const s = ctx.config.session;
  if (!s) return undefined;
  const suite = suiteInfo(s.suite);
  if (!suite) return undefined;
  const age = ctx.env.now() - s.receivedAtMs;
  if (age < 0 || age >= s.lifetimeS * 1000) return undefined;
  const offeredHashes = ctx.config.cipherSuites.map((c) => suiteInfo(c)?.hash);
  if (!offeredHashes.includes(suite.hash)) return undefined;
  return { session: s, suite };
}

interface HelloParts {
  random: Uint8Array;
  legacySessionId: Uint8Array;
  keyShares: { group: number; publicKey: Uint8Array }[];
  cookie: Uint8Array | undefined;
  psk: OfferedPsk | undefined;
  /** Transcript before this ClientHello (empty for the first; message_hash + HRR after a retry). */
  prefix: Uint8Array[];
}

/** Build a ClientHello; when a PSK is offered, compute its binder over the truncated hello (§4.2.11.2). */
export function buildClientHello(ctx: ClientContext, parts: HelloParts): ClientHello {
  const cfg = ctx.config;
  const extensions: Extension[] = [];
  if (cfg.serverName && !isIpLiteral(cfg.serverName)) extensions.push({ type: 'server_name', hostName: cfg.serverName });
  extensions.push({ type: 'supported_groups', groups: [...cfg.groups] });
  extensions.push({ type: 'signature_algorithms', schemes: [...cfg.signatureSchemes] });
  extensions.push({ type: 'supported_versions_client', versions: [TLS13] });
  extensions.push({
    type: 'key_share_client',
    shares: parts.keyShares.map((k) => ({ group: k.group, keyExchange: k.publicKey })),
  });
  // tlschart only ever offers psk_dhe_ke: resumption always adds a fresh (EC)DHE share.
  extensions.push({ type: 'psk_key_exchange_modes', modes: [PskKeyExchangeMode.psk_dhe_ke] });
  if (cfg.alpnProtocols.length > 0) extensions.push({ type: 'alpn', protocols: [...cfg.alpnProtocols] });
  if (parts.cookie) extensions.push({ type: 'cookie', cookie: parts.cookie });
  const psk = parts.psk;
  if (psk) {
    const age = ctx.env.now() - psk.session.receivedAtMs;
    extensions.push({
      type: 'pre_shared_key_client',
      identities: [{ identity: psk.session.ticket, obfuscatedTicketAge: obfuscatedTicketAge(age, psk.session.ticketAgeAdd) }],
      binders: [new Uint8Array(psk.suite.hashLen)],
    });
  }
  const body: Unencoded<ClientHello> = {
    type: 'client_hello',
    legacyVersion: TLS12,
    random: parts.random,
    legacySessionId: parts.legacySessionId,
    cipherSuites: [...cfg.cipherSuites],
    legacyCompressionMethods: new Uint8Array([0]),
    extensions,
  };
  return psk ? bindClientHello(body, psk, parts.prefix, ctx.env.crypto) : encodeHandshake(body);
}

/** Encode a ClientHello that offers `psk`, with its binder computed over prefix ‖ Truncate(ClientHello). */
export function bindClientHello(body: Unencoded<ClientHello>, psk: OfferedPsk, prefix: Uint8Array[], crypto: CryptoProvider): ClientHello {
  const partialHash = transcriptHash(psk.suite.hash, [...prefix, encodeClientHelloWithoutBinders(body)], crypto);
  const binderKey = EarlySecret.create(psk.suite, psk.session.psk, crypto).resumptionBinderKey();
  // tlschart offers one identity; a probe that adds more keeps their binders as it wrote them.
  const others = findExtension(body.extensions, 'pre_shared_key_client')?.binders.slice(1) ?? [];
  return withBinders(encodeHandshake(body), [computeBinder(psk.suite, binderKey, partialHash, crypto), ...others]);
}

// ------------------------------------------------------------ HelloRetryRequest

/** Build the second ClientHello (§4.1.2): new share for the requested group, cookie, recomputed PSK binder. */
export function secondClientHello(ctx: ClientContext, hrr: ServerHello) {
  const suite = suiteInfo(hrr.cipherSuite);
  const ch1 = ctx.clientHello;
  if (!suite || !ch1) throw new Error('second ClientHello without a first');
  const ks = findExtension(hrr.extensions, 'key_share_hrr');
  const cookie = findExtension(hrr.extensions, 'cookie')?.cookie;
  const keyShares = ks ? [ctx.env.crypto.generateKeyPair(ks.selectedGroup, ctx.env.random)] : ctx.keyShares;
  // A PSK whose hash differs from the retry's suite cannot be used any more (§4.1.4).
  const psk = ctx.offeredPsk && ctx.offeredPsk.suite.hash === suite.hash ? ctx.offeredPsk : undefined;
  const prefix = [messageHashMessage(suite.hash, ch1.raw, ctx.env.crypto), hrr.raw];
  const ch2 = buildClientHello(ctx, {
    random: ctx.clientRandom,
    legacySessionId: ctx.legacySessionId,
    keyShares,
    cookie,
    psk,
    prefix,
  });
  return { ch2, keyShares, psk, transcript: [...prefix, ch2.raw], suite };
}
