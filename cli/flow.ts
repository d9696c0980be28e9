/**
 * The numbered message flow of a handshake, as the seed document's figures
 * number it (steps 1-6 for the handshake that establishes a PSK, 7-11 for
 * the one that uses it), built from a client's trace entries: what was
 * really sent and received, and whether each record was encrypted.
 */
import type { TraceEntry } from '../engine/connection.js';
import { GROUP_NAMES } from '../engine/connection.js';
import { MESSAGE_NAMES } from '../traces/format.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import type { HandshakeMessage } from '../wire/types.js';

/** The seed's steps, by their role; the resumed handshake numbers them from 7. */
type Phase = 'hello' | 'serverHello' | 'parameters' | 'authentication' | 'ticket' | 'application';

const FULL_STEPS: Record<Phase, number> = { hello: 1, serverHello: 2, parameters: 3, authentication: 4, ticket: 5, application: 6 };
/** Seed steps 7-11: tickets after a resumption belong with the application data of step 11. */
const RESUMED_STEPS: Record<Phase, number> = { hello: 7, serverHello: 8, parameters: 9, authentication: 10, ticket: 11, application: 11 };

const STEP_TITLES: Record<number, string> = {
  1: 'ClientHello with key_share',
  2: 'ServerHello with key_share',
  3: 'server parameters',
  4: 'authentication',
  5: 'NewSessionTicket: a PSK for later',
  6: 'application data',
  7: 'ClientHello with key_share and pre_shared_key',
  8: 'ServerHello with pre_shared_key and key_share',
  9: 'server parameters',
  10: 'Finished only: no Certificate, no CertificateVerify',
  11: 'application data',
};

const PHASE_OF: Record<string, Phase> = {
  client_hello: 'hello',
  server_hello: 'serverHello',
  encrypted_extensions: 'parameters',
  certificate_request: 'authentication',
  certificate: 'authentication',
  certificate_verify: 'authentication',
  finished: 'authentication',
  new_session_ticket: 'ticket',
  key_update: 'application',
};

/** Messages that authenticate the server in a full handshake; a resumption shows them as skipped. */
const AUTHENTICATION_MESSAGES = ['certificate_request', 'certificate', 'certificate_verify'];

export interface FlowLine {
  step: number;
  direction: 'out' | 'in' | 'none';
  /** Message or record name, e.g. 'ClientHello', 'ChangeCipherSpec', 'application data'. */
  what: string;
  /** Extensions and sizes worth seeing. */
  detail: string;
  protection: 'plaintext' | 'encrypted' | 'skipped';
  /** Handshake message name as in the trace (client_hello, ...), for messages. */
  name?: string;
}

const groupName = (g: number): string => GROUP_NAMES[g] ?? `0x${g.toString(16).padStart(4, '0')}`;

function decoded(e: Extract<TraceEntry, { kind: 'message' }>): HandshakeMessage | undefined {
  if (e.msg) return e.msg;
  // Sent messages are traced as bytes: decode them the same way received ones were.
  const d = decodeHandshake(e.raw);
  return d.ok ? d.value : undefined;
}

/** What the figures point at in each message: key_share, pre_shared_key, ALPN, ticket sizes. */
function describe(msg: HandshakeMessage | undefined, resumed: boolean): string {
  if (!msg) return '';
  switch (msg.type) {
    case 'client_hello': {
      const parts: string[] = [];
      const ks = findExtension(msg.extensions, 'key_share_client');
      if (ks) parts.push(`key_share ${ks.shares.map((s) => groupName(s.group)).join(', ') || '(empty)'}`);
      const psk = findExtension(msg.extensions, 'pre_shared_key_client');
      if (psk) parts.push(`pre_shared_key (${psk.identities.length} ticket, binder)`);
      const modes = findExtension(msg.extensions, 'psk_key_exchange_modes');
      if (modes && psk) parts.push(modes.modes.includes(1) ? 'psk_dhe_ke' : 'psk_ke');
      const alpn = findExtension(msg.extensions, 'alpn');
      if (alpn) parts.push(`ALPN ${alpn.protocols.join(',')}`);
      return parts.join(', ');
    }
    case 'server_hello': {
      if (msg.isHelloRetryRequest) {
        const hrr = findExtension(msg.extensions, 'key_share_hrr');
        return hrr ? `asks for a ${groupName(hrr.selectedGroup)} key_share` : 'asks for a new ClientHello (cookie)';
      }
      const parts: string[] = [];
      const psk = findExtension(msg.extensions, 'pre_shared_key_server');
      if (psk) parts.push(`pre_shared_key (ticket ${psk.selectedIdentity} accepted)`);
      const ks = findExtension(msg.extensions, 'key_share_server');
      if (ks) parts.push(`key_share ${groupName(ks.share.group)}`);
      return parts.join(', ');
    }
    case 'encrypted_extensions': {
      const alpn = findExtension(msg.extensions, 'alpn');
      return alpn ? `ALPN ${alpn.protocols.join(',')}` : '';
    }
    case 'certificate':
      return msg.entries.length === 0 ? 'no certificate' : `${msg.entries.length} certificate(s)`;
    case 'new_session_ticket':
      return `${resumed ? 'fresh ticket' : 'ticket'} ${msg.ticket.length} bytes, lifetime ${msg.ticketLifetime} s`;
    default:
      return '';
  }
}

/**
 * The flow of one connection from its client trace. `resumed` picks the step
 * numbers (7-11); `fullHandshakeNames`, the message names of an earlier full
 * handshake, lets the resumed flow show which authentication messages it skipped.
 */
export function flowLines(entries: readonly TraceEntry[], resumed: boolean, fullHandshakeNames: readonly string[] = []): FlowLine[] {
  const steps = resumed ? RESUMED_STEPS : FULL_STEPS;
  const lines: FlowLine[] = [];
  let connected = false;
  let current = steps.hello;
  for (const e of entries) {
    if (e.kind === 'message') {
      const msg = decoded(e);
      let phase = PHASE_OF[e.name] ?? 'application';
      const isRetry = msg?.type === 'server_hello' && msg.isHelloRetryRequest;
      // A second ClientHello (after a HelloRetryRequest) is part of the hello exchange of step 2.
      if (e.name === 'client_hello' && lines.some((l) => l.name === 'client_hello')) phase = 'serverHello';
      current = steps[phase];
      lines.push({
        step: current,
        direction: e.direction,
        what: isRetry ? 'HelloRetryRequest' : (MESSAGE_NAMES[e.name] ?? e.name),
        detail: describe(msg, resumed),
        protection: e.encrypted ? 'encrypted' : 'plaintext',
        name: e.name,
      });
      if (e.name === 'finished' && e.direction === 'out') connected = true;
    } else if (e.kind === 'ccs') {
      lines.push({
        step: current,
        direction: e.direction,
        what: 'ChangeCipherSpec',
        detail: 'middlebox compatibility (RFC 8446 D.4)',
        protection: 'plaintext',
      });
    } else if (e.kind === 'appdata') {
      current = steps.application;
      lines.push({ step: current, direction: e.direction, what: 'application data', detail: `${e.length} bytes`, protection: 'encrypted' });
    } else if (e.kind === 'alert') {
      lines.push({
        step: connected ? steps.application : current,
        direction: e.direction,
        what: `alert ${e.alert}`,
        detail: e.level === 2 ? 'fatal' : '',
        protection: connected ? 'encrypted' : 'plaintext',
      });
    }
  }
  if (resumed) {
    const seen = new Set(lines.map((l) => l.name));
    const skipped = AUTHENTICATION_MESSAGES.filter((n) => fullHandshakeNames.includes(n) && !seen.has(n));
    const at = lines.findIndex((l) => l.name === 'finished');
    const skippedLines: FlowLine[] = skipped.map((n) => ({
      step: steps.authentication,
      direction: 'in',
      what: MESSAGE_NAMES[n] ?? n,
      detail: 'not sent: the PSK ties this connection to the first one',
      protection: 'skipped',
    }));
    lines.splice(at < 0 ? lines.length : at, 0, ...skippedLines);
  }
  // Group by step (the figures' order); within a step, the order things happened.
  return lines
    .map((l, i) => ({ l, i }))
    .sort((a, b) => a.l.step - b.l.step || a.i - b.i)
    .map(({ l }) => l);
}

/** Names of the handshake messages in a trace (for the skipped lines of a later resumption). */
export function messageNames(entries: readonly TraceEntry[]): string[] {
  return entries.flatMap((e) => (e.kind === 'message' ? [e.name] : []));
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The flow as text: one line per message, the step number where a step begins. */
export function renderFlow(lines: readonly FlowLine[]): string[] {
  const out: string[] = [];
  let last = -1;
  for (const l of lines) {
    const num = l.step !== last ? `${String(l.step).padStart(2)}.` : '   ';
    if (l.step !== last) out.push(`  ${num} ${STEP_TITLES[l.step] ?? ''}`);
    last = l.step;
    const arrow = l.direction === 'out' ? 'client -> server' : l.direction === 'in' ? 'client <- server' : '                ';
    const protection = l.protection === 'skipped' ? '(skipped)' : `[${l.protection}]`;
    out.push(`       ${arrow}  ${pad(l.what, 20)} ${pad(protection, 12)} ${l.detail}`.trimEnd());
  }
  return out;
}
