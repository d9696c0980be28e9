import type fc from 'fast-check';
import { findExtension } from '../../../wire/extensions.js';
import { encodeHandshake } from '../../../wire/handshake.js';
import { type ClientHello, PskKeyExchangeMode } from '../../../wire/types.js';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession, taint, tamperQueued } from './common.js';

/**
 * psk_dhe_ke taken out of psk_key_exchange_modes (leaving psk_ke): either by
 * an attacker rewriting the ClientHello in flight (the transcripts then
 * differ: decrypt_error), or by a client that offers psk_ke only (property
 * 3: no resumption, no tickets).
 */
export class StripPskDheKeCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly onWire: boolean,
    readonly pick: number,
    readonly serverId: ServerId,
  ) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    const ticket = m.tickets.length > 0 ? this.pick % m.tickets.length : undefined;
    const sni = ticket === undefined ? 'localhost' : (m.tickets[ticket]?.sni ?? 'localhost');
    if (!this.onWire) {
      await openSession(m, w, { serverId: this.serverId, sni, ticket, clientVariant: 'pskKeOnly' });
    } else {
      const s = await openSession(m, w, { serverId: this.serverId, sni, ticket });
      const done = tamperQueued(s, 'toServer', 'client_hello', (_raw, msg) => {
        const ch = msg as ClientHello;
        if (!findExtension(ch.extensions, 'psk_key_exchange_modes')) return undefined;
        const { raw: _r, ...body } = ch;
        return encodeHandshake({
          ...body,
          extensions: ch.extensions.map((e) =>
            e.type === 'psk_key_exchange_modes' ? { type: 'psk_key_exchange_modes' as const, modes: [PskKeyExchangeMode.psk_ke] } : e,
          ),
        }).raw;
      });
      if (done) {
        // Whichever side notices first refuses it (the client's keys differ; after a retry the server's binder check fails).
        taint(m, s, 'stripPskDheKeOnWire', 'client', false);
        s.applied.push({ attack: 'stripPskDheKeOnWire', victim: 'server', detect: false });
      }
    }
    // A misbehaving peer's session is played to the end here; the wire stays untouched.
    await w.current?.deliverAll();
    afterStep(m, w, this.toString());
  }
  toString = (): string => `StripPskDheKe(${this.onWire ? 'on the wire' : 'psk_ke-only client'}, ticket #${this.pick} → ${this.serverId})`;
}
