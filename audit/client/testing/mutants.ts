/**
 * The client audit's mutation gate: tlschart clients that each break one
 * rule the audit checks, built with `clientMachine.provide(...)` so the rest
 * of the protocol stays real. The audit must flag each with the right
 * finding; a mutant it does not flag survives and fails the test.
 *
 * The guards are replaced by wrappers around the chart's own implementations
 * (by name), so a mutant changes exactly one decision.
 */
import { assign } from 'xstate';
import { finishedVerifyData } from '../../../crypto/keyschedule.js';
import { nobleProvider } from '../../../crypto/noble.js';
import { transcriptHash } from '../../../crypto/transcript.js';
import { clientHelloProbe } from '../../../engine/testing/probes.js';
import * as clientActions from '../../../machines/client/actions.js';
import type { ClientContext } from '../../../machines/client/context.js';
import { clientMachine } from '../../../machines/client/machine.js';
import type { TlsEvent } from '../../../machines/types.js';
import { PskKeyExchangeMode } from '../../../wire/types.js';

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
