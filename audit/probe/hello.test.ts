/**
 * Probe ClientHellos: what they must be byte for byte where tlschart has an
 * opinion (a valid binder is the one tlschart's own client computes), and
 * the precise malformations the probes need (each decoded by tlschart's
 * codec with the failure RFC 8446 names).
 */
import { describe, expect, it } from 'vitest';
import { computeBinder, EarlySecret } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { suiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, encodeClientHelloWithoutBinders } from '../../wire/handshake.js';
import { CipherSuite, type ClientHello } from '../../wire/types.js';
import { heldTicket } from '../testing/tickets.js';
import { type BinderMaker, externalLabelBinder, flippedBinder, literalBinder, longBinder, otherTranscriptBinder } from './hello.js';
import { makeHello, offerTicket } from './hellos.js';

const suite = suiteInfo(CipherSuite.TLS_AES_128_GCM_SHA256)!;
const ticket = heldTicket({ suite, ticketAgeAdd: 12345, afterFinishedMs: 1 });

function decoded(raw: Uint8Array): ClientHello {
  const d = decodeHandshake(raw);
  if (!d.ok) throw new Error(d.error.message);
  if (d.value.type !== 'client_hello') throw new Error('not a ClientHello');
  return d.value;
}

const bindersOf = (raw: Uint8Array) => findExtension(decoded(raw).extensions, 'pre_shared_key_client')?.binders ?? [];

describe('probe ClientHellos', () => {
  it("compute the binder over the hello truncated as tlschart's codec truncates it (RFC 8446 §4.2.11.2)", () => {
    const h = makeHello({ serverName: 'localhost', offers: [offerTicket(ticket)] });
    const { raw: _raw, ...body } = decoded(h.raw);
    const P = nobleProvider;
    const partial = transcriptHash(suite.hash, [encodeClientHelloWithoutBinders(body)], P);
    const expected = computeBinder(suite, EarlySecret.create(suite, ticket.psk, P).resumptionBinderKey(), partial, P);
    expect(bindersOf(h.raw)).toEqual([expected]);
  });

  it('distort the binder in one precise way each', () => {
    // The same hello each time (random, key share, age): only the binder changes.
    const first = makeHello({
      random: new Uint8Array(32),
      legacySessionId: new Uint8Array(0),
      offers: [offerTicket(ticket, { obfuscatedTicketAge: 1 })],
    });
    const same = { random: new Uint8Array(32), legacySessionId: new Uint8Array(0), keyShares: first.keyShares };
    const offer = (binder?: BinderMaker) => [offerTicket(ticket, { obfuscatedTicketAge: 1, ...(binder ? { binder } : {}) })];
    const valid = bindersOf(makeHello({ ...same, offers: offer() }).raw)[0]!;
    expect(valid).toEqual(bindersOf(first.raw)[0]);
    const flipped = bindersOf(makeHello({ ...same, offers: offer(flippedBinder(suite, ticket.psk)) }).raw)[0]!;
    expect(flipped.length).toBe(32);
    expect(flipped.slice(0, 31)).toEqual(valid.slice(0, 31));
    expect(flipped[31]).toBe(valid[31]! ^ 1);
    const long = bindersOf(makeHello({ ...same, offers: offer(longBinder(suite, ticket.psk)) }).raw)[0]!;
    expect(long.length).toBe(33);
    const external = bindersOf(makeHello({ ...same, offers: offer(externalLabelBinder(suite, ticket.psk)) }).raw)[0]!;
    const other = bindersOf(makeHello({ ...same, offers: offer(otherTranscriptBinder(suite, ticket.psk)) }).raw)[0]!;
    expect(new Set([valid, external, other].map((b) => Buffer.from(b).toString('hex'))).size).toBe(3);
  });

  it('can send an empty binder, which the codec refuses with decode_error', () => {
    const h = makeHello({ offers: [offerTicket(ticket, { binder: literalBinder(new Uint8Array(0), 'empty') })] });
    const d = decodeHandshake(h.raw);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatchObject({ alert: 'decode_error', field: 'pre_shared_key.binders' });
  });

  it('can send one binder too many, which the codec refuses with illegal_parameter', () => {
    const h = makeHello({ offers: [offerTicket(ticket)], extraBinders: [literalBinder(new Uint8Array(32), 'extra')] });
    const d = decodeHandshake(h.raw);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error).toMatchObject({ alert: 'illegal_parameter', field: 'pre_shared_key.binders' });
  });

  it('can put pre_shared_key before the last extension, which the codec refuses with illegal_parameter', () => {
    const h = makeHello({ offers: [offerTicket(ticket)], pskNotLast: true });
    const d = decodeHandshake(h.raw);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.message).toMatch(/pre_shared_key is not the last extension/);
  });

  it('leaves out psk_key_exchange_modes, key_share and supported_groups when told to', () => {
    const ch = decoded(makeHello({ modes: null, groups: null, shareGroups: null, offers: [offerTicket(ticket)] }).raw);
    expect(ch.extensions.map((e) => e.type)).toEqual(['signature_algorithms', 'supported_versions_client', 'pre_shared_key_client']);
  });

  it('offers an unknown mode as given', () => {
    const ch = decoded(makeHello({ modes: [0x7f], offers: [offerTicket(ticket)] }).raw);
    expect(findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes).toEqual([0x7f]);
  });
});
