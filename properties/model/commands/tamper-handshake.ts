import type fc from 'fast-check';
import { findExtension } from '../../../wire/extensions.js';
import { decodeHandshake, encodeHandshake, patchBinders } from '../../../wire/handshake.js';
import type { ClientHello, Extension, HandshakeMessage, ServerHello } from '../../../wire/types.js';
import type { AttackKind } from '../../support/alerts.js';
import type { Model } from '../model.js';
import { serverGotClientHello, type World } from '../world.js';
import { afterStep, taint, tamperQueued } from './common.js';

export type HandshakeTamper =
  | 'badBinder'
  | 'pskWithoutModes'
  | 'pskNotLast'
  | 'staleBinder'
  | 'serverHelloSessionIdMismatch'
  | 'helloRetryForSentShare'
  | 'earlyChangeCipherSpec'
  | 'secondChangeCipherSpec';

const CCS = Uint8Array.of(20, 3, 3, 0, 1, 1);

const reencode = <M extends ClientHello | ServerHello>(
  m: M,
  fn: (exts: Extension[], body: Omit<M, 'raw'>) => Omit<M, 'raw'>,
): Uint8Array => {
  const { raw: _raw, ...body } = m;
  return (encodeHandshake as (u: unknown) => HandshakeMessage)(fn(m.extensions, body)).raw;
};

/** The extensions block of an encoded ClientHello, moved so that pre_shared_key comes first. */
function pskFirst(raw: Uint8Array): Uint8Array | undefined {
  let i = 4 + 2 + 32;
  i += 1 + (raw[i] as number);
  i += 2 + (((raw[i] as number) << 8) | (raw[i + 1] as number));
  i += 1 + (raw[i] as number);
  const start = i + 2;
  const exts: Uint8Array[] = [];
  for (let j = start; j < raw.length; ) {
    const len = ((raw[j + 2] as number) << 8) | (raw[j + 3] as number);
    exts.push(raw.slice(j, j + 4 + len));
    j += 4 + len;
  }
  const last = exts.at(-1);
  if (last?.[0] !== 0 || last[1] !== 41 || exts.length < 2) return undefined;
  const out = raw.slice();
  let o = start;
  for (const e of [last, ...exts.slice(0, -1)]) {
    out.set(e, o);
    o += e.length;
  }
  return out;
}

/**
 * Attacker on the wire, at the handshake level: a message in flight is
 * rewritten the way a known attack does it (a flipped binder, modes gone,
 * pre_shared_key not last, the first binder replayed in the second
 * ClientHello, a ServerHello with another session id, a HelloRetryRequest
 * for a share already sent, a ChangeCipherSpec before the ClientHello or a
 * second one).
 */
export class TamperHandshakeCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly kind: HandshakeTamper) {}
  check = (m: Readonly<Model>): boolean => m.session !== undefined;
  async run(m: Model, w: World): Promise<void> {
    const s = w.current;
    if (!s) return;
    const hasPsk = (msg: HandshakeMessage) =>
      msg.type === 'client_hello' && findExtension(msg.extensions, 'pre_shared_key_client') !== undefined;
    let done = false;
    const attack: AttackKind = this.kind;
    let victim: 'client' | 'server' = 'server';
    switch (this.kind) {
      case 'badBinder':
        done = tamperQueued(s, 'toServer', 'client_hello', (raw, msg) => {
          const psk = msg.type === 'client_hello' ? findExtension(msg.extensions, 'pre_shared_key_client') : undefined;
          return psk
            ? patchBinders(
                raw,
                psk.binders.map((b) => b.map((x, i) => (i === b.length - 1 ? x ^ 1 : x))),
              )
            : undefined;
        });
        break;
      case 'pskWithoutModes':
        done = tamperQueued(s, 'toServer', 'client_hello', (_raw, msg) =>
          hasPsk(msg)
            ? reencode(msg as ClientHello, (exts, b) => ({ ...b, extensions: exts.filter((e) => e.type !== 'psk_key_exchange_modes') }))
            : undefined,
        );
        break;
      case 'pskNotLast':
        done = tamperQueued(s, 'toServer', 'client_hello', (raw, msg) => (hasPsk(msg) ? pskFirst(raw) : undefined));
        break;
      case 'staleBinder': {
        const sent = s.clientTrace.filter((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'client_hello');
        const first = sent[0];
        const d = first?.kind === 'message' ? decodeHandshake(first.raw) : undefined;
        const old =
          d?.ok && d.value.type === 'client_hello' ? findExtension(d.value.extensions, 'pre_shared_key_client')?.binders : undefined;
        if (sent.length >= 2 && old) {
          done = tamperQueued(s, 'toServer', 'client_hello', (raw, msg) => {
            const psk = msg.type === 'client_hello' ? findExtension(msg.extensions, 'pre_shared_key_client') : undefined;
            return psk && psk.binders.length === old.length && psk.binders.every((b, i) => b.length === old[i]?.length)
              ? patchBinders(raw, old)
              : undefined;
          });
        }
        break;
      }
      case 'serverHelloSessionIdMismatch':
        victim = 'client';
        done = tamperQueued(s, 'toClient', 'server_hello', (_raw, msg) =>
          msg.type === 'server_hello' && !msg.isHelloRetryRequest
            ? reencode(msg as ServerHello, (_e, b) => ({
                ...b,
                legacySessionIdEcho:
                  b.legacySessionIdEcho.length > 0 ? b.legacySessionIdEcho.map((x) => x ^ 0xff) : new Uint8Array(32).fill(7),
              }))
            : undefined,
        );
        break;
      case 'helloRetryForSentShare': {
        victim = 'client';
        const sentGroup = s.client.context.keyShares[0]?.group;
        if (sentGroup !== undefined) {
          done = tamperQueued(s, 'toClient', 'server_hello', (_raw, msg) =>
            msg.type === 'server_hello' && msg.isHelloRetryRequest
              ? reencode(msg as ServerHello, (exts, b) => ({
                  ...b,
                  extensions: [
                    ...exts.filter((e) => e.type !== 'key_share_hrr' && e.type !== 'cookie'),
                    { type: 'key_share_hrr' as const, selectedGroup: sentGroup },
                  ],
                }))
              : undefined,
          );
        }
        break;
      }
      case 'earlyChangeCipherSpec':
        if (!serverGotClientHello(s) && s.queue.some((c) => c.dir === 'toServer')) {
          s.queue.splice(
            s.queue.findIndex((c) => c.dir === 'toServer'),
            0,
            { dir: 'toServer', bytes: CCS },
          );
          done = true;
        }
        break;
      case 'secondChangeCipherSpec': {
        victim = 'client';
        const i = s.queue.findIndex((c) => c.dir === 'toClient');
        if (i >= 0 && !s.client.context.serverFinished) {
          s.queue.splice(i + 1, 0, { dir: 'toClient', bytes: CCS }, { dir: 'toClient', bytes: CCS });
          done = true;
        }
        break;
      }
    }
    // A binder is checked only by a server that would resume; otherwise the altered hello makes the keys differ.
    const binderChecked = m.session?.prediction?.ok === true && m.session.prediction.resumed === true;
    const detect = (this.kind !== 'badBinder' && this.kind !== 'staleBinder') || binderChecked;
    if (done) taint(m, s, attack, victim, detect);
    afterStep(m, w, this.toString());
  }
  toString = (): string => `TamperHandshake(${this.kind})`;
}
