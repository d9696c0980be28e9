/**
 * A trace as a message sequence chart, drawn like the figures of RFC 8446 §2
 * and the seed document: a client lane and a server lane, one arrow per
 * message, `{…}` for messages under handshake traffic keys and `[…]` under
 * application traffic keys, the main extensions after a `+`, and notes where
 * something is left out on purpose ("Certificate, CertificateVerify skipped:
 * PSK") or refused.
 *
 * Output: Mermaid `sequenceDiagram` text, or SVG from a small writer here
 * (Graphviz has no sequence diagrams and Mermaid renders only in a browser),
 * with ids on every arrow so the viewer can highlight the current one.
 */
import { fromHex } from '../crypto/bytes.js';
import { findExtension } from '../wire/extensions.js';
import { decodeHandshake } from '../wire/handshake.js';
import { type HandshakeMessage, PskKeyExchangeMode } from '../wire/types.js';
import { groupName, type HandshakeTrace, MESSAGE_NAMES, type Role, type SideTrace, type Trace, type TraceStep } from './format.js';

/** Which keys protect a message: none, client_early_traffic_secret, handshake or application traffic secrets. */
export type Epoch = 'plaintext' | 'early' | 'handshake' | 'application';

export type Arrow =
  | { kind: 'message'; from: Role; to: Role; label: string; epoch: Epoch; alert: boolean; seq: number }
  | { kind: 'note'; text: string; tone: 'info' | 'refusal'; seq: number };

export interface SequenceModel {
  handshakes: Array<{ label: string; arrows: Arrow[] }>;
  /** For each step (`h:role:index`), the arrow that shows it (index in its handshake's arrows). */
  stepArrow: Map<string, number>;
}

function decoded(step: TraceStep): HandshakeMessage | undefined {
  if (!step.message) return undefined;
  const d = decodeHandshake(fromHex(step.message.hex));
  return d.ok ? d.value : undefined;
}

/**
 * The group each handshake of a trace settled on: the key_share of its ServerHello (not a
 * HelloRetryRequest), from whichever side recorded it; '-' when there was none.
 */
export function negotiatedGroups(trace: Trace): string[] {
  return trace.handshakes.map((hs) => {
    for (const side of hs.sides) {
      for (const step of side.steps) {
        const m = step.message?.type === 'server_hello' ? decoded(step) : undefined;
        const share =
          m?.type === 'server_hello' && !m.isHelloRetryRequest ? findExtension(m.extensions, 'key_share_server')?.share : undefined;
        if (share) return groupName(share.group);
      }
    }
    return '-';
  });
}

/** "ClientHello + key_share + pre_shared_key", "ServerHello + key_share(X25519MLKEM768)", "HelloRetryRequest + key_share(x25519)". */
function messageLabel(step: TraceStep): string {
  const m = decoded(step);
  const type = step.message?.type ?? 'handshake';
  if (!m) return MESSAGE_NAMES[type] ?? type;
  const plus: string[] = [];
  if (m.type === 'client_hello') {
    // The groups of the client's shares stay out: the ServerHello names the one chosen, and
    // a hybrid ClientHello's label would not fit the diagram.
    if (findExtension(m.extensions, 'key_share_client')) plus.push('key_share');
    const modes = findExtension(m.extensions, 'psk_key_exchange_modes')?.modes;
    if (modes)
      plus.push(
        `psk_key_exchange_modes(${modes.map((x) => (x === PskKeyExchangeMode.psk_dhe_ke ? 'psk_dhe_ke' : x === PskKeyExchangeMode.psk_ke ? 'psk_ke' : String(x))).join(',')})`,
      );
    if (findExtension(m.extensions, 'early_data')) plus.push('early_data');
    if (findExtension(m.extensions, 'cookie')) plus.push('cookie');
    if (findExtension(m.extensions, 'pre_shared_key_client')) plus.push('pre_shared_key');
    return ['ClientHello', ...plus].join(' + ');
  }
  if (m.type === 'server_hello') {
    if (m.isHelloRetryRequest) {
      const ks = findExtension(m.extensions, 'key_share_hrr');
      if (ks) plus.push(`key_share(${groupName(ks.selectedGroup)})`);
      if (findExtension(m.extensions, 'cookie')) plus.push('cookie');
      return ['HelloRetryRequest', ...plus].join(' + ');
    }
    const share = findExtension(m.extensions, 'key_share_server')?.share;
    if (share) plus.push(`key_share(${groupName(share.group)})`);
    if (findExtension(m.extensions, 'pre_shared_key_server')) plus.push('pre_shared_key');
    return ['ServerHello', ...plus].join(' + ');
  }
  if (m.type === 'encrypted_extensions' && findExtension(m.extensions, 'early_data')) return 'EncryptedExtensions + early_data';
  if (m.type === 'key_update') return `KeyUpdate(${m.requestUpdate === 1 ? 'update_requested' : 'update_not_requested'})`;
  if (m.type === 'certificate' && m.entries.length === 0) return 'Certificate (empty)';
  return MESSAGE_NAMES[m.type] ?? m.type;
}

const epochOf = (step: TraceStep): Epoch => {
  const e = step.records[0]?.epoch ?? (step.message?.encrypted ? 'handshake' : 'plaintext');
  if (step.kind === 'early_data_skipped' || e === 'early') return 'early';
  if (e.startsWith('application')) return 'application';
  if (e === 'handshake') return 'handshake';
  if (step.kind === 'application_data') return 'application';
  return step.message?.encrypted ? 'handshake' : 'plaintext';
};

function stepLabel(step: TraceStep): string {
  switch (step.kind) {
    case 'handshake':
      return messageLabel(step);
    case 'change_cipher_spec':
      return 'ChangeCipherSpec (compatibility)';
    case 'alert':
      return `Alert: ${step.alert?.description ?? '?'}`;
    case 'application_data':
      return `Application Data (${step.applicationData?.length ?? 0} bytes)`;
    case 'early_data_skipped':
      return `0-RTT data (${step.earlyDataSkipped?.bytes ?? 0} bytes)`;
    case 'malformed':
      return `malformed: ${step.error?.reason ?? '?'}`;
  }
}

/** A label as in the RFC 8446 §2 figures: (…) under early keys, {…} under handshake keys, […] under application keys. */
export function bracketed(label: string, epoch: Epoch): string {
  return epoch === 'early' ? `(${label})` : epoch === 'handshake' ? `{${label}}` : epoch === 'application' ? `[${label}]` : label;
}

const other = (r: Role): Role => (r === 'client' ? 'server' : 'client');
const key = (h: number, role: Role, i: number) => `${h}:${role}:${i}`;

/** The arrows of one handshake: each message once, from its sender; notes where something is left out or refused. */
function handshakeArrows(h: number, hs: HandshakeTrace, stepArrow: Map<string, number>): Arrow[] {
  const arrows: Arrow[] = [];
  const both = hs.sides.length > 1;
  const shown: Array<{ role: Role; index: number; step: TraceStep }> = [];
  for (const side of hs.sides) {
    side.steps.forEach((step, index) => {
      // With both sides recorded, each message is drawn once, from its sender; received copies point at it.
      if (!both || step.direction === 'out' || step.kind === 'early_data_skipped') shown.push({ role: side.role, index, step });
    });
  }
  shown.sort((a, b) => a.step.seq - b.step.seq);
  const server = hs.sides.find((s) => s.role === 'server');
  const resumed = (server?.steps ?? hs.sides[0]?.steps ?? []).some(
    (s) => s.message?.type === 'server_hello' && /pre_shared_key/.test(messageLabel(s)),
  );
  let skippedNoteShown = false;
  let earlyNoteShown = false;
  for (const { role, index, step } of shown) {
    const from = step.direction === 'out' ? role : other(role);
    const epoch = epochOf(step);
    if (step.kind === 'early_data_skipped') {
      arrows.push({ kind: 'message', from: 'client', to: 'server', label: stepLabel(step), epoch: 'early', alert: false, seq: step.seq });
      stepArrow.set(key(h, role, index), arrows.length - 1);
      if (!earlyNoteShown) {
        earlyNoteShown = true;
        arrows.push({ kind: 'note', text: 'early data refused: 0-RTT records skipped, never delivered', tone: 'refusal', seq: step.seq });
      }
      continue;
    }
    arrows.push({
      kind: 'message',
      from,
      to: other(from),
      label: stepLabel(step),
      epoch,
      alert: step.kind === 'alert' && step.alert?.level === 2,
      seq: step.seq,
    });
    stepArrow.set(key(h, role, index), arrows.length - 1);
    if (resumed && !skippedNoteShown && from === 'server' && step.message?.type === 'encrypted_extensions') {
      skippedNoteShown = true;
      arrows.push({ kind: 'note', text: 'Certificate, CertificateVerify skipped: PSK', tone: 'info', seq: step.seq });
    }
  }
  // Received copies of drawn messages point at the sender's arrow: same record bytes, else the same n-th message of that kind.
  if (both) {
    for (const side of hs.sides) {
      const sender = hs.sides.find((s) => s.role === other(side.role));
      if (!sender) continue;
      const counters = new Map<string, number>();
      side.steps.forEach((step, index) => {
        if (step.direction !== 'in' || step.kind === 'early_data_skipped') return;
        const hex = step.records[0]?.hex;
        let target = hex === undefined ? -1 : sender.steps.findIndex((s) => s.direction === 'out' && s.records.some((r) => r.hex === hex));
        if (target < 0) {
          const what = step.message?.type ?? step.kind;
          const n = counters.get(what) ?? 0;
          counters.set(what, n + 1);
          target = nthSent(sender, what, n);
        }
        const arrow = target >= 0 ? stepArrow.get(key(h, sender.role, target)) : undefined;
        if (arrow !== undefined) stepArrow.set(key(h, side.role, index), arrow);
      });
    }
  }
  for (const side of hs.sides) {
    if (side.outcome.state === 'failed' && side.outcome.alert && !side.outcome.remote) {
      arrows.push({
        kind: 'note',
        text: `${side.role} aborts: ${side.outcome.alert}${side.outcome.reason ? ` (${side.outcome.reason})` : ''}`,
        tone: 'refusal',
        seq: Number.MAX_SAFE_INTEGER,
      });
    }
  }
  return arrows;
}

function nthSent(side: SideTrace, what: string, n: number): number {
  let seen = 0;
  return side.steps.findIndex((s) => s.direction === 'out' && (s.message?.type ?? s.kind) === what && seen++ === n);
}

export function sequenceModel(trace: Trace): SequenceModel {
  const stepArrow = new Map<string, number>();
  const handshakes = trace.handshakes.map((hs, h) => ({ label: hs.label, arrows: handshakeArrows(h, hs, stepArrow) }));
  return { handshakes, stepArrow };
}

// ------------------------------------------------------------------ Mermaid

/** Mermaid sequenceDiagram text. */
export function sequenceMermaid(trace: Trace): string {
  const model = sequenceModel(trace);
  const esc = (s: string) => s.replace(/[;#]/g, ' ');
  const lines = ['sequenceDiagram', '  participant C as Client', '  participant S as Server'];
  for (const hs of model.handshakes) {
    if (model.handshakes.length > 1) lines.push(`  Note over C,S: ${esc(hs.label)}`);
    for (const a of hs.arrows) {
      if (a.kind === 'note') lines.push(`  Note over C,S: ${esc(a.text)}`);
      else
        lines.push(
          `  ${a.from === 'client' ? 'C' : 'S'}${a.alert ? '-x' : '->>'}${a.to === 'client' ? 'C' : 'S'}: ${esc(bracketed(a.label, a.epoch))}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------ SVG

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface SvgOptions {
  /** Prefix of the arrow ids: `${idPrefix}arrow-<handshake>-<index>`. */
  idPrefix?: string;
  width?: number;
}

/** The sequence chart as a standalone SVG element (fonts: the system sans-serif). */
export function sequenceSvg(trace: Trace, opts: SvgOptions = {}): string {
  const model = sequenceModel(trace);
  const prefix = opts.idPrefix ?? '';
  const width = opts.width ?? 640;
  const left = 90;
  const right = width - 90;
  const rowH = 30;
  const parts: string[] = [];
  let y = 70;
  for (const [h, hs] of model.handshakes.entries()) {
    if (model.handshakes.length > 1 || hs.label) {
      parts.push(
        `<text class="handshake-label" x="${width / 2}" y="${y - 14}" text-anchor="middle" font-weight="bold" font-size="13">${xml(`${h + 1}. ${hs.label}`)}</text>`,
      );
      y += 16;
    }
    for (const [i, a] of hs.arrows.entries()) {
      const id = `${prefix}arrow-${h}-${i}`;
      if (a.kind === 'note') {
        const fill = a.tone === 'refusal' ? '#fdecea' : '#fff6d6';
        const stroke = a.tone === 'refusal' ? '#c0392b' : '#c9a227';
        parts.push(
          `<g id="${id}" class="note ${a.tone}"><rect x="${left + 20}" y="${y - 15}" width="${right - left - 40}" height="22" rx="3" fill="${fill}" stroke="${stroke}"/>` +
            `<text x="${width / 2}" y="${y}" text-anchor="middle" font-size="11" font-style="italic">${xml(a.text)}</text></g>`,
        );
      } else {
        const x1 = a.from === 'client' ? left : right;
        const x2 = a.from === 'client' ? right : left;
        const color = a.alert ? '#c0392b' : a.epoch === 'plaintext' ? '#34495e' : a.epoch === 'early' ? '#8e6c00' : '#1f6f43';
        const label = bracketed(a.label, a.epoch);
        parts.push(
          `<g id="${id}" class="arrow ${a.epoch}${a.alert ? ' alert' : ''}" data-from="${a.from}">` +
            `<rect class="hl" x="${left - 6}" y="${y - 19}" width="${right - left + 12}" height="27" rx="4" fill="transparent"/>` +
            `<text x="${width / 2}" y="${y - 4}" text-anchor="middle" font-size="12" fill="${color}">${xml(label)}</text>` +
            `<line x1="${x1}" y1="${y + 2}" x2="${x2}" y2="${y + 2}" stroke="${color}" stroke-width="1.5" marker-end="url(#${prefix}head-${a.alert ? 'alert' : a.epoch})"/></g>`,
        );
      }
      y += rowH;
    }
    y += 34;
  }
  const height = y;
  const marker = (name: string, color: string) =>
    `<marker id="${prefix}head-${name}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<defs>${marker('plaintext', '#34495e')}${marker('early', '#8e6c00')}${marker('handshake', '#1f6f43')}${marker('application', '#1f6f43')}${marker('alert', '#c0392b')}</defs>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="24" text-anchor="middle" font-weight="bold" font-size="14">Client</text>`,
    `<text x="${right}" y="24" text-anchor="middle" font-weight="bold" font-size="14">Server</text>`,
    `<line x1="${left}" y1="34" x2="${left}" y2="${height - 10}" stroke="#95a5a6" stroke-dasharray="4 3"/>`,
    `<line x1="${right}" y1="34" x2="${right}" y2="${height - 10}" stroke="#95a5a6" stroke-dasharray="4 3"/>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

/** A self-contained HTML page with the sequence chart (inline SVG, no external resources). */
export function sequenceHtml(trace: Trace): string {
  const title = `tlschart trace: ${trace.meta.scenario ?? trace.meta.peer}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${xml(title)}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222}p.legend{color:#555;font-size:13px}</style></head>
<body><h1>${xml(title)}</h1>
<p>${xml(trace.meta.description ?? '')}</p>
<p class="legend">Recorded by tlschart ${xml(trace.meta.tlschart)} (${xml(trace.meta.role)}, peer ${xml(trace.meta.peer)}, ${xml(trace.meta.time)}). (…) under early traffic keys, {…} under handshake traffic keys, […] under application traffic keys; red: alerts and refusals.</p>
${sequenceSvg(trace)}
</body></html>
`;
}
