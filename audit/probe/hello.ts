/**
 * ClientHellos the way a probe wants them, not the way tlschart's client
 * builds them: extensions in any order (pre_shared_key not last, say), PSK
 * identities with any obfuscated_ticket_age, binders of any length and
 * content (empty, one too many, computed with the wrong label or over the
 * wrong transcript), psk_ke or unknown key exchange modes, early_data.
 *
 * Known extension bodies come from the codec (`wire/extensions.ts`); the
 * ClientHello around them and the pre_shared_key extension are written here
 * byte by byte, so nothing is refused for being malformed. Binders are
 * computed as RFC 8446 §4.2.11.2 says — HMAC over the transcript hash of the
 * ClientHello truncated before the binders list (after a HelloRetryRequest,
 * message_hash(ClientHello1) and the HelloRetryRequest first) — and then
 * distorted as the probe asks.
 */
import { concat } from '../../crypto/bytes.js';
import { computeBinder, deriveSecret, EarlySecret } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import type { SuiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { encodeExtensions } from '../../wire/extensions.js';
import { type Extension, ExtensionType, HandshakeType, TLS12 } from '../../wire/types.js';

/** One extension of a probe hello: a known one (encoded by the codec), raw bytes, or the PSK offer. */
export type HelloExtension = { ext: Extension } | { code: number; body: Uint8Array } | { psk: PskOffer };

/** How one binder is made, given the truncated hello (and the transcript before it). */
export interface BinderMaker {
  /** Length of the binder on the wire (the placeholder the truncated hello is computed with). */
  length: number;
  compute(partialHelloHash: (suite: SuiteInfo) => Uint8Array, partial: Uint8Array): Uint8Array;
  /** For people and traces: "valid", "flipped bit", ... */
  describe: string;
}

export interface PskIdentityOffer {
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

export interface PskOffer {
  identities: PskIdentityOffer[];
  /** One per identity normally; fewer or more to probe the count check. */
  binders: BinderMaker[];
}

export interface HelloSpec {
  random: Uint8Array;
  legacySessionId: Uint8Array;
  cipherSuites: number[];
  /** In wire order. */
  extensions: HelloExtension[];
  /** message_hash(ClientHello1) and the HelloRetryRequest, for a second ClientHello's binders (§4.2.11.2). */
  transcriptPrefix?: Uint8Array[];
}

export interface BuiltHello {
  raw: Uint8Array;
  /** The ClientHello up to (excluding) the binders list, when it offers a PSK. */
  partial: Uint8Array | undefined;
}

// ------------------------------------------------------------------ binders

/** The probe's crypto: tlschart's default provider (@noble), passed explicitly everywhere. */
const P = nobleProvider;

function binderKey(suite: SuiteInfo, psk: Uint8Array, label: 'res binder' | 'ext binder'): Uint8Array {
  const early = EarlySecret.create(suite, psk, P);
  if (label === 'res binder') return early.resumptionBinderKey();
  // §7.1: binder_key = Derive-Secret(Early Secret, "ext binder" | "res binder", "").
  return deriveSecret(suite.hash, early.secret, 'ext binder', P.hash(suite.hash, new Uint8Array(0)), P);
}

/** The binder RFC 8446 §4.2.11.2 calls for: a resumption binder over the real truncated hello. */
export function validBinder(suite: SuiteInfo, psk: Uint8Array): BinderMaker {
  return {
    length: suite.hashLen,
    describe: 'valid',
    compute: (hashOf) => computeBinder(suite, binderKey(suite, psk, 'res binder'), hashOf(suite), P),
  };
}

/** A valid binder with one bit flipped. */
export function flippedBinder(suite: SuiteInfo, psk: Uint8Array): BinderMaker {
  const inner = validBinder(suite, psk);
  return {
    ...inner,
    describe: 'valid binder with its last bit flipped',
    compute: (hashOf, partial) => {
      const b = inner.compute(hashOf, partial);
      b[b.length - 1] = (b[b.length - 1] as number) ^ 0x01;
      return b;
    },
  };
}

/** A valid binder followed by one extra byte (Hash.length + 1 bytes). */
export function longBinder(suite: SuiteInfo, psk: Uint8Array): BinderMaker {
  const inner = validBinder(suite, psk);
  return {
    length: suite.hashLen + 1,
    describe: `valid binder plus one byte (${suite.hashLen + 1} bytes)`,
    compute: (hashOf, partial) => concat(inner.compute(hashOf, partial), Uint8Array.of(0)),
  };
}

/** Literal bytes of any length (0 included): an empty or random binder. */
export function literalBinder(bytes: Uint8Array, describe: string): BinderMaker {
  return { length: bytes.length, describe, compute: () => bytes.slice() };
}

/** A binder computed with the external-PSK label "ext binder" instead of "res binder" (§7.1). */
export function externalLabelBinder(suite: SuiteInfo, psk: Uint8Array): BinderMaker {
  return {
    length: suite.hashLen,
    describe: 'binder computed with the "ext binder" label',
    compute: (hashOf) => computeBinder(suite, binderKey(suite, psk, 'ext binder'), hashOf(suite), P),
  };
}

/** A binder over another transcript: the truncated hello with its random's first byte changed. */
export function otherTranscriptBinder(suite: SuiteInfo, psk: Uint8Array, prefix: Uint8Array[] = []): BinderMaker {
  return {
    length: suite.hashLen,
    describe: 'binder computed over a ClientHello with another random',
    compute: (_hashOf, partial) => {
      const other = partial.slice();
      // random starts after the 4-byte header and the 2-byte legacy_version.
      other[6] = (other[6] as number) ^ 0xff;
      return computeBinder(suite, binderKey(suite, psk, 'res binder'), transcriptHash(suite.hash, [...prefix, other], P), P);
    },
  };
}

/** A binder computed as if there had been no HelloRetryRequest: over Truncate(ClientHello2) alone. */
export function noPrefixBinder(suite: SuiteInfo, psk: Uint8Array): BinderMaker {
  return {
    length: suite.hashLen,
    describe: 'binder computed without the HelloRetryRequest in the transcript',
    compute: (_hashOf, partial) => computeBinder(suite, binderKey(suite, psk, 'res binder'), transcriptHash(suite.hash, [partial], P), P),
  };
}

/** Exactly these bytes, computed before (the stale binder of ClientHello1 reused in ClientHello2). */
export function fixedBinder(bytes: Uint8Array, describe: string): BinderMaker {
  return { length: bytes.length, describe, compute: () => bytes.slice() };
}

// ------------------------------------------------------------------ encoding

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

function u24(n: number): Uint8Array {
  return Uint8Array.of((n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** The body (extension_data) of a known extension, as the codec encodes it in a ClientHello. */
export function extensionBody(ext: Extension): { code: number; body: Uint8Array } {
  const block = encodeExtensions([ext], 'client_hello');
  // block: 2-byte block length, 2-byte type, 2-byte body length, body.
  const code = ((block[2] as number) << 8) | (block[3] as number);
  return { code, body: block.slice(6) };
}

function pskBody(offer: PskOffer, binders: readonly Uint8Array[]): { body: Uint8Array; bindersAt: number } {
  const ids = concat(...offer.identities.map((id) => concat(u16(id.identity.length), id.identity, u32(id.obfuscatedTicketAge >>> 0))));
  const list = concat(...binders.map((b) => concat(Uint8Array.of(b.length), b)));
  const identities = concat(u16(ids.length), ids);
  return { body: concat(identities, u16(list.length), list), bindersAt: identities.length };
}

function assemble(spec: HelloSpec, binders: readonly Uint8Array[]): { raw: Uint8Array; bindersListAt: number | undefined } {
  const exts: Uint8Array[] = [];
  let offset = 0;
  let bindersInExts: number | undefined;
  for (const e of spec.extensions) {
    let code: number;
    let body: Uint8Array;
    if ('ext' in e) ({ code, body } = extensionBody(e.ext));
    else if ('psk' in e) {
      const b = pskBody(e.psk, binders);
      code = ExtensionType.pre_shared_key;
      body = b.body;
      bindersInExts = offset + 4 + b.bindersAt;
    } else ({ code, body } = e);
    const one = concat(u16(code), u16(body.length), body);
    exts.push(one);
    offset += one.length;
  }
  const extBlock = concat(...exts);
  const suites = concat(...spec.cipherSuites.map(u16));
  const body = concat(
    u16(TLS12),
    spec.random,
    Uint8Array.of(spec.legacySessionId.length),
    spec.legacySessionId,
    u16(suites.length),
    suites,
    Uint8Array.of(1, 0),
    u16(extBlock.length),
    extBlock,
  );
  const raw = concat(Uint8Array.of(HandshakeType.client_hello), u24(body.length), body);
  const extStart = raw.length - extBlock.length;
  return { raw, bindersListAt: bindersInExts === undefined ? undefined : extStart + bindersInExts };
}

/**
 * Encode a probe ClientHello. With a PSK offer, the binders are computed over
 * the hello truncated before the binders list (placeholders of the declared
 * lengths make every length field right, §4.2.11.2) and written in.
 */
export function buildHello(spec: HelloSpec): BuiltHello {
  const pskExt = spec.extensions.find((e): e is { psk: PskOffer } => 'psk' in e);
  if (!pskExt) return { raw: assemble(spec, []).raw, partial: undefined };
  const makers = pskExt.psk.binders;
  const placeholders = makers.map((m) => new Uint8Array(m.length));
  const draft = assemble(spec, placeholders);
  if (draft.bindersListAt === undefined) throw new Error('pre_shared_key offer without a binders list');
  const partial = draft.raw.slice(0, draft.bindersListAt);
  const prefix = spec.transcriptPrefix ?? [];
  const hashOf = (suite: SuiteInfo) => transcriptHash(suite.hash, [...prefix, partial], P);
  const binders = makers.map((m) => {
    const b = m.compute(hashOf, partial);
    if (b.length !== m.length) throw new Error(`binder maker "${m.describe}" produced ${b.length} bytes, declared ${m.length}`);
    return b;
  });
  const built = assemble(spec, binders);
  return { raw: built.raw, partial };
}
