/**
 * The auditor's mutation gate: tlschart servers that each break one rule the
 * audit checks, built with `serverMachine.provide(...)` (or, for ticket
 * reuse, a ticket store that never forgets). The audit must flag each one
 * with the right finding; a mutant it does not flag survives and fails the
 * test.
 */
import { assign } from 'xstate';
import { toHex } from '../../crypto/bytes.js';
import { computeBinder, EarlySecret } from '../../crypto/keyschedule.js';
import { nobleProvider } from '../../crypto/noble.js';
import { suiteInfo } from '../../crypto/suites.js';
import { transcriptHash } from '../../crypto/transcript.js';
import { ServerConnection, type ServerOptions } from '../../engine/connection.js';
import { insertBefore, mapMessage, rewriteMessage, serverFlightProbe, ticketProbe } from '../../engine/testing/probes.js';
import * as serverActions from '../../machines/server/actions.js';
import type { ServerContext } from '../../machines/server/context.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { CertifiedKey, Command, TlsEvent } from '../../machines/types.js';
import type { ServerSessionState, TicketStore } from '../../tickets/types.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, encodeHandshake, truncatedClientHello } from '../../wire/handshake.js';
import {
  type Certificate,
  type ClientHello,
  type EncryptedExtensions,
  type HandshakeMessage,
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
  protected override async eventFor(msg: HandshakeMessage): Promise<TlsEvent> {
    if (this.state === 'expectClientFinished' && UNEXPECTED_BEFORE_FINISHED.has(msg.type)) {
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

/** Answers an early_data offer with early_data in EncryptedExtensions (accepts 0-RTT). */
export const acceptsEarlyData = serverMachine.provide({
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) => {
      const patch = serverActions.sendServerFlight(context, event);
      if (!offersEarlyData(event) || !patch.resumed) return patch;
      const added = (patch.outbox ?? []).slice(context.outbox.length);
      const rewritten = mapMessage('encrypted_extensions', (raw) =>
        rewriteMessage<EncryptedExtensions>(raw, (ee) => ({ ...ee, extensions: [...ee.extensions, { type: 'early_data' }] })),
      )(added);
      return { ...patch, outbox: [...context.outbox, ...rewritten] };
    }),
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
  private readonly states = new Map<string, ServerSessionState>();
  put(ticket: Uint8Array, state: ServerSessionState): void {
    this.states.set(toHex(ticket), state);
  }
  get(ticket: Uint8Array): ServerSessionState | undefined {
    return this.states.get(toHex(ticket));
  }
  take(ticket: Uint8Array): ServerSessionState | undefined {
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
