/**
 * The auditor's mutation gate: tlschart servers that each break one rule the
 * audit checks, built with `serverMachine.provide(...)` (or, for ticket
 * reuse, a ticket store that never forgets). The audit must flag each one
 * with the right finding; a mutant it does not flag survives and fails the
 * test.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { assign } from 'xstate';
import { concat, toHex } from '../../crypto/bytes.js';
import { computeBinder, EarlySecret } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { suiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { ServerConnection, type ServerOptions } from '../../engine/connection.js';
import {
  flipLastBit,
  insertBefore,
  mapMessage,
  rewriteMessage,
  rewritePatch,
  serverFlightProbe,
  ticketProbe,
  withExtensionBlocks,
} from '../../engine/testing/probes.js';
import * as serverActions from '../../machines/server/actions.js';
import type { ServerContext } from '../../machines/server/context.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { CertifiedKey, Command, TlsEvent } from '../../machines/types.js';
import { decodeServerSessionState, encodeServerSessionState } from '../../tickets/state-codec.js';
import type { MaybePromise, ServerSessionState, TicketStore } from '../../tickets/types.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, encodeHandshake, truncatedClientHello } from '../../wire/handshake.js';
import {
  type Certificate,
  type ClientHello,
  type DecodeFailure,
  type EncryptedExtensions,
  type Extension,
  ExtensionType,
  type HandshakeMessage,
  NamedGroup,
  type NewSessionTicket,
  PskKeyExchangeMode,
  type ServerHello,
} from '../../wire/types.js';

type ClientHelloEvent = Extract<TlsEvent, { type: 'recv.ClientHello' }>;

const isClientHello = (e: TlsEvent): e is ClientHelloEvent => e.type === 'recv.ClientHello';

/**
 * A server engine that rewrites each decoded ClientHello before its chart
 * sees it (the bytes, hence the transcript, stay as received): the engine-level
 * mutants.
 */
abstract class RewritingServer extends ServerConnection {
  constructor(
    options: ServerOptions,
    protected readonly tickets: TicketStore,
  ) {
    super(options);
  }

  protected abstract rewrite(ch: ClientHello): Promise<ClientHello>;

  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    return super.eventFor(msg.type === 'client_hello' ? await this.rewrite(msg) : msg);
  }
}

/**
 * Skips the binder check: every offered binder is replaced by the right one
 * for its ticket before the chart verifies it (first ClientHellos only).
 */
export class BinderIgnoringServer extends RewritingServer {
  protected async rewrite(ch: ClientHello): Promise<ClientHello> {
    const psk = findExtension(ch.extensions, 'pre_shared_key_client');
    const partial = truncatedClientHello(ch.raw);
    if (!psk || !partial.ok) return ch;
    const binders = await Promise.all(
      psk.binders.map(async (b, i) => {
        const id = psk.identities[i];
        const state = id && (await this.tickets.get(id.identity));
        const suite = state ? suiteInfo(state.suite) : undefined;
        if (!state || !suite) return b;
        const key = EarlySecret.create(suite, state.psk, nobleProvider).resumptionBinderKey();
        return computeBinder(suite, key, transcriptHash(suite.hash, [partial.value], nobleProvider), nobleProvider);
      }),
    );
    return { ...ch, extensions: ch.extensions.map((x) => (x.type === 'pre_shared_key_client' ? { ...x, binders } : x)) };
  }
}

/** Handshake messages a client never sends before its Finished on the PSK path. */
const UNEXPECTED_BEFORE_FINISHED = new Set<HandshakeMessage['type']>([
  'certificate',
  'certificate_verify',
  'end_of_early_data',
  'new_session_ticket',
]);

/**
 * Ignores what it does not expect while it waits for the client Finished: a
 * Certificate, CertificateVerify, EndOfEarlyData or NewSessionTicket reaches
 * the chart as a user_canceled warning, which the chart lets pass — instead
 * of the unexpected_message RFC 8446 §4 requires.
 */
export class OutOfOrderIgnoringServer extends ServerConnection {
  /** The messages it lets pass while it waits for the client Finished. */
  protected readonly ignored: ReadonlySet<HandshakeMessage['type']> = UNEXPECTED_BEFORE_FINISHED;

  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    if (this.state === 'expectClientFinished' && this.ignored.has(msg.type)) {
      return { type: 'recv.Alert', level: 1, description: 90 };
    }
    return super.eventFor(msg);
  }
}

/** Resumes a psk_ke-only offer: the chart sees psk_dhe_ke added to the client's modes. */
export class PskKeAcceptingServer extends RewritingServer {
  protected async rewrite(ch: ClientHello): Promise<ClientHello> {
    return {
      ...ch,
      extensions: ch.extensions.map((x) =>
        x.type === 'psk_key_exchange_modes' && !x.modes.includes(PskKeyExchangeMode.psk_dhe_ke)
          ? { ...x, modes: [...x.modes, PskKeyExchangeMode.psk_dhe_ke] }
          : x,
      ),
    };
  }
}

const offersEarlyData = (e: TlsEvent) => isClientHello(e) && findExtension(e.msg.extensions, 'early_data') !== undefined;

/** The sendServerFlight of a server that accepts 0-RTT: early_data in EncryptedExtensions when offered on a resumption. */
function sendServerFlightAcceptingEarlyData(context: ServerContext, event: TlsEvent): Partial<ServerContext> {
  const patch = serverActions.sendServerFlight(context, event);
  if (!offersEarlyData(event) || !patch.resumed) return patch;
  return rewritePatch(
    context,
    patch,
    mapMessage('encrypted_extensions', (raw) =>
      rewriteMessage<EncryptedExtensions>(raw, (ee) => ({ ...ee, extensions: [...ee.extensions, { type: 'early_data' }] })),
    ),
  );
}

/** Answers an early_data offer with early_data in EncryptedExtensions (accepts 0-RTT). */
export const acceptsEarlyData = serverMachine.provide({
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) =>
      sendServerFlightAcceptingEarlyData(context, event),
    ),
  },
});

const selectsPsk = (cmds: Command[]) =>
  cmds.some((c) => {
    if (c.kind !== 'sendHandshake' || c.name !== 'server_hello') return false;
    const d = decodeHandshake(c.raw);
    return d.ok && d.value.type === 'server_hello' && findExtension(d.value.extensions, 'pre_shared_key_server') !== undefined;
  });

/** Resumes without a key share in its ServerHello (psk_ke), although the client offered psk_dhe_ke only. */
export const omitsKeyShareOnResumption = serverFlightProbe((cmds) =>
  selectsPsk(cmds)
    ? mapMessage('server_hello', (raw) =>
        rewriteMessage<ServerHello>(raw, (sh) => ({ ...sh, extensions: sh.extensions.filter((x) => x.type !== 'key_share_server') })),
      )(cmds)
    : cmds,
);

/** Sends its Certificate in a resumed handshake. */
export function sendsCertificateOnResumption(cert: CertifiedKey): typeof serverMachine {
  const certificate = encodeHandshake<Certificate>({
    type: 'certificate',
    certificateRequestContext: new Uint8Array(0),
    entries: cert.chain.map((certData) => ({ certData, extensions: [] })),
  });
  return serverFlightProbe((cmds) => (selectsPsk(cmds) ? insertBefore('finished', certificate)(cmds) : cmds));
}

/** A ticket store whose `take` forgets nothing: every ticket resumes any number of times. */
export class ReusableTicketStore implements TicketStore {
  protected readonly states = new Map<string, ServerSessionState>();
  put(ticket: Uint8Array, state: ServerSessionState): void {
    this.states.set(toHex(ticket), state);
  }
  get(ticket: Uint8Array): ServerSessionState | undefined {
    return this.states.get(toHex(ticket));
  }
  take(ticket: Uint8Array): MaybePromise<ServerSessionState | undefined> {
    return this.states.get(toHex(ticket));
  }
}

/** Every NewSessionTicket the server sends, rewritten (the state it stores stays as issued). */
function rewriteTickets(fn: (nst: Omit<NewSessionTicket, 'raw'>) => Omit<NewSessionTicket, 'raw'>): typeof serverMachine {
  return ticketProbe((cmds) =>
    cmds.map((c) => (c.kind === 'storeTicket' ? { ...c, raw: rewriteMessage<NewSessionTicket>(c.raw, fn) } : c)),
  );
}

/** Announces a ticket_lifetime one second over 7 days (RFC 8446 §4.6.1: MUST NOT exceed 604800). */
export const ticketLifetimeOverSevenDays = rewriteTickets((nst) => ({ ...nst, ticketLifetime: 604_801 }));

/** Gives every ticket the same ticket_age_add (RFC 8446 §4.6.1: a fresh value for every ticket). */
export const repeatsTicketAgeAdd = rewriteTickets((nst) => ({ ...nst, ticketAgeAdd: 0x01020304 }));

/** Issues no NewSessionTicket after a resumed handshake (RFC 8446 C.4: SHOULD issue new tickets with every connection). */
export const noTicketsAfterResumption = serverMachine.provide({
  actions: {
    issueTickets: assign(({ context }: { context: ServerContext }) => (context.resumed ? {} : serverActions.issueTickets(context))),
  },
});

/** Random bytes that are always the same: every key pair drawn from them is the same pair. */
const sameBytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);

/**
 * Gives every ticket of a connection the same ticket_nonce (RFC 8446 §4.6.1: unique per
 * ticket on a connection), so its tickets share one PSK. The 8-byte draws of issueTickets
 * are the nonces; ticket identifiers and ticket_age_add stay random, and the stored PSK is
 * derived from the nonce sent, so the tickets still resume.
 */
export const repeatsTicketNonce = serverMachine.provide({
  actions: {
    issueTickets: assign(({ context }: { context: ServerContext }) =>
      serverActions.issueTickets({
        ...context,
        env: { ...context.env, random: (n: number) => (n === 8 ? sameBytes(8) : context.env.random(n)) },
      }),
    ),
  },
});

/**
 * A ticket store whose lookups ignore the middle byte of a ticket (a sloppy key, say a
 * prefix and a suffix): a ticket with a bit flipped there names the original session.
 */
export class SloppyTicketStore implements TicketStore {
  private readonly states = new Map<string, ServerSessionState>();
  private static key(ticket: Uint8Array): string {
    const k = ticket.slice();
    k[Math.floor(k.length / 2)] = 0;
    return toHex(k);
  }
  put(ticket: Uint8Array, state: ServerSessionState): void {
    this.states.set(SloppyTicketStore.key(ticket), state);
  }
  get(ticket: Uint8Array): ServerSessionState | undefined {
    return this.states.get(SloppyTicketStore.key(ticket));
  }
  take(ticket: Uint8Array): ServerSessionState | undefined {
    const key = SloppyTicketStore.key(ticket);
    const state = this.states.get(key);
    this.states.delete(key);
    return state;
  }
}

/**
 * Answers with the same key share on every connection (RFC 9846 §4.3.8: MUST NOT reuse a key
 * share): its flight is built from a random source that always gives the same bytes (so the
 * ServerHello random repeats too); everything else stays as the chart does it.
 */
export const reusesServerKeyShare = serverMachine.provide({
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) =>
      serverActions.sendServerFlight({ ...context, env: { ...context.env, random: sameBytes } }, event),
    ),
  },
});

// ------------------------------------------------------------------ more engine-level mutants

/**
 * Skips the binder check on the second ClientHello only: after its HelloRetryRequest every
 * offered binder is replaced by the right one over message_hash(ClientHello1), the
 * HelloRetryRequest and the truncated second hello (RFC 8446 §4.2.11.2) before the chart
 * verifies it — so a binder left over from the first hello resumes too (§4.2.11: the server
 * MUST validate the binder of the PSK it selects). First ClientHellos are checked as usual.
 */
export class RetryBinderIgnoringServer extends RewritingServer {
  protected async rewrite(ch: ClientHello): Promise<ClientHello> {
    const psk = findExtension(ch.extensions, 'pre_shared_key_client');
    const partial = truncatedClientHello(ch.raw);
    const suite = this.context.suite;
    if (this.state !== 'expectSecondClientHello' || !psk || !partial.ok || !suite) return ch;
    const transcript = transcriptHash(suite.hash, [...this.context.transcript, partial.value], nobleProvider);
    const binders = await Promise.all(
      psk.binders.map(async (b, i) => {
        const id = psk.identities[i];
        const state = id && (await this.tickets.get(id.identity));
        if (!state || suiteInfo(state.suite)?.hash !== suite.hash) return b;
        return computeBinder(suite, EarlySecret.create(suite, state.psk, nobleProvider).resumptionBinderKey(), transcript, nobleProvider);
      }),
    );
    return { ...ch, extensions: ch.extensions.map((x) => (x.type === 'pre_shared_key_client' ? { ...x, binders } : x)) };
  }
}

/**
 * Resumes an offer without psk_key_exchange_modes as if it listed psk_dhe_ke (RFC 8446 §4.2.9:
 * the server MUST abort such a handshake, missing_extension).
 */
export class ModesAssumingServer extends RewritingServer {
  protected async rewrite(ch: ClientHello): Promise<ClientHello> {
    const at = ch.extensions.findIndex((x) => x.type === 'pre_shared_key_client');
    if (at < 0 || findExtension(ch.extensions, 'psk_key_exchange_modes')) return ch;
    const modes: Extension = { type: 'psk_key_exchange_modes', modes: [PskKeyExchangeMode.psk_dhe_ke] };
    return { ...ch, extensions: [...ch.extensions.slice(0, at), modes, ...ch.extensions.slice(at)] };
  }
}

/** An x25519 public key no client sent: the share a psk_ke-falling-back server pretends to have received. */
const PHANTOM_SHARE = ((): Uint8Array => {
  const jwk = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
})();

/**
 * The engine half of `fallsBackToPskKe`: a psk_dhe_ke offer with no key share (and no
 * supported_groups) reaches the chart with PHANTOM_SHARE as its x25519 share, so the chart
 * resumes instead of refusing it (NoKeyShare).
 */
export class PskKeFallbackServer extends RewritingServer {
  protected async rewrite(ch: ClientHello): Promise<ClientHello> {
    const at = ch.extensions.findIndex((x) => x.type === 'pre_shared_key_client');
    if (at < 0 || findExtension(ch.extensions, 'key_share_client') || findExtension(ch.extensions, 'supported_groups')) return ch;
    const added: Extension[] = [
      { type: 'supported_groups', groups: [NamedGroup.x25519] },
      { type: 'key_share_client', shares: [{ group: NamedGroup.x25519, keyExchange: PHANTOM_SHARE }] },
    ];
    return { ...ch, extensions: [...ch.extensions.slice(0, at), ...added, ...ch.extensions.slice(at)] };
  }
}

const answersPhantomShare = (e: TlsEvent) =>
  isClientHello(e) &&
  findExtension(e.msg.extensions, 'key_share_client')?.shares.some((s) => toHex(s.keyExchange) === toHex(PHANTOM_SHARE)) === true;

/**
 * The chart half: answers the phantom share with a ServerHello without key_share — a psk_ke
 * resumption of a psk_dhe_ke offer that carried no key share (RFC 8446 §4.2.9: in psk_dhe_ke
 * both sides MUST supply key_share values; the client did not list psk_ke). Run with
 * PskKeFallbackServer; every other ClientHello is answered as the chart does.
 */
export const fallsBackToPskKe = serverMachine.provide({
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) => {
      const patch = serverActions.sendServerFlight(context, event);
      if (!answersPhantomShare(event)) return patch;
      return rewritePatch(
        context,
        patch,
        mapMessage('server_hello', (raw) =>
          rewriteMessage<ServerHello>(raw, (sh) => ({ ...sh, extensions: sh.extensions.filter((x) => x.type !== 'key_share_server') })),
        ),
      );
    }),
  },
});

/**
 * Takes every offered ticket out of its store as soon as it sees it, before the chart verifies
 * a binder (the store contract of tickets/types.ts: look up, verify, only then take): an offer
 * with a bad binder burns the ticket, so whoever sees a ticket on the wire can deny its owner
 * the resumption (RFC 8446 §8.1, tlschart policy).
 */
export class TicketBurningServer extends ServerConnection {
  constructor(
    options: ServerOptions,
    private readonly tickets: TicketStore,
  ) {
    super(options);
  }

  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    if (msg.type !== 'client_hello') return super.eventFor(msg);
    const tickets: (ServerSessionState | undefined)[] = [];
    for (const id of findExtension(msg.extensions, 'pre_shared_key_client')?.identities ?? []) {
      tickets.push(await this.tickets.take(id.identity));
    }
    return { type: 'recv.ClientHello', msg, tickets };
  }
}

/**
 * Selects a PSK whatever hash its ticket was made with (RFC 8446 §4.2.11: the server MUST
 * select a compatible PSK and cipher suite): the chart sees every ticket as made for the
 * cipher suite the server prefers among those offered. A SHA-256 ticket offered with a
 * SHA-384 suite is then selected, and the key schedule, given a PSK of the wrong length,
 * ends the handshake with internal_error where a full handshake was due.
 */
export class HashBlindServer extends ServerConnection {
  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    const event = await super.eventFor(msg);
    if (!isClientHello(event)) return event;
    const preferred = this.context.config.cipherSuites.find((c) => event.msg.cipherSuites.includes(c));
    if (preferred === undefined) return event;
    return { ...event, tickets: event.tickets.map((t) => t && { ...t, suite: preferred }) };
  }
}

/**
 * Lets an EndOfEarlyData pass while it waits for the client Finished of a handshake without
 * accepted early data, instead of unexpected_message (RFC 8446 §4.5: the client MUST NOT send
 * it; §4: a message out of order is unexpected_message). Everything else out of order is refused.
 */
export class EndOfEarlyDataIgnoringServer extends OutOfOrderIgnoringServer {
  protected override readonly ignored: ReadonlySet<HandshakeMessage['type']> = new Set(['end_of_early_data']);
}

/** The codec's refusals of a pre_shared_key that the binder checks provoke, each as its decode failure. */
export const MALFORMED_PSK = {
  /**
   * An empty binder: PskBinderEntry<32..255> out of range, and a list of one such binder below
   * binders<33..2^16-1>, which the codec meets first (decode_error, RFC 8446 §4.2.11, §6.2).
   */
  emptyBinder: (f: DecodeFailure) => f.reason === 'DecodeError' && /^pre_shared_key\.binders?$/.test(f.field),
  /** More binders than identities (illegal_parameter, §4.2.11). */
  countMismatch: (f: DecodeFailure) => f.reason === 'BinderCountMismatch',
  /** pre_shared_key not the last extension (illegal_parameter, §4.2.11). */
  notLast: (f: DecodeFailure) => f.reason === 'PskNotLast',
} as const;

/** An encoded ClientHello without its pre_shared_key extension (lengths fixed), or undefined if its framing does not parse. */
function withoutPreSharedKey(raw: Uint8Array): Uint8Array | undefined {
  return withExtensionBlocks(raw, (blocks) => blocks.filter((e) => e.code !== ExtensionType.pre_shared_key));
}

/**
 * Ignores a pre_shared_key that the codec refuses in the way `refused` names (an empty
 * binder, more binders than identities, pre_shared_key not last) and goes on with a full
 * handshake without it, where RFC 8446 §4.2.11 requires an abort (with the §6.2 alert). The
 * ClientHello reaches the chart without its pre_shared_key; the transcript keeps the bytes
 * received, so the full handshake completes with an honest client. Any other malformed
 * message is refused as usual. (The codec refuses before eventFor, so the hello is taken
 * from the record layer first: its next() is wrapped.)
 */
export class MalformedPskIgnoringServer extends ServerConnection {
  /** The bytes received, by the hex of the bytes decoded in their place. */
  private readonly received = new Map<string, Uint8Array>();

  constructor(
    options: ServerOptions,
    private readonly refused: (f: DecodeFailure) => boolean,
  ) {
    super(options);
    const next = this.layer.next.bind(this.layer);
    this.layer.next = () => {
      const item = next();
      if (item?.kind !== 'handshake' || item.encrypted) return item;
      const d = decodeHandshake(item.raw);
      const without = !d.ok && this.refused(d.error) ? withoutPreSharedKey(item.raw) : undefined;
      if (!without) return item;
      this.received.set(toHex(without), item.raw);
      return { ...item, raw: without };
    };
  }

  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    const original = msg.type === 'client_hello' ? this.received.get(toHex(msg.raw)) : undefined;
    return super.eventFor(original ? { ...msg, raw: original } : msg);
  }
}

// ------------------------------------------------------------------ flight and ticket mutants

/** Sends a server Finished with one bit flipped in a resumed handshake (RFC 8446 §4.4.4: the client cannot verify it). */
export const badFinishedOnResumption = serverFlightProbe((cmds) => (selectsPsk(cmds) ? mapMessage('finished', flipLastBit)(cmds) : cmds));

const withoutEarlyDataSkip = (cmds: Command[]): Command[] => cmds.filter((c) => c.kind !== 'skipEarlyData');

/**
 * Does not skip the 0-RTT records of an early_data offer it refuses: the first one fails
 * deprotection under the handshake key and the connection ends with bad_record_mac (RFC 8446
 * §4.2.10: a server that ignores early_data skips past such records up to max_early_data_size).
 */
export const skipsNoRefusedEarlyData = serverFlightProbe(withoutEarlyDataSkip);

/**
 * Does not skip the 0-RTT records sent with a first ClientHello it answered with a
 * HelloRetryRequest (RFC 8446 §4.2.10: skip records of type application_data up to
 * max_early_data_size); without a retry it skips them as the chart does.
 */
export const skipsNoEarlyDataAfterRetry = serverMachine.provide({
  actions: {
    sendHelloRetryRequest: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) =>
      rewritePatch(context, serverActions.sendHelloRetryRequest(context, event), withoutEarlyDataSkip),
    ),
  },
});

/** The max_early_data_size the 0-RTT mutants put in their tickets (RFC 8446 §4.2.10). */
export const MUTANT_MAX_EARLY_DATA = 16384;

/** issueTickets whose NewSessionTickets are rewritten by `fn` (the state stored stays as issued). */
function issueTicketsRewritten(
  context: ServerContext,
  fn: (nst: Omit<NewSessionTicket, 'raw'>) => Omit<NewSessionTicket, 'raw'>,
): Partial<ServerContext> {
  return rewritePatch(context, serverActions.issueTickets(context), (added) =>
    added.map((c) => (c.kind === 'storeTicket' ? { ...c, raw: rewriteMessage<NewSessionTicket>(c.raw, fn) } : c)),
  );
}

const allowingEarlyData = (nst: Omit<NewSessionTicket, 'raw'>): Omit<NewSessionTicket, 'raw'> => ({
  ...nst,
  extensions: [...nst.extensions, { type: 'early_data_ticket', maxEarlyDataSize: MUTANT_MAX_EARLY_DATA }],
});

/** Puts early_data (max_early_data_size) in every ticket: its tickets allow 0-RTT (RFC 8446 §4.6.1 MAY; tlschart policy: never). */
export const issuesEarlyDataTickets = serverMachine.provide({
  actions: {
    issueTickets: assign(({ context }: { context: ServerContext }) => issueTicketsRewritten(context, allowingEarlyData)),
  },
});

/**
 * A 0-RTT server: tickets that allow early data, and early_data accepted when a resumption
 * offers it (it announces the acceptance; it does not read the 0-RTT data). With single-use
 * tickets it accepts a 0-RTT flight at most once; the replay mutants give it a ticket store
 * that breaks single use (RFC 8446 §8: accept 0-RTT for the same handshake at most once).
 */
export const zeroRttServer = serverMachine.provide({
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) =>
      sendServerFlightAcceptingEarlyData(context, event),
    ),
    issueTickets: assign(({ context }: { context: ServerContext }) => issueTicketsRewritten(context, allowingEarlyData)),
  },
});

/** How long NonAtomicTicketStore's take waits between its read and its delete. */
export const NON_ATOMIC_TAKE_MS = 300;

/**
 * A ticket store whose `take` is a read, a wait (a round trip to a shared store, say), then a
 * delete — not atomic (tickets/types.ts: of concurrent takes at most one gets the state): offers
 * of one ticket that arrive together all get its state; offers in sequence still find it gone.
 */
export class NonAtomicTicketStore extends ReusableTicketStore {
  override async take(ticket: Uint8Array): Promise<ServerSessionState | undefined> {
    const key = toHex(ticket);
    const state = this.states.get(key);
    await new Promise((resolve) => setTimeout(resolve, NON_ATOMIC_TAKE_MS));
    this.states.delete(key);
    return state;
  }
}

/** A ticket store that keeps nothing: the tickets the server issues never resume (RFC 8446 C.4). */
export class ForgetfulTicketStore implements TicketStore {
  put(): void {}
  get(): undefined {
    return undefined;
  }
  take(): undefined {
    return undefined;
  }
}

/**
 * Stateless tickets (RFC 5077 style; RFC 8446 §4.6.1 allows them, tlschart's policy refuses
 * them): every ticket is a 4-byte key name, a 12-byte IV and the session state sealed with
 * AES-256-GCM under a key only this server holds. Its store keeps nothing and opens the ticket
 * it is shown, so a ticket resumes as often as it is offered (§8.1: no single use without state).
 * `machine` issues the sealed tickets; `ticketStore` opens them.
 */
export function statelessTickets(): { machine: typeof serverMachine; ticketStore: TicketStore } {
  const key = randomBytes(32);
  const keyName = new Uint8Array(randomBytes(4));
  const seal = (state: ServerSessionState): Uint8Array => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(keyName);
    const body = Buffer.concat([cipher.update(encodeServerSessionState(state)), cipher.final()]);
    return concat(keyName, iv, body, cipher.getAuthTag());
  };
  const open = (ticket: Uint8Array): ServerSessionState | undefined => {
    if (ticket.length < 4 + 12 + 16 || toHex(ticket.subarray(0, 4)) !== toHex(keyName)) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, ticket.subarray(4, 16));
    decipher.setAAD(keyName);
    decipher.setAuthTag(ticket.subarray(ticket.length - 16));
    try {
      const plain = Buffer.concat([decipher.update(ticket.subarray(16, ticket.length - 16)), decipher.final()]);
      return decodeServerSessionState(new Uint8Array(plain));
    } catch (e) {
      // A ticket that does not authenticate names no session (the only failure final() has).
      if (e instanceof Error && /authenticate/.test(e.message)) return undefined;
      throw e;
    }
  };
  const machine = ticketProbe((cmds) =>
    cmds.map((c) => {
      if (c.kind !== 'storeTicket') return c;
      const ticket = seal(c.state);
      return { ...c, ticket, raw: rewriteMessage<NewSessionTicket>(c.raw, (nst) => ({ ...nst, ticket })) };
    }),
  );
  return { machine, ticketStore: { put: () => undefined, get: open, take: open } };
}
