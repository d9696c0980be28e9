/**
 * What every TLS 1.3 server must refuse in a ClientHello, decided from public
 * material only: the message itself and, for a second ClientHello, the first
 * one and the HelloRetryRequest it answers (RFC 8446 §4.1.2, §4.2). No secret,
 * no configuration choice: the trace monitor runs these same rules on a
 * recorded handshake of any implementation.
 *
 * Each rule names a refusal of the table (wire/refusals.ts), which gives the alert.
 */

import { refuse, type TlsError } from '../../wire/alerts.js';
import { equalBytes } from '../../wire/bytes.js';
import { findDisallowedExtension, findExtension } from '../../wire/extensions.js';
import { clientHelloExtensionBlocks, type RawExtension } from '../../wire/handshake.js';
import type { AlertingReason } from '../../wire/refusals.js';
import { type ClientHello, ExtensionType, type ServerHello, TLS12, TLS13 } from '../../wire/types.js';

/** What the rules may look at besides the ClientHello. */
export interface ClientHelloView {
  /** The HelloRetryRequest this ClientHello answers, if any, and the first ClientHello. */
  helloRetryRequest: ServerHello | undefined;
  clientHello1: ClientHello | undefined;
  /** Groups whose shares this server would use, and can therefore check (§4.2.8.2). */
  groups: readonly number[];
  /** Is a share a valid public key of its group? (the crypto provider's public check) */
  isValidShare(group: number, share: Uint8Array): boolean;
}

const no = (reason: AlertingReason, message: string): TlsError => refuse(reason, message);

/** The first rule the ClientHello breaks, in RFC order; undefined if none. */
export function clientHelloViolation(view: ClientHelloView, ch: ClientHello): TlsError | undefined {
  // Appendix D.5: a legacy_version below TLS 1.2 is refused whatever supported_versions says.
  if (ch.legacyVersion < TLS12) {
    return no(
      'LegacyVersion',
      `legacy_version 0x${ch.legacyVersion.toString(16).padStart(4, '0')} is below 0x0303 (RFC 8446 Appendix D.5)`,
    );
  }
  const sv = findExtension(ch.extensions, 'supported_versions_client');
  if (!sv?.versions.includes(TLS13)) return no('NoTls13', 'the client does not offer TLS 1.3: tlschart speaks only TLS 1.3');
  if (ch.legacyCompressionMethods.length !== 1 || ch.legacyCompressionMethods[0] !== 0) {
    return no('Compression', 'legacy_compression_methods must be exactly [null] (§4.1.2)');
  }
  const bad = findDisallowedExtension(ch.extensions, 'client_hello');
  if (bad) return no('ExtensionNotAllowed', `ClientHello may not carry ${bad.type}`);
  const psk = findExtension(ch.extensions, 'pre_shared_key_client');
  if (psk && !findExtension(ch.extensions, 'psk_key_exchange_modes')) {
    return no('PskWithoutModes', 'pre_shared_key offered without psk_key_exchange_modes (§4.2.9)');
  }
  if (psk && psk.identities.length !== psk.binders.length) {
    return no('BinderCountMismatch', `${psk.identities.length} PSK identities but ${psk.binders.length} binders`);
  }
  const groups = findExtension(ch.extensions, 'supported_groups');
  const keyShare = findExtension(ch.extensions, 'key_share_client');
  if (!groups !== !keyShare) return no('GroupsWithoutKeyShare', 'supported_groups and key_share must come together (§9.2)');
  const seen = new Set<number>();
  for (const s of keyShare?.shares ?? []) {
    if (seen.has(s.group)) return no('DuplicateKeyShare', `two key shares for group ${s.group}`);
    seen.add(s.group);
    if (!groups?.groups.includes(s.group)) {
      return no('ShareForUnlistedGroup', `key share for group ${s.group}, which supported_groups does not list`);
    }
    if (view.groups.includes(s.group) && !view.isValidShare(s.group, s.keyExchange)) {
      return no('InvalidKeyShare', `the key share for group ${s.group} is not a valid public key`);
    }
  }
  return view.helloRetryRequest && view.clientHello1 ? secondHelloViolation(view.helloRetryRequest, view.clientHello1, ch) : undefined;
}

/** Extensions a second ClientHello may change after a HelloRetryRequest (§4.1.2); padding is RFC 7685. */
const MAY_CHANGE = new Set<number>([
  ExtensionType.key_share,
  ExtensionType.early_data,
  ExtensionType.cookie,
  ExtensionType.pre_shared_key,
  21,
]);

/**
 * §4.1.2: after a HelloRetryRequest the client sends the same ClientHello,
 * except for a new key_share (for the requested group), early_data removed, the
 * cookie echoed, pre_shared_key updated (ages, binders; identities may be
 * dropped, never added) and padding.
 */
export function secondHelloViolation(hrr: ServerHello, ch1: ClientHello, ch2: ClientHello): TlsError | undefined {
  if (findExtension(ch2.extensions, 'early_data')) return no('EarlyDataAfterRetry', 'the second ClientHello offers early_data (§4.2.10)');
  const cookie = findExtension(hrr.extensions, 'cookie');
  const echoed = findExtension(ch2.extensions, 'cookie');
  if (cookie && (!echoed || !equalBytes(echoed.cookie, cookie.cookie))) {
    return no('CookieMismatch', 'the second ClientHello does not echo the cookie');
  }
  if (!cookie && echoed) return no('SecondHelloChanged', 'the second ClientHello carries a cookie the HelloRetryRequest did not send');
  if (!ch2.cipherSuites.includes(hrr.cipherSuite)) {
    return no('SuiteChangedAfterRetry', 'the second ClientHello no longer offers the retry cipher suite');
  }
  const same = (what: string, a: Uint8Array | number[], b: Uint8Array | number[]) =>
    equalBytes(Uint8Array.from(a), Uint8Array.from(b))
      ? undefined
      : no('SecondHelloChanged', `the second ClientHello changes ${what} (§4.1.2)`);
  const header =
    (ch1.legacyVersion !== ch2.legacyVersion
      ? no('SecondHelloChanged', 'the second ClientHello changes legacy_version (§4.1.2)')
      : undefined) ??
    same('random', ch1.random, ch2.random) ??
    same('legacy_session_id', ch1.legacySessionId, ch2.legacySessionId) ??
    same('cipher_suites', ch1.cipherSuites, ch2.cipherSuites) ??
    same('legacy_compression_methods', ch1.legacyCompressionMethods, ch2.legacyCompressionMethods);
  if (header) return header;
  const b1 = clientHelloExtensionBlocks(ch1.raw);
  const b2 = clientHelloExtensionBlocks(ch2.raw);
  if (!b1.ok || !b2.ok) return no('SecondHelloChanged', 'a ClientHello whose extensions cannot be compared');
  const fixed = (b: RawExtension[]) => b.filter((e) => !MAY_CHANGE.has(e.code));
  const f1 = fixed(b1.value);
  const f2 = fixed(b2.value);
  for (let i = 0; i < Math.max(f1.length, f2.length); i++) {
    const a = f1[i];
    const b = f2[i];
    if (!a || !b || a.code !== b.code || !equalBytes(a.data, b.data)) {
      const code = (a ?? b)?.code ?? -1;
      return no(
        'SecondHelloChanged',
        `the second ClientHello changes extension ${code}, which a HelloRetryRequest does not allow to change (§4.1.2)`,
      );
    }
  }
  // key_share: a new one only for the group the HelloRetryRequest asked for; otherwise unchanged.
  const asked = findExtension(hrr.extensions, 'key_share_hrr');
  const ks2 = findExtension(ch2.extensions, 'key_share_client');
  if (asked) {
    if (!(ks2?.shares.length === 1 && ks2.shares[0]?.group === asked.selectedGroup)) {
      return no('WrongRetryShare', 'the second ClientHello must carry exactly one share, for the requested group');
    }
  } else {
    const raw = (b: RawExtension[]) => b.find((e) => e.code === ExtensionType.key_share)?.data ?? new Uint8Array(0);
    if (!equalBytes(raw(b1.value), raw(b2.value)))
      return no('SecondHelloChanged', 'the second ClientHello changes key_share though the HelloRetryRequest asked for no group');
  }
  // pre_shared_key: identities may be updated (age, binder) or removed, never added.
  const before = findExtension(ch1.extensions, 'pre_shared_key_client')?.identities ?? [];
  for (const id of findExtension(ch2.extensions, 'pre_shared_key_client')?.identities ?? []) {
    if (!before.some((b) => equalBytes(b.identity, id.identity))) {
      return no('SecondHelloAddedPsk', 'the second ClientHello offers a PSK identity the first did not (§4.1.2)');
    }
  }
  return undefined;
}
