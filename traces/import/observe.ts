/**
 * The state a captured peer is in, named as tlschart's charts name it.
 *
 * A capture shows what a peer sent and received, not what it decided. The
 * importer walks tlschart's own chart of the peer's role (the real machine
 * definition, through XState's pure `transition`) with every guard answered
 * by what the peer was seen to do: a check that would fail the handshake is
 * taken to have failed exactly when the peer answered that message with a
 * fatal alert; branches between good paths follow the messages themselves
 * (a HelloRetryRequest, a ServerHello that accepts a PSK, a CertificateRequest
 * in the server's flight). Actions do nothing.
 *
 * Where the peer does what the chart never does, the recorded state says so
 * instead of following the chart:
 * - the chart fails (an unexpected message, a malformed record) but the peer
 *   went on: the state stays where it was ("kept");
 * - the peer aborted where the chart goes on: the state is `failed`
 *   ("forced") from there on.
 * The conformance monitor then finds the difference at that step.
 */
import { type AnyMachineSnapshot, type AnyStateMachine, initialTransition, transition } from 'xstate';
import { defaultClientConfig, defaultServerConfig } from '../../engine/config.js';
import { seededEnvironment } from '../../engine/env.js';
import { clientMachine } from '../../machines/client/machine.js';
import { isCloseNotify, isUserCanceled } from '../../machines/common.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { TlsEvent } from '../../machines/types.js';
import { findExtension } from '../../wire/extensions.js';
import type { HandshakeMessage } from '../../wire/types.js';
import type { Role } from '../format.js';

/** What the capture shows about one received event. */
export interface Observation {
  /** The peer answered it with a fatal alert. */
  aborted: boolean;
  /** Server side, for a ClientHello: what the server sent back. */
  reply?: { helloRetry: boolean; resumed: boolean; certificateRequest: boolean };
}

export type Divergence = 'kept' | 'forced' | undefined;

type GuardRule = (event: TlsEvent, o: Observation, k: Knowledge) => boolean;

interface Knowledge {
  resumed: boolean;
  closeNotifySent: boolean;
  closeNotifyReceived: boolean;
}

const msgOf = (e: TlsEvent): HandshakeMessage | undefined => ('msg' in e ? e.msg : undefined);
const isHrr = (e: TlsEvent) => {
  const m = msgOf(e);
  return m?.type === 'server_hello' && m.isHelloRetryRequest;
};
const fails: GuardRule = (_e, o) => o.aborted;
const holds: GuardRule = (_e, o) => !o.aborted;

/** Every guard of both charts, answered from the observation. */
export const GUARD_RULES: Record<Role, Record<string, GuardRule>> = {
  client: {
    isValidHelloRetryRequest: (e, o) => isHrr(e) && !o.aborted,
    isHelloRetryRequest: (e) => isHrr(e),
    hasServerHelloProblem: fails,
    acceptsUnofferedEarlyData: fails,
    hasEncryptedExtensionsProblem: fails,
    isResuming: (_e, _o, k) => k.resumed,
    hasCertificateRequestProblem: fails,
    hasServerCertificateProblem: fails,
    isServerCertificateTrusted: holds,
    isSignatureSchemeAcceptable: () => true,
    isServerSignatureValid: holds,
    isServerFinishedValid: holds,
    mayAcceptChangeCipherSpec: holds,
  },
  server: {
    hasClientHelloProblem: fails,
    needsHelloRetry: (_e, o) => o.reply?.helloRetry ?? false,
    hasValidBinder: (_e, o) => !o.aborted && (o.reply?.resumed ?? false),
    hasResumableTicket: fails,
    requestsClientCertificate: (_e, o) => o.reply?.certificateRequest ?? false,
    hasClientCertificateContextProblem: fails,
    lacksRequiredClientCertificate: () => false,
    isEmptyCertificate: (e, o) =>
      !o.aborted && msgOf(e)?.type === 'certificate' && (msgOf(e) as { entries: unknown[] }).entries.length === 0,
    isClientCertificateTrusted: holds,
    isSignatureSchemeAcceptable: () => true,
    isClientSignatureValid: holds,
    isClientFinishedValid: holds,
    mayAcceptChangeCipherSpec: holds,
  },
};

const COMMON_RULES: Record<string, GuardRule> = {
  isCloseNotify: (e) => isCloseNotify(e),
  isUserCanceled: (e) => isUserCanceled(e),
  isCloseNotifyAfterOurs: (e, _o, k) => isCloseNotify(e) && k.closeNotifySent,
  hasPeerClosed: (_e, _o, k) => k.closeNotifyReceived,
  // A KeyUpdate flood is a local limit: whether the peer refused one shows as an abort.
  exceedsKeyUpdateLimit: fails,
};

/** One side's chart, walked along what the capture shows. */
export class ObservedChart {
  private snapshot: AnyMachineSnapshot;
  private readonly machine: AnyStateMachine;
  private readonly k: Knowledge = { resumed: false, closeNotifySent: false, closeNotifyReceived: false };
  private observation: Observation = { aborted: false };
  private forced = false;

  constructor(readonly role: Role) {
    const base: AnyStateMachine = role === 'client' ? clientMachine : serverMachine;
    const rules = { ...COMMON_RULES, ...GUARD_RULES[role] };
    const guards: Record<string, (args: { event: TlsEvent }) => boolean> = {};
    for (const name of Object.keys(base.implementations.guards ?? {})) {
      const rule = rules[name];
      if (!rule) throw new Error(`traces/import/observe.ts has no rule for the ${role} guard ${name}`);
      guards[name] = ({ event }) => rule(event, this.observation, this.k);
    }
    const actions: Record<string, () => void> = {};
    for (const name of Object.keys(base.implementations.actions ?? {})) actions[name] = () => undefined;
    this.machine = base.provide({ guards, actions } as never);
    const input = { config: role === 'client' ? defaultClientConfig() : defaultServerConfig(), env: seededEnvironment('import') };
    [this.snapshot] = initialTransition(this.machine, input);
  }

  /** The state now, as the chart names it. */
  get state(): string {
    if (this.forced) return 'failed';
    const v = this.snapshot.value;
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  /** The side sent something (app.write, app.close, app.keyUpdate): its own move. */
  local(event: TlsEvent): void {
    if (event.type === 'app.close') this.k.closeNotifySent = true;
    if (this.forced) return;
    this.observation = { aborted: false };
    [this.snapshot] = transition(this.machine, this.snapshot, event as never);
  }

  /** The side received `event`; the capture shows `o`. */
  receive(event: TlsEvent, o: Observation): Divergence {
    if (this.forced) return undefined;
    this.observation = o;
    const [next] = transition(this.machine, this.snapshot, event as never);
    const value = next.value;
    const failed = value === 'failed';
    const fromPeer = event.type === 'recv.Alert';
    let divergence: Divergence;
    if (failed && !o.aborted && !fromPeer) divergence = 'kept';
    else {
      this.snapshot = next;
      if (!failed && o.aborted) {
        this.forced = true;
        divergence = 'forced';
      }
    }
    const m = msgOf(event);
    if (divergence !== 'kept' && m?.type === 'server_hello' && !m.isHelloRetryRequest && this.role === 'client') {
      this.k.resumed = findExtension(m.extensions, 'pre_shared_key_server') !== undefined;
    }
    if (divergence !== 'kept' && isCloseNotify(event)) this.k.closeNotifyReceived = true;
    return divergence;
  }
}
