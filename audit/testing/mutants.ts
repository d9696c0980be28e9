/**
 * The auditor's mutation gate: tlschart servers that each break one rule the
 * audit checks, built with `serverMachine.provide(...)` (or, for ticket
 * reuse, a ticket store that never forgets). The audit must flag each one
 * with the right finding; a mutant it does not flag survives and fails the
 * test.
 */
import { assign } from 'xstate';
import { computeBinder, EarlySecret } from '../../crypto/keyschedule.js';
import { insertBefore, mapMessage, rewriteMessage, serverFlightProbe } from '../../engine/testing/probes.js';
import * as serverActions from '../../machines/server/actions.js';
import type { ServerContext } from '../../machines/server/context.js';
import { guards as serverGuards } from '../../machines/server/guards.js';
import * as logic from '../../machines/server/logic.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { CertifiedKey, Command, TlsEvent } from '../../machines/types.js';
import { toHex } from '../../crypto/bytes.js';
import type { ServerSessionState, TicketStore } from '../../tickets/types.js';
import { findExtension } from '../../wire/extensions.js';
import { decodeHandshake, encodeHandshake } from '../../wire/handshake.js';
import { PskKeyExchangeMode, type Certificate, type ClientHello, type EncryptedExtensions, type ServerHello } from '../../wire/types.js';

type ClientHelloEvent = Extract<TlsEvent, { type: 'recv.ClientHello' }>;

const isClientHello = (e: TlsEvent): e is ClientHelloEvent => e.type === 'recv.ClientHello';

/** The event with the client's binders replaced by the right ones for the PSK the server would select. */
function withHonestBinders(ctx: ServerContext, e: TlsEvent): TlsEvent {
  if (!isClientHello(e)) return e;
  const selected = logic.selectPsk(ctx, e.msg, e.tickets);
  const suite = logic.chooseSuite(ctx, e.msg, e.tickets);
  const psk = findExtension(e.msg.extensions, 'pre_shared_key_client');
  const partial = suite && logic.partialHelloHash(ctx, e.msg, suite);
  if (!selected || !suite || !psk || !partial) return e;
  const binders = psk.binders.map((b, i) => (i === selected.index ? computeBinder(suite, EarlySecret.create(suite, selected.state.psk).resumptionBinderKey(), partial) : b));
  // Only the decoded binders change: the transcript still hashes the bytes received.
  const extensions = e.msg.extensions.map((x) => (x.type === 'pre_shared_key_client' ? { ...x, binders } : x));
  return { ...e, msg: { ...e.msg, extensions } as ClientHello };
}

/** Resumes whatever the binder: hasValidBinder is hasResumableTicket. */
export const skipsBinderCheck = serverMachine.provide({
  guards: {
    hasValidBinder: ({ context, event }: { context: ServerContext; event: TlsEvent }) => serverGuards.hasResumableTicket(context, event),
  },
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) => serverActions.sendServerFlight(context, withHonestBinders(context, event))),
  },
});

/** The event as if the client had offered psk_dhe_ke too. */
function withDheMode(e: TlsEvent): TlsEvent {
  if (!isClientHello(e)) return e;
  const extensions = e.msg.extensions.map((x) =>
    x.type === 'psk_key_exchange_modes' && !x.modes.includes(PskKeyExchangeMode.psk_dhe_ke) ? { ...x, modes: [...x.modes, PskKeyExchangeMode.psk_dhe_ke] } : x,
  );
  return { ...e, msg: { ...e.msg, extensions } as ClientHello };
}

/** Resumes a psk_ke-only offer (the mode check is gone). */
export const acceptsPskKe = serverMachine.provide({
  guards: {
    hasValidBinder: ({ context, event }: { context: ServerContext; event: TlsEvent }) => serverGuards.hasValidBinder(context, withDheMode(event)),
    hasResumableTicket: ({ context, event }: { context: ServerContext; event: TlsEvent }) => serverGuards.hasResumableTicket(context, withDheMode(event)),
  },
  actions: {
    sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) => serverActions.sendServerFlight(context, withDheMode(event))),
  },
});

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
  selectsPsk(cmds) ? mapMessage('server_hello', (raw) => rewriteMessage<ServerHello>(raw, (sh) => ({ ...sh, extensions: sh.extensions.filter((x) => x.type !== 'key_share_server') })))(cmds) : cmds,
);

/** Sends its Certificate in a resumed handshake. */
export function sendsCertificateOnResumption(cert: CertifiedKey): typeof serverMachine {
  const certificate = encodeHandshake<Certificate>({ type: 'certificate', certificateRequestContext: new Uint8Array(0), entries: cert.chain.map((certData) => ({ certData, extensions: [] })) });
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
