/**
 * fast-check arbitraries for every handshake message and every extension
 * form of the wire codec (RFC 8446 §4, §B.3), exported for reuse by the
 * other property suites.
 *
 * Every value generated here is valid for the codec: it respects the vector
 * bounds, extension forms fit their message, no extension type repeats,
 * pre_shared_key comes last in a ClientHello. Sizes are kept small so that
 * default runs stay quick.
 */
import fc from 'fast-check';
import type { UnencodedMessage } from '../../wire/handshake.js';
import type {
  Certificate,
  CertificateEntry,
  CertificateRequest,
  CertificateVerify,
  ClientHello,
  EncryptedExtensions,
  EndOfEarlyData,
  Extension,
  ExtensionContext,
  Finished,
  KeyShareEntry,
  KeyUpdate,
  NewSessionTicket,
  PskIdentity,
  ServerHello,
  Unencoded,
} from '../../wire/types.js';
import { ExtensionType, HRR_RANDOM_HEX } from '../../wire/types.js';

export const EXTENSION_CONTEXTS: readonly ExtensionContext[] = [
  'client_hello',
  'server_hello',
  'hello_retry_request',
  'encrypted_extensions',
  'certificate_request',
  'certificate_entry',
  'new_session_ticket',
];

/** Records with an ordinary prototype (fast-check may otherwise build null-prototype objects). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const KNOWN_CODES: ReadonlySet<number> = new Set<number>(Object.values(ExtensionType));

export const arbU8 = fc.integer({ min: 0, max: 0xff });
export const arbU16 = fc.integer({ min: 0, max: 0xffff });
export const arbU32 = fc.integer({ min: 0, max: 0xffffffff });

export function arbBytes(minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength, maxLength });
}

/** Printable ASCII without space: what server_name host names may hold here. */
export const arbHostName = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 24,
});

/** An ALPN ProtocolName as a binary string (one char per byte). */
export const arbProtocolName = fc.string({
  unit: arbU8.map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 16,
});

export const arbKeyShareEntry: fc.Arbitrary<KeyShareEntry> = rec({
  group: arbU16,
  keyExchange: arbBytes(1, 97),
});

export const arbPskIdentity: fc.Arbitrary<PskIdentity> = rec({
  identity: arbBytes(1, 48),
  obfuscatedTicketAge: arbU32,
});

/** A binder: 32..255 bytes, mostly hash-sized. */
export const arbBinder = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(32, 48).chain((n) => arbBytes(n, n)) },
  { weight: 1, arbitrary: arbBytes(32, 255) },
);

export const arbUnknownExtension: fc.Arbitrary<Extension> = rec({
  type: fc.constant('unknown' as const),
  code: arbU16.filter((c) => !KNOWN_CODES.has(c)),
  data: arbBytes(0, 24),
});

const u16s = (min: number, max: number) => fc.array(arbU16, { minLength: min, maxLength: max });

/** pre_shared_key in a ClientHello: as many binders as identities. */
export const arbPreSharedKeyClient: fc.Arbitrary<Extension> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  rec({
    type: fc.constant('pre_shared_key_client' as const),
    identities: fc.array(arbPskIdentity, { minLength: n, maxLength: n }),
    binders: fc.array(arbBinder, { minLength: n, maxLength: n }),
  }),
);

/**
 * One arbitrary per known extension code, in the form that `context`
 * decodes to (including extensions RFC 8446 §4.2 does not allow there: they
 * are still decodable).
 */
export function arbKnownExtensionsFor(context: ExtensionContext): fc.Arbitrary<Extension>[] {
  const ch = context === 'client_hello';
  const serverName: fc.Arbitrary<Extension> = ch
    ? arbHostName.map((hostName) => ({ type: 'server_name', hostName }))
    : fc.constant({ type: 'server_name', hostName: undefined });
  const supportedVersions: fc.Arbitrary<Extension> = ch
    ? u16s(1, 8).map((versions) => ({ type: 'supported_versions_client', versions }))
    : arbU16.map((version) => ({ type: 'supported_versions_server', version }));
  const keyShare: fc.Arbitrary<Extension> = ch
    ? fc.uniqueArray(arbKeyShareEntry, { selector: (s) => s.group, maxLength: 3 }).map((shares) => ({ type: 'key_share_client', shares }))
    : context === 'hello_retry_request'
      ? arbU16.map((selectedGroup) => ({ type: 'key_share_hrr', selectedGroup }))
      : arbKeyShareEntry.map((share) => ({ type: 'key_share_server', share }));
  const preSharedKey: fc.Arbitrary<Extension> = ch
    ? arbPreSharedKeyClient
    : arbU16.map((selectedIdentity) => ({ type: 'pre_shared_key_server', selectedIdentity }));
  const earlyData: fc.Arbitrary<Extension> =
    context === 'new_session_ticket'
      ? arbU32.map((maxEarlyDataSize) => ({ type: 'early_data_ticket', maxEarlyDataSize }))
      : fc.constant({ type: 'early_data' });
  const alpn: fc.Arbitrary<Extension> = fc
    .array(arbProtocolName, { minLength: 1, maxLength: context === 'encrypted_extensions' ? 1 : 4 })
    .map((protocols) => ({ type: 'alpn', protocols }));
  return [
    serverName,
    u16s(1, 8).map((groups): Extension => ({ type: 'supported_groups', groups })),
    u16s(1, 8).map((schemes): Extension => ({ type: 'signature_algorithms', schemes })),
    u16s(1, 8).map((schemes): Extension => ({ type: 'signature_algorithms_cert', schemes })),
    supportedVersions,
    keyShare,
    fc.array(arbU8, { minLength: 1, maxLength: 4 }).map((modes): Extension => ({ type: 'psk_key_exchange_modes', modes })),
    preSharedKey,
    earlyData,
    arbBytes(1, 64).map((cookie): Extension => ({ type: 'cookie', cookie })),
    alpn,
  ];
}

/** Any single extension that can appear (decodably) in `context`. */
export function arbExtension(context: ExtensionContext): fc.Arbitrary<Extension> {
  return fc.oneof(...arbKnownExtensionsFor(context), arbUnknownExtension);
}

/**
 * An extension block for `context`: distinct types in random order, with
 * pre_shared_key moved last in a ClientHello (§4.2.11).
 */
export function arbExtensions(
  context: ExtensionContext,
  { minLength = 0, maxKnown = 6, maxUnknown = 2 }: { minLength?: number; maxKnown?: number; maxUnknown?: number } = {},
): fc.Arbitrary<Extension[]> {
  const known = arbKnownExtensionsFor(context);
  return fc
    .tuple(
      fc.shuffledSubarray(known, { maxLength: maxKnown }).chain((arbs) => fc.tuple(...arbs)),
      fc.uniqueArray(arbUnknownExtension, {
        selector: (e) => (e.type === 'unknown' ? e.code : -1),
        maxLength: maxUnknown,
      }),
    )
    .chain(([k, u]) => {
      const all = [...k, ...u];
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
    })
    .map((exts) => {
      const psk = exts.filter((e) => e.type === 'pre_shared_key_client');
      return [...exts.filter((e) => e.type !== 'pre_shared_key_client'), ...psk];
    })
    .filter((exts) => exts.length >= minLength);
}

// ------------------------------------------------------------------ messages

const arbRandom = arbBytes(32, 32);
const HRR_RANDOM = Uint8Array.from(HRR_RANDOM_HEX.match(/../g) ?? [], (h) => parseInt(h, 16));
const arbServerRandom = arbRandom.filter((r) => !r.every((b, i) => b === HRR_RANDOM[i]));

export const arbClientHello: fc.Arbitrary<Unencoded<ClientHello>> = rec({
  type: fc.constant('client_hello' as const),
  legacyVersion: arbU16,
  random: arbRandom,
  legacySessionId: arbBytes(0, 32),
  cipherSuites: u16s(1, 6),
  legacyCompressionMethods: arbBytes(1, 3),
  extensions: arbExtensions('client_hello', { maxKnown: 11 }),
});

export const arbServerHello: fc.Arbitrary<Unencoded<ServerHello>> = rec({
  type: fc.constant('server_hello' as const),
  isHelloRetryRequest: fc.constant(false),
  legacyVersion: arbU16,
  random: arbServerRandom,
  legacySessionIdEcho: arbBytes(0, 32),
  cipherSuite: arbU16,
  legacyCompressionMethod: arbU8,
  extensions: arbExtensions('server_hello'),
});

export const arbHelloRetryRequest: fc.Arbitrary<Unencoded<ServerHello>> = rec({
  type: fc.constant('server_hello' as const),
  isHelloRetryRequest: fc.constant(true),
  legacyVersion: arbU16,
  random: fc.constant(null).map(() => HRR_RANDOM.slice()),
  legacySessionIdEcho: arbBytes(0, 32),
  cipherSuite: arbU16,
  legacyCompressionMethod: arbU8,
  extensions: arbExtensions('hello_retry_request'),
});

export const arbEncryptedExtensions: fc.Arbitrary<Unencoded<EncryptedExtensions>> = rec({
  type: fc.constant('encrypted_extensions' as const),
  extensions: arbExtensions('encrypted_extensions'),
});

export const arbCertificateEntry: fc.Arbitrary<CertificateEntry> = rec({
  certData: arbBytes(1, 120),
  extensions: arbExtensions('certificate_entry', { maxKnown: 2, maxUnknown: 1 }),
});

export const arbCertificate: fc.Arbitrary<Unencoded<Certificate>> = rec({
  type: fc.constant('certificate' as const),
  certificateRequestContext: arbBytes(0, 8),
  entries: fc.array(arbCertificateEntry, { maxLength: 3 }),
});

export const arbCertificateRequest: fc.Arbitrary<Unencoded<CertificateRequest>> = rec({
  type: fc.constant('certificate_request' as const),
  certificateRequestContext: arbBytes(0, 8),
  extensions: arbExtensions('certificate_request', { minLength: 1 }),
});

export const arbCertificateVerify: fc.Arbitrary<Unencoded<CertificateVerify>> = rec({
  type: fc.constant('certificate_verify' as const),
  algorithm: arbU16,
  signature: arbBytes(0, 128),
});

/** Finished with a verify_data of a TLS 1.3 Hash.length (32 or 48). */
export const arbFinished: fc.Arbitrary<Unencoded<Finished>> = rec({
  type: fc.constant('finished' as const),
  verifyData: fc.constantFrom(32, 48).chain((n) => arbBytes(n, n)),
});

export const arbNewSessionTicket: fc.Arbitrary<Unencoded<NewSessionTicket>> = rec({
  type: fc.constant('new_session_ticket' as const),
  ticketLifetime: arbU32,
  ticketAgeAdd: arbU32,
  ticketNonce: arbBytes(0, 16),
  ticket: arbBytes(1, 96),
  extensions: arbExtensions('new_session_ticket', { maxKnown: 2 }),
});

export const arbKeyUpdate: fc.Arbitrary<Unencoded<KeyUpdate>> = rec({
  type: fc.constant('key_update' as const),
  requestUpdate: fc.constantFrom(0, 1),
});

export const arbEndOfEarlyData: fc.Arbitrary<Unencoded<EndOfEarlyData>> = fc.constant({
  type: 'end_of_early_data' as const,
});

/** Every message arbitrary by name, for suites that iterate over them. */
export const MESSAGE_ARBITRARIES = {
  client_hello: arbClientHello,
  server_hello: arbServerHello,
  hello_retry_request: arbHelloRetryRequest,
  encrypted_extensions: arbEncryptedExtensions,
  certificate: arbCertificate,
  certificate_request: arbCertificateRequest,
  certificate_verify: arbCertificateVerify,
  finished: arbFinished,
  new_session_ticket: arbNewSessionTicket,
  key_update: arbKeyUpdate,
  end_of_early_data: arbEndOfEarlyData,
} as const satisfies Record<string, fc.Arbitrary<UnencodedMessage>>;

/** Any handshake message body. */
export const arbHandshakeMessage: fc.Arbitrary<UnencodedMessage> = fc.oneof(
  ...Object.values(MESSAGE_ARBITRARIES).map((a) => a as fc.Arbitrary<UnencodedMessage>),
);
