/**
 * The client's computations: building ClientHellos (with PSK binders), checking
 * what the server sent (each check names the alert RFC 8446 requires) and
 * deriving keys. Pure functions of the context; the machine's guards and actions
 * call them by name.
 */
import type { AlertOf, AlertingReason } from '../../wire/refusals.js';
import type { CryptoProvider, KeyPair } from '../../crypto/provider.js';
import { computeBinder, EarlySecret, obfuscatedTicketAge } from '../../crypto/keyschedule.js';
import { suiteInfo } from '../../crypto/suites.js';
import { messageHashMessage, transcriptHash } from '../../crypto/transcript.js';
import { TlsError } from '../../wire/alerts.js';
import { memo } from '../memo.js';
import { encodeClientHelloWithoutBinders, encodeHandshake, withBinders } from '../../wire/handshake.js';
import { findExtension } from '../../wire/extensions.js';
import {
  PskKeyExchangeMode,
  TLS12,
  TLS13,
  type ClientHello,
  type EncryptedExtensions,
  type Extension,
  type ServerHello,
  type Unencoded,
} from '../../wire/types.js';
import type { ClientContext, OfferedPsk } from './context.js';

const err = <R extends AlertingReason>(alert: AlertOf<R>, reason: R, message: string) => new TlsError<R>(alert as never, reason, message);

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

/** RFC 8446 §4.1.4: what makes a HelloRetryRequest unacceptable. */
export function helloRetryProblem(ctx: ClientContext, hrr: ServerHello): TlsError | undefined {
  const common = serverHelloHeaderProblem(ctx, hrr);
  if (common) return common;
  for (const e of hrr.extensions) {
    if (e.type !== 'supported_versions_server' && e.type !== 'key_share_hrr' && e.type !== 'cookie') {
      return e.type === 'unknown'
        ? err('unsupported_extension', 'UnsolicitedExtension', `HelloRetryRequest carries extension ${e.code} that the client did not offer`)
        : err('illegal_parameter', 'ExtensionNotAllowed', `HelloRetryRequest may not carry ${e.type}`);
    }
  }
  const ks = findExtension(hrr.extensions, 'key_share_hrr');
  const cookie = findExtension(hrr.extensions, 'cookie');
  if (!ks && !cookie) {
    return err('illegal_parameter', 'HelloRetryChangesNothing', 'HelloRetryRequest would not change the ClientHello');
  }
  if (ks) {
    if (!ctx.config.groups.includes(ks.selectedGroup)) {
      return err('illegal_parameter', 'UnofferedGroup', `HelloRetryRequest selects group ${ks.selectedGroup}, which the client did not offer`);
    }
    if (ctx.keyShares.some((k) => k.group === ks.selectedGroup)) {
      return err('illegal_parameter', 'RetryForSentShare', 'HelloRetryRequest asks for a key share the client already sent');
    }
  }
  return undefined;
}

/** Checks shared by ServerHello and HelloRetryRequest (§4.1.3, §4.2.1). */
function serverHelloHeaderProblem(ctx: ClientContext, sh: ServerHello): TlsError | undefined {
  // §4.1.3: a TLS 1.3 ServerHello (and HelloRetryRequest) keeps legacy_version 0x0303.
  if (sh.legacyVersion !== TLS12) {
    return err('protocol_version', 'ServerHelloLegacyVersion', `ServerHello legacy_version is 0x${sh.legacyVersion.toString(16).padStart(4, '0')}, not 0x0303`);
  }
  const sv = findExtension(sh.extensions, 'supported_versions_server');
  if (!sv) return err('protocol_version', 'NoTls13', 'the server did not select TLS 1.3 (no supported_versions): tlschart speaks only TLS 1.3');
  if (sv.version !== TLS13) return err('illegal_parameter', 'UnofferedVersion', `the server selected version 0x${sv.version.toString(16)}, which was not offered`);
  if (!equalBytes(sh.legacySessionIdEcho, ctx.legacySessionId)) {
    return err('illegal_parameter', 'SessionIdMismatch', 'legacy_session_id_echo differs from the legacy_session_id sent');
  }
  if (!ctx.config.cipherSuites.includes(sh.cipherSuite) || !suiteInfo(sh.cipherSuite)) {
    return err('illegal_parameter', 'UnofferedCipherSuite', `the server selected cipher suite 0x${sh.cipherSuite.toString(16)}, which was not offered`);
  }
  if (sh.legacyCompressionMethod !== 0) return err('illegal_parameter', 'Compression', 'legacy_compression_method must be 0');
  const hrr = ctx.helloRetryRequest;
  if (hrr && hrr !== sh && hrr.cipherSuite !== sh.cipherSuite) {
    return err('illegal_parameter', 'SuiteChangedAfterRetry', 'the ServerHello cipher suite differs from the HelloRetryRequest');
  }
  return undefined;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

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

// ------------------------------------------------------------ ServerHello

export function serverHelloProblem(ctx: ClientContext, sh: ServerHello): TlsError | undefined {
  const common = serverHelloHeaderProblem(ctx, sh);
  if (common) return common;
  for (const e of sh.extensions) {
    if (e.type === 'supported_versions_server' || e.type === 'key_share_server') continue;
    if (e.type === 'pre_shared_key_server' && ctx.offeredPsk) continue;
    if (e.type === 'pre_shared_key_server') {
      return err('unsupported_extension', 'UnsolicitedExtension', 'ServerHello selects a PSK although none was offered');
    }
    return e.type === 'unknown'
      ? err('unsupported_extension', 'UnsolicitedExtension', `ServerHello carries extension ${e.code} that the client did not offer`)
      : err('illegal_parameter', 'ExtensionNotAllowed', `ServerHello may not carry ${e.type}`);
  }
  const psk = findExtension(sh.extensions, 'pre_shared_key_server');
  const ks = findExtension(sh.extensions, 'key_share_server');
  if (psk) {
    if (psk.selectedIdentity !== 0) {
      return err('illegal_parameter', 'SelectedUnofferedPsk', `ServerHello selects PSK identity ${psk.selectedIdentity}; only identity 0 was offered`);
    }
    const suite = suiteInfo(sh.cipherSuite);
    if (!suite || !ctx.offeredPsk || suite.hash !== ctx.offeredPsk.suite.hash) {
      return err('illegal_parameter', 'PskHashMismatch', 'the selected cipher suite does not use the hash of the resumed session');
    }
    if (!ks) {
      return err('illegal_parameter', 'PskWithoutKeyShare', 'the server resumed without a key share (psk_ke), but only psk_dhe_ke was offered');
    }
  }
  if (!ks) return err('missing_extension', 'MissingKeyShare', 'ServerHello has no key_share');
  const mine = ctx.keyShares.find((k) => k.group === ks.share.group);
  if (!mine) {
    return err('illegal_parameter', 'UnofferedGroup', `ServerHello key_share uses group ${ks.share.group}, for which the client sent no share`);
  }
  // After a retry that asked for a group, that group's share is the only one we hold, so a
  // ServerHello choosing another group is refused just above (UnofferedGroup).
  const shared = ecdhe(ctx, sh, mine, ks.share.keyExchange);
  if (!shared.ok) return shared.error;
  return undefined;
}

const ecdhe = (ctx: ClientContext, sh: ServerHello, mine: KeyPair, serverShare: Uint8Array) =>
  memo(ctx, sh, 'ecdhe', () => ctx.env.crypto.completeShare(mine, serverShare));

export const selectsPsk = (sh: ServerHello): boolean => findExtension(sh.extensions, 'pre_shared_key_server') !== undefined;

/** The (EC)DHE shared secret of an already-checked ServerHello. */
export function sharedSecretOf(ctx: ClientContext, sh: ServerHello): Uint8Array {
  const ks = findExtension(sh.extensions, 'key_share_server');
  const mine = ks && ctx.keyShares.find((k) => k.group === ks.share.group);
  if (!ks || !mine) throw new Error('ServerHello was not checked');
  const shared = ecdhe(ctx, sh, mine, ks.share.keyExchange);
  if (!shared.ok) throw shared.error;
  return shared.value;
}

// ------------------------------------------------------------ EncryptedExtensions

/** §4.2.10: tlschart never offers early_data, so a server that accepts it is misbehaving. */
export const acceptsUnofferedEarlyData = (ee: EncryptedExtensions): boolean =>
  findExtension(ee.extensions, 'early_data') !== undefined;

export function encryptedExtensionsProblem(ctx: ClientContext, ee: EncryptedExtensions): TlsError | undefined {
  for (const e of ee.extensions) {
    switch (e.type) {
      case 'server_name':
        if (!ctx.config.serverName) return err('unsupported_extension', 'UnsolicitedExtension', 'server_name in EncryptedExtensions although no SNI was sent');
        break;
      case 'supported_groups':
        break; // RFC 8446 §4.2.7: the server may tell its preferences; the client does not act on them
      case 'alpn': {
        if (ctx.config.alpnProtocols.length === 0) {
          return err('unsupported_extension', 'UnsolicitedExtension', 'the server selected an ALPN protocol although none was offered');
        }
        const [p, ...rest] = e.protocols;
        if (p === undefined || rest.length > 0 || !ctx.config.alpnProtocols.includes(p)) {
          return err('illegal_parameter', 'UnofferedAlpn', `the server selected ALPN ${JSON.stringify(e.protocols)}, not exactly one offered protocol`);
        }
        break;
      }
      case 'early_data':
        return err('unsupported_extension', 'UnofferedEarlyData', 'the server accepted early data that was never offered');
      case 'unknown':
        return err('unsupported_extension', 'UnsolicitedExtension', `EncryptedExtensions carries extension ${e.code} that the client did not offer`);
      default:
        return err('illegal_parameter', 'ExtensionNotAllowed', `EncryptedExtensions may not carry ${e.type}`);
    }
  }
  return undefined;
}

export const selectedAlpn = (ee: EncryptedExtensions): string | undefined => findExtension(ee.extensions, 'alpn')?.protocols[0];

