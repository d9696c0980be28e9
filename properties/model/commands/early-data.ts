import type fc from 'fast-check';
import { utf8 } from '../../../crypto/bytes.js';
import { EarlySecret, trafficKeys } from '../../../crypto/keyschedule.js';
import { nobleProvider } from '../../../crypto/noble.js';
import { suiteInfo } from '../../../crypto/suites.js';
import { transcriptHash } from '../../../crypto/transcript.js';
import { RecordProtector } from '../../../record/protection.js';
import { CipherSuite } from '../../../wire/types.js';
import type { Model } from '../model.js';
import { predict } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession, taint } from './common.js';

/**
 * A client that offers early_data and sends 0-RTT records right after its
 * ClientHello, encrypted under client_early_traffic_secret (of the offered
 * ticket's PSK when there is one). Property 4: never accepted, never
 * delivered; refused records are skipped up to the limit, also when the
 * server answers with a HelloRetryRequest, and are bad_record_mac beyond it
 * (RFC 8446 §4.2.10).
 */
export class EarlyDataCommand implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly bytes: number,
    readonly pick: number,
    readonly serverId: ServerId,
  ) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    const ticket = m.tickets.length > 0 ? this.pick % m.tickets.length : undefined;
    const t = ticket === undefined ? undefined : m.tickets[ticket];
    const sni = t?.sni ?? 'localhost';
    const p = predict(m, this.serverId, sni, t, { forceHelloRetry: m.forceHelloRetryNext, clientVariant: 'earlyData' });
    const s = await openSession(m, w, { serverId: this.serverId, sni, ticket, clientVariant: 'earlyData' });
    const session = ticket === undefined ? undefined : w.wallet[ticket]?.session;
    const suite = suiteInfo(session?.suite ?? CipherSuite.TLS_AES_128_GCM_SHA256);
    const ch = s.clientTrace.find((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'client_hello');
    if (suite && ch?.kind === 'message' && s.queue[0]?.dir === 'toServer') {
      const secret = EarlySecret.create(suite, session?.psk, nobleProvider).clientEarlyTrafficSecret(
        transcriptHash(suite.hash, [ch.raw], nobleProvider),
      );
      const protector = new RecordProtector(suite, trafficKeys(suite, secret, nobleProvider), nobleProvider);
      const marker = utf8(`0-RTT #${s.index} `);
      s.earlyMarker = marker;
      const records: Uint8Array[] = [];
      for (let left = this.bytes; left > 0; left -= 1000) {
        const n = Math.min(1000, left);
        const data = new Uint8Array(n);
        for (let i = 0; i < n; i++) data[i] = marker[i % marker.length] as number;
        records.push(protector.protect(23, data));
      }
      s.queue.splice(1, 0, ...records.map((bytes) => ({ dir: 'toServer' as const, bytes })));
      const skipped = records.reduce((n, r) => n + r.length - 5, 0);
      // A ClientHello the server refuses outright never gets as far as the 0-RTT records.
      const refused = !p.ok && (p.alert === 'handshake_failure' || p.alert === 'no_application_protocol');
      // With or without a HelloRetryRequest (RFC 8446 §4.2.10), the same limit.
      const kind = refused ? 'earlyData' : skipped > 16384 ? 'earlyDataOverLimit' : 'earlyData';
      taint(m, s, kind, kind === 'earlyData' ? undefined : 'server');
    }
    // A misbehaving peer's session is played to the end here; the wire stays untouched.
    await w.current?.deliverAll();
    afterStep(m, w, this.toString());
  }
  toString = (): string => `EarlyData(${this.bytes} bytes, ticket #${this.pick} → ${this.serverId})`;
}
