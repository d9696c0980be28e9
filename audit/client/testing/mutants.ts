/**
 * The client audit's mutation gate: tlschart clients that each break one
 * rule the audit checks, built with `clientMachine.provide(...)` so the rest
 * of the protocol stays real. The audit must flag each with the right
 * finding; a mutant it does not flag survives and fails the test.
 *
 * The guards are replaced by wrappers around the chart's own implementations
 * (by name), so a mutant changes exactly one decision. Where the chart keeps a
 * rule by having no transition for a message (a CertificateVerify after a PSK,
 * a malformed ticket once connected), `withTransitions` adds the one
 * transition the mutant needs to the chart's own config.
 */
import { assign, createMachine } from 'xstate';
import { finishedVerifyData } from '../../../crypto/keyschedule.js';
import { nobleProvider } from '../../../crypto/noble.js';
import { suiteInfo } from '../../../crypto/suites.js';
import { transcriptHash } from '../../../crypto/transcript.js';
import { clientHelloProbe, sendingFirstHello, withExtensionBlocks } from '../../../engine/testing/probes.js';
import * as clientActions from '../../../machines/client/actions.js';
import type { ClientContext } from '../../../machines/client/context.js';
import { judgeServerHello } from '../../../machines/client/judge.js';
import { bindClientHello } from '../../../machines/client/logic.js';
import { clientMachine } from '../../../machines/client/machine.js';
import { memo } from '../../../machines/memo.js';
import type { Command, TlsEvent } from '../../../machines/types.js';
import { MAX_TICKET_LIFETIME_S } from '../../../tickets/types.js';
import { findExtension } from '../../../wire/extensions.js';
import type { RawExtension } from '../../../wire/handshake.js';
import {
  type ClientHello,
  type Extension,
  ExtensionType,
  PskKeyExchangeMode,
  type ServerHello,
  type Unencoded,
} from '../../../wire/types.js';

type GuardFn = (args: { context: ClientContext; event: TlsEvent }, params?: unknown) => boolean;

/** The chart's own guard implementation, by name. */
function guard(name: string): GuardFn {
  const g = (clientMachine.implementations.guards as Record<string, GuardFn | undefined>)[name];
  if (!g) throw new Error(`the client chart has no guard ${name}`);
  return g;
}

/** The event without early_data in its EncryptedExtensions. */
function withoutEarlyData(event: TlsEvent): TlsEvent {
  if (event.type !== 'recv.EncryptedExtensions') return event;
  return { ...event, msg: { ...event.msg, extensions: event.msg.extensions.filter((e) => e.type !== 'early_data') } };
}

/** Accepts early_data in EncryptedExtensions although it never offered it (RFC 8446 §4.2: unsupported_extension). */
export const acceptsUnofferedEarlyData = clientMachine.provide({
  guards: {
    acceptsUnofferedEarlyData: () => false,
    hasEncryptedExtensionsProblem: ({ context, event }) =>
      guard('hasEncryptedExtensionsProblem')({ context, event: withoutEarlyData(event) }),
  },
  actions: {
    // The production action takes only what its judge accepted: the mutant hands it the message without early_data.
    acceptEncryptedExtensions: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
      clientActions.acceptEncryptedExtensions(context, withoutEarlyData(event)),
    ),
  },
});

/**
 * Does not check the server Finished (RFC 8446 §4.4.4: decrypt_error): any
 * verify_data is taken as the one it expects, and the handshake goes on.
 */
export const skipsFinishedCheck = clientMachine.provide({
  guards: { isServerFinishedValid: () => true },
  actions: {
    acceptServerFinishedAndSendClientFlight: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      if (event.type !== 'recv.Finished' || !context.suite || !context.serverHandshakeSecret)
        return clientActions.acceptServerFinishedAndSendClientFlight(context, event);
      const expected = finishedVerifyData(
        context.suite,
        context.serverHandshakeSecret,
        transcriptHash(context.suite.hash, context.transcript, nobleProvider),
        nobleProvider,
      );
      // The transcript keeps the bytes received; only the comparison is skipped.
      return clientActions.acceptServerFinishedAndSendClientFlight(context, { ...event, msg: { ...event.msg, verifyData: expected } });
    }),
  },
});

/**
 * Accepts a Certificate (and CertificateVerify) after a PSK ServerHello
 * (RFC 8446 §4, Appendix A.1: unexpected_message): it never moves to
 * "expect Finished" on resumption, so it also fails a resumption that has
 * no Certificate.
 */
export const acceptsCertificateAfterPsk = clientMachine.provide({
  guards: { isResuming: () => false },
});

/** Offers psk_ke besides psk_dhe_ke (tlschart policy: psk_dhe_ke only, RFC 8446 §4.2.9 allows both). */
export const offersPskKe = clientHelloProbe((ch) => ({
  ...ch,
  extensions: ch.extensions.map((e) =>
    e.type === 'psk_key_exchange_modes' ? { ...e, modes: [PskKeyExchangeMode.psk_ke, PskKeyExchangeMode.psk_dhe_ke] } : e,
  ),
}));

/** Offers a PSK without psk_key_exchange_modes (RFC 8446 §4.2.9: clients MUST send it with a PSK). */
export const omitsPskModes = clientHelloProbe((ch) => ({
  ...ch,
  extensions: ch.extensions.filter((e) => e.type !== 'psk_key_exchange_modes'),
}));

/** Random bytes that are always the same: every key pair drawn from them is the same pair. */
const sameBytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);

/**
 * Sends the same key share on every connection (RFC 9846 §4.3.8: MUST NOT
 * reuse a key share): its ClientHello is built from a random source that
 * always gives the same bytes; everything else stays as the chart does it.
 */
export const reusesKeyShare = clientMachine.provide({
  actions: {
    sendClientHello: assign(({ context }: { context: ClientContext }) =>
      clientActions.sendClientHello({ ...context, env: { ...context.env, random: sameBytes } }),
    ),
  },
});

/**
 * Keeps a ticket whose lifetime is 0 (RFC 8446 §4.6.1: such a ticket is discarded at once) as
 * if it had a minute to live; every other ticket is kept as the chart keeps it.
 */
export const keepsLifetimeZeroTickets = clientMachine.provide({
  actions: {
    acceptNewSessionTicket: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      if (event.type !== 'recv.NewSessionTicket' || event.msg.ticketLifetime !== 0)
        return clientActions.acceptNewSessionTicket(context, event);
      return clientActions.acceptNewSessionTicket(context, { ...event, msg: { ...event.msg, ticketLifetime: 60 } });
    }),
  },
});

/**
 * Drops its ticket from the second ClientHello although the HelloRetryRequest's suite fits it
 * (RFC 8446 §4.1.2: only incompatible PSKs may be removed): the second hello is built as if
 * no ticket had been offered.
 */
export const dropsPskAfterRetry = clientMachine.provide({
  actions: {
    sendSecondClientHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
      clientActions.sendSecondClientHello({ ...context, offeredPsk: undefined }, event),
    ),
  },
});

/**
 * Sends a second ClientHello with another random (RFC 8446 §4.1.2: the same ClientHello but
 * for what the HelloRetryRequest allows to change); everything else as the chart builds it.
 */
export const changesRandomAfterRetry = clientMachine.provide({
  actions: {
    sendSecondClientHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
      clientActions.sendSecondClientHello({ ...context, clientRandom: context.clientRandom.map((b) => b ^ 0xff) }, event),
    ),
  },
});

/** The hello's fields without its encoding, to build it again. */
function bodyOf(ch: ClientHello): Unencoded<ClientHello> {
  const { raw: _raw, ...body } = ch;
  return body;
}

const hasPsk = (ch: Unencoded<ClientHello>): boolean => findExtension(ch.extensions, 'pre_shared_key_client') !== undefined;

/**
 * Binds its PSK offer with a key other than the ticket's PSK (RFC 8446 §4.2.11.2: the binder is
 * keyed with the binder_key of its PSK; a server MUST abort on one that does not verify): the
 * ticket's PSK with its last bit flipped. The key schedule keeps the real PSK.
 */
export const bindsWithWrongKey = clientMachine.provide({
  actions: {
    sendClientHello: assign(({ context }: { context: ClientContext }) => {
      const patch = clientActions.sendClientHello(context);
      const psk = patch.offeredPsk;
      if (!psk || !patch.clientHello) return patch;
      const key = psk.session.psk.map((b, i) => (i === psk.session.psk.length - 1 ? b ^ 1 : b));
      const wrong = { ...psk, session: { ...psk.session, psk: key } };
      return sendingFirstHello(context, patch, bindClientHello(bodyOf(patch.clientHello), wrong, [], context.env.crypto));
    }),
  },
});

/**
 * Binds its second ClientHello over that hello alone (RFC 8446 §4.2.11.2: after a
 * HelloRetryRequest the binder covers message_hash(ClientHello1), the HelloRetryRequest and the
 * truncated second ClientHello); its transcript keeps the hello as sent.
 */
export const bindsSecondHelloAlone = clientMachine.provide({
  actions: {
    sendSecondClientHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      const patch = clientActions.sendSecondClientHello(context, event);
      const { offeredPsk: psk, clientHello: ch2, transcript, outbox } = patch;
      if (!psk || !ch2 || !transcript || !outbox) return patch;
      const rebound = bindClientHello(bodyOf(ch2), psk, [], context.env.crypto);
      return {
        ...patch,
        clientHello: rebound,
        transcript: [...transcript.slice(0, -1), rebound.raw],
        outbox: outbox.map((c) => (c.kind === 'sendHandshake' && c.raw === ch2.raw ? { ...c, raw: rebound.raw } : c)),
      };
    }),
  },
});

/**
 * Sends the ticket's age without adding its ticket_age_add (RFC 8446 §4.2.11.1:
 * obfuscated_ticket_age is the age in milliseconds plus ticket_age_add, modulo 2^32); the binder
 * is computed over the hello as sent.
 */
export const omitsTicketAgeAdd = clientMachine.provide({
  actions: {
    sendClientHello: assign(({ context }: { context: ClientContext }) => {
      const session = context.config.session;
      if (!session) return clientActions.sendClientHello(context);
      const patch = clientActions.sendClientHello({ ...context, config: { ...context.config, session: { ...session, ticketAgeAdd: 0 } } });
      return patch.offeredPsk ? { ...patch, offeredPsk: { ...patch.offeredPsk, session } } : patch;
    }),
  },
});

/**
 * Offers early_data with every ticket, also one whose NewSessionTicket did not allow it
 * (RFC 8446 §4.2.10: early data only with a PSK that allows it); it never sends any 0-RTT record.
 */
export const offersEarlyDataWithoutPermission = clientHelloProbe((ch) =>
  hasPsk(ch)
    ? {
        ...ch,
        extensions: ch.extensions.flatMap((e): Extension[] => (e.type === 'pre_shared_key_client' ? [{ type: 'early_data' }, e] : [e])),
      }
    : ch,
);

/** Offers a PSK with psk_dhe_ke but without key_share (RFC 8446 §4.2.9: psk_dhe_ke MUST come with "key_share"). */
export const omitsKeyShareWithPsk = clientHelloProbe((ch) =>
  hasPsk(ch) ? { ...ch, extensions: ch.extensions.filter((e) => e.type !== 'key_share_client') } : ch,
);

/**
 * Not a mutant: offers a PSK with psk_dhe_ke and an empty client_shares, which RFC 8446 §4.2.8
 * allows (the server answers with a HelloRetryRequest). offer.key-share must not flag it.
 */
export const emptiesKeySharesWithPsk = clientHelloProbe((ch) =>
  hasPsk(ch) ? { ...ch, extensions: ch.extensions.map((e) => (e.type === 'key_share_client' ? { ...e, shares: [] } : e)) } : ch,
);

/**
 * Puts pre_shared_key first among its extensions (RFC 8446 §4.2.11: it MUST be the last). The
 * codec refuses to encode that, so the extension blocks of the hello the chart built (binder
 * included) are moved on the wire; the client keeps the bytes it sent as its transcript.
 */
export const putsPskFirst = clientMachine.provide({
  actions: {
    sendClientHello: assign(({ context }: { context: ClientContext }) => {
      const patch = clientActions.sendClientHello(context);
      const ch = patch.clientHello;
      if (!ch || !patch.offeredPsk) return patch;
      const isPsk = (b: RawExtension) => b.code === ExtensionType.pre_shared_key;
      const raw = withExtensionBlocks(ch.raw, (blocks) => [...blocks.filter(isPsk), ...blocks.filter((b) => !isPsk(b))]);
      if (!raw) throw new Error('putsPskFirst: the ClientHello the chart built does not frame');
      return sendingFirstHello(context, patch, { ...ch, raw });
    }),
  },
});

/** The ServerHello with its selected_identity replaced by 0. */
function withFirstIdentity(event: TlsEvent): TlsEvent {
  if (event.type !== 'recv.ServerHello') return event;
  const extensions = event.msg.extensions.map((e) => (e.type === 'pre_shared_key_server' ? { ...e, selectedIdentity: 0 } : e));
  return { ...event, msg: { ...event.msg, extensions } };
}

/**
 * Takes any selected_identity as its first (and only) offer (RFC 8446 §4.2.11: a selected_identity
 * out of range MUST be refused with illegal_parameter): the ServerHello is judged and accepted as
 * if it had selected identity 0; the transcript keeps the bytes received.
 */
export const acceptsOutOfRangeIdentity = clientMachine.provide({
  guards: {
    hasServerHelloProblem: ({ context, event }) => guard('hasServerHelloProblem')({ context, event: withFirstIdentity(event) }),
  },
  actions: {
    acceptServerHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
      clientActions.acceptServerHello(context, withFirstIdentity(event)),
    ),
  },
});

/** The PSK cut or padded with zeros to `n` bytes. */
const fitted = (psk: Uint8Array, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  out.set(psk.subarray(0, n));
  return out;
};

/**
 * The context with the offered ticket taken as if it belonged to the ServerHello's suite: its
 * hash, and its PSK fitted to that hash's length (the key schedule takes no other length).
 */
function withTicketOfServerHelloSuite(context: ClientContext, event: TlsEvent): ClientContext {
  const suite = event.type === 'recv.ServerHello' ? suiteInfo(event.msg.cipherSuite) : undefined;
  const offered = context.offeredPsk;
  if (!suite || !offered) return context;
  return { ...context, offeredPsk: { suite, session: { ...offered.session, psk: fitted(offered.session.psk, suite.hashLen) } } };
}

/**
 * Does not compare the hash of the selected suite with the ticket's (RFC 8446 §4.2.11:
 * illegal_parameter): the ServerHello is judged as if the ticket had the suite's hash, and the
 * ticket's PSK, cut or zero-padded to that hash's length, goes into the suite's key schedule (a
 * client that does not look at the hash keys the handshake some way of its own; the probing
 * server extracts the PSK as it is, so the two sides' keys differ).
 */
export const acceptsSuiteHashMismatch = clientMachine.provide({
  guards: {
    hasServerHelloProblem: ({ context, event }) =>
      guard('hasServerHelloProblem')({ context: withTicketOfServerHelloSuite(context, event), event }),
  },
  actions: {
    acceptServerHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
      clientActions.acceptServerHello(withTicketOfServerHelloSuite(context, event), event),
    ),
  },
});

/** A PSK ServerHello without key_share. */
function pskKeServerHello(event: TlsEvent): ServerHello | undefined {
  if (event.type !== 'recv.ServerHello' || event.msg.isHelloRetryRequest) return undefined;
  const sh = event.msg;
  return findExtension(sh.extensions, 'pre_shared_key_server') && !findExtension(sh.extensions, 'key_share_server') ? sh : undefined;
}

/**
 * Accepts a PSK ServerHello without key_share although it offered psk_dhe_ke only (RFC 8446
 * §4.2.11: illegal_parameter), and keys the handshake as psk_ke does: Hash.length zeros as the
 * (EC)DHE input (§7.1). Every other refusal of the ServerHello stays.
 */
export const acceptsPskWithoutKeyShare = clientMachine.provide({
  guards: {
    hasServerHelloProblem: ({ context, event }) => {
      const sh = pskKeServerHello(event);
      if (!sh) return guard('hasServerHelloProblem')({ context, event });
      const v = judgeServerHello(context, sh);
      return v.kind === 'refuse' && v.error.reason !== 'PskWithoutKeyShare';
    },
  },
  actions: {
    acceptServerHello: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      const sh = pskKeServerHello(event);
      const suite = sh && suiteInfo(sh.cipherSuite);
      if (!sh || !suite) return clientActions.acceptServerHello(context, event);
      // The judge's verdict for this ServerHello, as the mutant has it: a resumption without (EC)DHE.
      const judged = { ...context };
      memo(judged, sh, 'verdict', () => ({ kind: 'accept', suite, resumed: true, group: 0, sharedSecret: new Uint8Array(suite.hashLen) }));
      return clientActions.acceptServerHello(judged, event);
    }),
  },
});

type Transition = { guard?: string; target?: string; actions?: string | { type: string; params: unknown } };

/**
 * The client chart with `on`'s transitions put before those `state` already has for each event
 * (when their guards do not hold, the state's own, then the root's, apply as before): for rules
 * the chart keeps by having no transition at all, which `provide()` cannot change.
 */
function withTransitions(
  state: string,
  on: Record<string, Transition[]>,
  added: { guards?: Record<string, GuardFn>; actions?: Record<string, unknown> } = {},
): typeof clientMachine {
  const config = clientMachine.config;
  const states = config.states as Record<string, { on?: Record<string, unknown> }>;
  const node = states[state];
  if (!node) throw new Error(`the client chart has no state ${state}`);
  const own = node.on ?? {};
  const merged: Record<string, unknown> = { ...own };
  for (const [type, ts] of Object.entries(on)) merged[type] = [...ts, ...[own[type] ?? []].flat()];
  const impl = clientMachine.implementations;
  return createMachine(
    { ...config, states: { ...states, [state]: { ...node, on: merged } } } as never,
    {
      ...impl,
      guards: { ...impl.guards, ...added.guards },
      actions: { ...impl.actions, ...added.actions },
    } as never,
  ) as unknown as typeof clientMachine;
}

/**
 * Takes a CertificateVerify after a PSK ServerHello into its transcript and waits on for the
 * Finished (RFC 8446 §4, Appendix A.1: with a PSK, EncryptedExtensions is followed by Finished;
 * unexpected_message).
 */
export const acceptsCertificateVerifyAfterPsk = withTransitions(
  'expectServerFinished',
  { 'recv.CertificateVerify': [{ guard: 'isResuming', actions: 'keepCertificateVerify' }] },
  {
    actions: {
      keepCertificateVerify: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
        event.type === 'recv.CertificateVerify' ? { transcript: [...context.transcript, event.msg.raw] } : {},
      ),
    },
  },
);

/**
 * Hands application data received before the server Finished to the application and waits on
 * (RFC 8446 §4, §4.4.4: the server Finished is mandatory; anything in its place is
 * unexpected_message).
 */
export const acceptsApplicationDataBeforeFinished = withTransitions('expectServerFinished', {
  'recv.ApplicationData': [{ actions: 'deliverApplicationData' }],
});

/**
 * Ignores a NewSessionTicket that does not parse, such as one with an empty ticket field (RFC 8446
 * §4.6.1 ticket<1..2^16-1>, §6: decode_error), and stays connected.
 */
export const ignoresMalformedTicket = withTransitions(
  'connected',
  { 'recv.Malformed': [{ guard: 'isMalformedNewSessionTicket' }] },
  {
    guards: {
      isMalformedNewSessionTicket: ({ event }) => event.type === 'recv.Malformed' && event.error.message.startsWith('new_session_ticket.'),
    },
  },
);

/** How many tickets `refusesManyTickets` takes on one connection. */
const TICKET_LIMIT = 8;

/**
 * Aborts with unexpected_message when a server sends more than 8 tickets on one connection
 * (RFC 8446 §4.6.1: servers MAY send several tickets).
 */
export const refusesManyTickets = withTransitions(
  'connected',
  {
    'recv.NewSessionTicket': [
      {
        guard: 'hasEnoughTickets',
        target: 'failed',
        actions: { type: 'fail', params: { reason: 'UnexpectedMessage', message: `more than ${TICKET_LIMIT} NewSessionTickets` } },
      },
    ],
  },
  { guards: { hasEnoughTickets: ({ context }) => context.ticketsReceived >= TICKET_LIMIT } },
);

/**
 * Refuses a NewSessionTicket with an extension it does not know, with unsupported_extension
 * (RFC 8446 §4.6.1: clients MUST ignore unrecognized ticket extensions).
 */
export const refusesUnknownTicketExtension = withTransitions(
  'connected',
  {
    'recv.NewSessionTicket': [
      {
        guard: 'hasUnknownTicketExtension',
        target: 'failed',
        actions: { type: 'fail', params: { reason: 'UnsolicitedExtension', message: 'a NewSessionTicket extension it does not know' } },
      },
    ],
  },
  {
    guards: {
      hasUnknownTicketExtension: ({ event }) =>
        event.type === 'recv.NewSessionTicket' && event.msg.extensions.some((e) => e.type === 'unknown'),
    },
  },
);

/**
 * Keeps a ticket whose lifetime is over 7 days, capped at 7 days (RFC 8446 §4.6.1 allows that;
 * tlschart's policy drops such a ticket: the server broke a MUST by sending it).
 */
export const keepsTicketsOverSevenDays = clientMachine.provide({
  actions: {
    acceptNewSessionTicket: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      if (event.type !== 'recv.NewSessionTicket' || event.msg.ticketLifetime <= MAX_TICKET_LIFETIME_S)
        return clientActions.acceptNewSessionTicket(context, event);
      return clientActions.acceptNewSessionTicket(context, { ...event, msg: { ...event.msg, ticketLifetime: MAX_TICKET_LIFETIME_S } });
    }),
  },
});

/**
 * Hands the ticket it resumed with back to its ticket cache, as if new (RFC 8446 §C.4: clients
 * SHOULD NOT reuse a ticket): it is offered again on the next connection when no new one came.
 */
export const reoffersResumedTicket = clientMachine.provide({
  actions: {
    acceptServerFinishedAndSendClientFlight: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      const patch = clientActions.acceptServerFinishedAndSendClientFlight(context, event);
      const offered = context.offeredPsk;
      if (!context.resumed || !offered || !patch.outbox) return patch;
      return { ...patch, outbox: [...patch.outbox, { kind: 'sessionTicket', session: offered.session } as Command] };
    }),
  },
});

/** The tickets whose NewSessionTicket allowed early data, as `offersEarlyDataWhereAllowed` noted them. */
const earlyDataTickets = new WeakSet<Uint8Array>();

/**
 * Offers early_data with a ticket whose NewSessionTicket allows it (RFC 8446 §4.2.10 allows
 * that; tlschart's policy never offers 0-RTT, which can be replayed, §8). It has no data to send
 * before the handshake, so it sends no 0-RTT record. The permission is noted beside the ticket
 * (the client's sessions have no field for it), by the ticket's bytes.
 */
export const offersEarlyDataWhereAllowed = clientMachine.provide({
  actions: {
    acceptNewSessionTicket: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) => {
      if (event.type === 'recv.NewSessionTicket' && findExtension(event.msg.extensions, 'early_data_ticket'))
        earlyDataTickets.add(event.msg.ticket);
      return clientActions.acceptNewSessionTicket(context, event);
    }),
    sendClientHello: assign(({ context }: { context: ClientContext }) => {
      const patch = clientActions.sendClientHello(context);
      const ch = patch.clientHello;
      if (!ch || !patch.offeredPsk || !earlyDataTickets.has(patch.offeredPsk.session.ticket)) return patch;
      const body = bodyOf(ch);
      const extensions = body.extensions.flatMap((e): Extension[] =>
        e.type === 'pre_shared_key_client' ? [{ type: 'early_data' }, e] : [e],
      );
      return sendingFirstHello(context, patch, bindClientHello({ ...body, extensions }, patch.offeredPsk, [], context.env.crypto));
    }),
  },
});
