/**
 * What the probing server reads in a ClientHello: the lenient parse (a
 * pre_shared_key that is not last), the binder recomputed with the ticket's
 * PSK — over the truncated hello, and after a HelloRetryRequest over
 * message_hash(ClientHello1) and the HelloRetryRequest first — and the
 * ticket age against the time the ticket was sent. The hellos come from
 * the server audit's probe builder, an independent writer of binders.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../crypto/bytes.js';
import { obfuscatedTicketAge } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { type SuiteInfo, suiteByName } from '../../crypto/suites.js';
import { messageHashMessage } from '../../crypto/transcript.js';
import { decodeHandshake, encodeHandshake, hrrRandom, truncatedClientHello } from '../../wire/handshake.js';
import { type ServerHello, TLS12, TLS13 } from '../../wire/types.js';
import type { ProbeTicket } from '../probe/client.js';
import { flippedBinder } from '../probe/hello.js';
import { makeHello, offerTicket } from '../probe/hellos.js';
import { heldTicket } from '../testing/tickets.js';
import type { SentTicket } from './connection.js';
import { parseClientHello, truncatedHello } from './hello.js';
import { ageError, TicketRegistry } from './offers.js';

const suite = suiteByName('TLS_AES_128_GCM_SHA256') as SuiteInfo;
const rng = (n: number) => new Uint8Array(randomBytes(n));

/** A ticket as the probing server sent it at `sentAtMs`, and the same ticket as a client holds it. */
function ticket(sentAtMs: number): { sent: SentTicket; held: ProbeTicket } {
  const psk = rng(32);
  const t = rng(32);
  const ageAdd = 0x12345678;
  const sent: SentTicket = {
    ticket: t,
    nonce: rng(8),
    psk,
    suite,
    lifetimeS: 7200,
    ageAdd,
    maxEarlyDataSize: undefined,
    unknownExtension: false,
    empty: false,
    sentAtMs,
  };
  const held = heldTicket({ ticket: t, nonce: sent.nonce, ticketAgeAdd: ageAdd, psk, suite, receivedAtMs: sentAtMs });
  return { sent, held };
}

function parsed(raw: Uint8Array) {
  const p = parseClientHello(raw);
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

describe('the probing server reads ClientHellos', () => {
  it('finds where the binders start: the same truncation as the codec when pre_shared_key is last', () => {
    const { held } = ticket(Date.now());
    const hello = makeHello({ serverName: 'localhost', offers: [offerTicket(held)] });
    const p = parsed(hello.raw);
    expect(p.pskLast).toBe(true);
    const codec = truncatedClientHello(hello.raw);
    if (!codec.ok) throw new Error(codec.error.message);
    expect(toHex(truncatedHello(p) as Uint8Array)).toBe(toHex(codec.value));
    expect(toHex(p.hello.raw)).toBe(toHex(hello.raw));
    const d = decodeHandshake(hello.raw);
    expect(d.ok && d.value.type === 'client_hello' && d.value.extensions.map((e) => e.type)).toEqual(p.hello.extensions.map((e) => e.type));
  });

  it('reads a hello whose pre_shared_key is not last (the codec refuses it), and says so', () => {
    const { held } = ticket(Date.now());
    const hello = makeHello({ serverName: 'localhost', offers: [offerTicket(held)], pskNotLast: true });
    expect(decodeHandshake(hello.raw).ok).toBe(false);
    const p = parsed(hello.raw);
    expect(p.pskLast).toBe(false);
    expect(p.extensions.at(-1)?.code).not.toBe(41);
    expect(p.hello.extensions.some((e) => e.type === 'pre_shared_key_client')).toBe(true);
  });

  it('refuses what is not a ClientHello, or one that ends early', () => {
    const hello = makeHello({ serverName: 'localhost' });
    expect(parseClientHello(hello.raw.subarray(0, 60))).toMatchObject({ ok: false });
    expect(parseClientHello(Uint8Array.of(2, 0, 0, 0))).toEqual({ ok: false, error: 'not a ClientHello' });
  });
});

describe('the offers of a ClientHello, judged against the issued tickets', () => {
  it("verifies a binder made with the ticket's PSK, refuses one with a flipped bit, and knows no other ticket", () => {
    const registry = new TicketRegistry();
    const now = Date.now();
    const a = ticket(now - 1500);
    const b = ticket(now - 1500);
    registry.issue(a.sent, { scenario: 's', connection: 'c', serverName: 'localhost' });
    registry.issue(b.sent, { scenario: 's', connection: 'c', serverName: 'localhost' });
    const stranger = ticket(now).held;
    const hello = makeHello({
      serverName: 'localhost',
      offers: [offerTicket(a.held), { ...offerTicket(b.held), binder: flippedBinder(suite, b.held.psk) }, offerTicket(stranger)],
    });
    const v = registry.view(parsed(hello.raw), [], now);
    expect(v.identities.map((i) => [i.ticket !== undefined, i.binderValid])).toEqual([
      [true, true],
      [true, false],
      [false, undefined],
    ]);
    expect(v.binderCount).toBe(3);
  });

  it('verifies a binder of a hello whose pre_shared_key is not last, over the hello up to its binders', () => {
    const registry = new TicketRegistry();
    const a = ticket(Date.now());
    registry.issue(a.sent, { scenario: 's', connection: 'c', serverName: 'localhost' });
    const v = registry.view(parsed(makeHello({ offers: [offerTicket(a.held)], pskNotLast: true }).raw), [], Date.now());
    expect(v.identities[0]?.binderValid).toBe(true);
  });

  it('verifies the binder of a second ClientHello over message_hash(ClientHello1) and the HelloRetryRequest, and only so', () => {
    const registry = new TicketRegistry();
    const a = ticket(Date.now());
    registry.issue(a.sent, { scenario: 's', connection: 'c', serverName: 'localhost' });
    const first = makeHello({ offers: [offerTicket(a.held)] });
    const hrr = encodeHandshake<ServerHello>({
      type: 'server_hello',
      isHelloRetryRequest: true,
      legacyVersion: TLS12,
      random: hrrRandom(),
      legacySessionIdEcho: first.legacySessionId,
      cipherSuite: suite.code,
      legacyCompressionMethod: 0,
      extensions: [
        { type: 'supported_versions_server', version: TLS13 },
        { type: 'key_share_hrr', selectedGroup: 0x17 },
      ],
    });
    const prefix = [messageHashMessage(suite.hash, first.raw, nobleProvider), hrr.raw];
    const second = makeHello({
      random: first.random,
      legacySessionId: first.legacySessionId,
      shareGroups: [0x17],
      offers: [offerTicket(a.held)],
      transcriptPrefix: prefix,
    });
    expect(registry.view(parsed(second.raw), prefix, Date.now()).identities[0]?.binderValid).toBe(true);
    // The same hello judged as a first ClientHello: the binder covers a transcript it does not have.
    expect(registry.view(parsed(second.raw), [], Date.now()).identities[0]?.binderValid).toBe(false);
  });

  it('decodes the ticket age with ticket_age_add and compares it with the time since the ticket was sent', () => {
    const registry = new TicketRegistry();
    const sentAt = 1_700_000_000_000;
    const a = ticket(sentAt);
    registry.issue(a.sent, { scenario: 's', connection: 'c', serverName: 'localhost' });
    const at = sentAt + 4200;
    const honest = makeHello({ offers: [offerTicket(a.held, { obfuscatedTicketAge: obfuscatedTicketAge(4100, a.sent.ageAdd) })] });
    const id = registry.view(parsed(honest.raw), [], at).identities[0];
    expect(id).toMatchObject({ claimedAgeMs: 4100, elapsedMs: 4200 });
    expect(ageError(id as NonNullable<typeof id>)).toBe(-100);
    // An age sent without ticket_age_add decodes to nonsense: far off.
    const raw = makeHello({ offers: [offerTicket(a.held, { obfuscatedTicketAge: 4100 })] });
    const bad = registry.view(parsed(raw.raw), [], at).identities[0];
    expect(Math.abs(ageError(bad as NonNullable<typeof bad>) as number)).toBeGreaterThan(1_000_000);
    // A ticket from the future (an age just below 2^32) is a small negative age, not four billion.
    const future = makeHello({ offers: [offerTicket(a.held, { obfuscatedTicketAge: (a.sent.ageAdd - 10_000 + 2 ** 32) % 2 ** 32 })] });
    expect(ageError(registry.view(parsed(future.raw), [], at).identities[0] as NonNullable<typeof bad>)).toBe(-14_200);
  });

  it('keeps an empty ticket out of the lookup (no identity can name it)', () => {
    const registry = new TicketRegistry();
    const a = ticket(Date.now());
    const issued = registry.issue(
      { ...a.sent, ticket: new Uint8Array(0), empty: true },
      { scenario: 's', connection: 'c', serverName: undefined },
    );
    expect(issued.empty).toBe(true);
    expect(registry.all).toEqual([]);
  });
});
