/**
 * The ClientHellos the checks send, built from one description: what a
 * well-behaved TLS 1.3 client sends (SNI, groups, signature algorithms,
 * supported_versions, key_share, psk_key_exchange_modes, ALPN, then
 * pre_shared_key last), with the one thing a probe changes said explicitly
 * (another mode, no key share, the PSK extension not last, early_data, ...).
 */
import { randomBytes } from 'node:crypto';
import { generateKeyPair, type KeyPair, SUPPORTED_GROUPS } from '../../crypto/kex.js';
import { obfuscatedTicketAge } from '../../crypto/keyschedule.js';
import { SUPPORTED_SIGNATURE_SCHEMES } from '../../crypto/signature.js';
import { SUPPORTED_SUITES } from '../../crypto/suites.js';
import { type Extension, ExtensionType, NamedGroup, PskKeyExchangeMode, TLS13 } from '../../wire/types.js';
import type { HelloSend, OfferedSecret, ProbeTicket } from './client.js';
import { type BinderMaker, buildHello, type HelloExtension, type PskIdentityOffer, validBinder } from './hello.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** One identity in the pre_shared_key extension, with how its binder is made. */
export interface Offer {
  identity: PskIdentityOffer;
  binder: BinderMaker;
  /** What the probe knows of the PSK (to derive keys if the server selects it). */
  secret: OfferedSecret | undefined;
}

export interface HelloOptions {
  serverName?: string | undefined;
  alpn?: string[] | undefined;
  cipherSuites?: number[];
  /** supported_groups; null leaves the extension out. */
  groups?: number[] | null;
  /** Groups that get a key share; [] sends an empty key_share; null leaves key_share out. */
  shareGroups?: number[] | null;
  /** psk_key_exchange_modes; null leaves the extension out. */
  modes?: number[] | null;
  offers?: Offer[];
  /** Extra binders after the one per identity (to probe the count check). */
  extraBinders?: BinderMaker[];
  earlyData?: boolean;
  /** Put pre_shared_key before the last other extension instead of last. */
  pskNotLast?: boolean;
  cookie?: Uint8Array;
  random?: Uint8Array;
  legacySessionId?: Uint8Array;
  /** Key pairs to reuse (a second ClientHello keeps the first one's shares for groups it still offers). */
  keyShares?: KeyPair[];
  /** message_hash(ClientHello1) and the HelloRetryRequest, for a second ClientHello. */
  transcriptPrefix?: Uint8Array[];
}

export interface ProbeHello extends HelloSend {
  random: Uint8Array;
  legacySessionId: Uint8Array;
}

/** The groups a probe offers, in tlschart's order; x25519 gets the key share. */
export const PROBE_GROUPS: readonly number[] = SUPPORTED_GROUPS;

export function makeHello(o: HelloOptions = {}): ProbeHello {
  const random = o.random ?? rng(32);
  const legacySessionId = o.legacySessionId ?? rng(32);
  const groups = o.groups === undefined ? [...PROBE_GROUPS] : o.groups;
  const shareGroups = o.shareGroups === undefined ? [NamedGroup.x25519] : o.shareGroups;
  const keyShares = (shareGroups ?? []).map((g) => o.keyShares?.find((k) => k.group === g) ?? generateKeyPair(g, rng));
  const exts: HelloExtension[] = [];
  const add = (ext: Extension) => exts.push({ ext });
  if (o.serverName !== undefined && !/^[0-9.]+$/.test(o.serverName) && !o.serverName.includes(':')) {
    add({ type: 'server_name', hostName: o.serverName });
  }
  if (groups !== null) add({ type: 'supported_groups', groups });
  add({ type: 'signature_algorithms', schemes: [...SUPPORTED_SIGNATURE_SCHEMES] });
  add({ type: 'supported_versions_client', versions: [TLS13] });
  if (shareGroups !== null) add({ type: 'key_share_client', shares: keyShares.map((k) => ({ group: k.group, keyExchange: k.publicKey })) });
  const modes = o.modes === undefined ? [PskKeyExchangeMode.psk_dhe_ke] : o.modes;
  if (modes !== null) exts.push({ code: ExtensionType.psk_key_exchange_modes, body: Uint8Array.from([modes.length, ...modes]) });
  if (o.alpn && o.alpn.length > 0) add({ type: 'alpn', protocols: [...o.alpn] });
  if (o.cookie) add({ type: 'cookie', cookie: o.cookie });
  if (o.earlyData) add({ type: 'early_data' });
  const offers = o.offers ?? [];
  if (offers.length > 0) {
    const psk: HelloExtension = {
      psk: { identities: offers.map((x) => x.identity), binders: [...offers.map((x) => x.binder), ...(o.extraBinders ?? [])] },
    };
    if (o.pskNotLast && exts.length > 0) exts.splice(exts.length - 1, 0, psk);
    else exts.push(psk);
  }
  const built = buildHello({
    random,
    legacySessionId,
    cipherSuites: o.cipherSuites ?? [...SUPPORTED_SUITES],
    extensions: exts,
    ...(o.transcriptPrefix ? { transcriptPrefix: o.transcriptPrefix } : {}),
  });
  return { raw: built.raw, keyShares, offered: offers.map((x) => x.secret), random, legacySessionId };
}

/** The ticket's age as the client sees it now, obfuscated (§4.2.11.1). */
export function honestAge(t: ProbeTicket, nowMs = Date.now()): number {
  return obfuscatedTicketAge(Math.max(0, nowMs - t.receivedAtMs), t.ticketAgeAdd);
}

/** An offer of `t` with a valid binder and the honest obfuscated age, unless told otherwise. */
export function offerTicket(t: ProbeTicket, o: { binder?: BinderMaker; obfuscatedTicketAge?: number; identity?: Uint8Array } = {}): Offer {
  return {
    identity: { identity: o.identity ?? t.ticket, obfuscatedTicketAge: o.obfuscatedTicketAge ?? honestAge(t) },
    binder: o.binder ?? validBinder(t.suite, t.psk),
    secret: { psk: t.psk, suite: t.suite },
  };
}
