/**
 * Handshakes per second over loopback TCP, tlschart client and server, per key
 * exchange group: X25519MLKEM768 (the default: the client sends its share and
 * an x25519 one) beside plain x25519 (the client offers only x25519), full and
 * resumed (psk_dhe_ke, so a fresh share every time). Also the cost of the
 * group's own operations, in-process, without TLS around them.
 *
 *   npm run bench:groups                 # 5 rounds of 40 handshakes per group and kind
 *   BENCH_N=100 BENCH_ROUNDS=7 npm run bench:groups
 *
 * The groups take turns, round after round, and each rate is the median of its
 * rounds, so load from other processes on the machine hits both alike.
 * Same certificate (ECDSA P-256) and the same echo of one byte as bench/handshakes.ts.
 */

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { nobleProvider } from '../crypto/noble.js';
import { connect } from '../net/connect.js';
import { createServer } from '../net/server.js';
import { generateSelfSigned } from '../pki/generate.js';
import { NamedGroup } from '../wire/types.js';
import { int, median } from './settings.js';

const N = int('BENCH_N', 40);
const ROUNDS = int('BENCH_ROUNDS', 5);

interface Variant {
  name: string;
  /** connect() groups option; undefined = tlschart's default. */
  groups: string | undefined;
  expect: string;
}

const VARIANTS: Variant[] = [
  { name: 'X25519MLKEM768', groups: undefined, expect: 'X25519MLKEM768' },
  { name: 'x25519', groups: 'x25519', expect: 'x25519' },
];

async function main(): Promise<void> {
  const { certPem, keyPem } = await generateSelfSigned({ keyType: 'ecdsa-p256' });
  const server = createServer({ key: keyPem, cert: certPem }, (s) => {
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  const dial = (v: Variant, session: Buffer | undefined) =>
    new Promise<{ session: Buffer | undefined; reused: boolean; group: string | undefined }>((resolve, reject) => {
      let latest: Buffer | undefined;
      const c = connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: certPem,
        ...(v.groups ? { groups: v.groups } : {}),
        ...(session ? { session } : {}),
      });
      c.on('session', (s: Buffer) => (latest = s));
      c.on('error', reject);
      c.once('data', () => {
        const r = { reused: c.isSessionReused(), group: c.handshakeInfo?.group };
        c.end();
        c.once('close', () => resolve({ session: latest, ...r }));
      });
      c.write('x');
    });

  const rate = async (v: Variant, resumed: boolean): Promise<number> => {
    let { session } = await dial(v, undefined); // warm-up, and a first ticket
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const r = await dial(v, resumed ? session : undefined);
      if (r.group !== v.expect) throw new Error(`${v.name}: connection ${i} negotiated ${String(r.group)}`);
      if (resumed && !r.reused) throw new Error(`${v.name}: connection ${i} did not resume`);
      session = r.session ?? session;
    }
    return N / (Number(process.hrtime.bigint() - start) / 1e9);
  };

  try {
    console.log(
      `tlschart handshakes per second over loopback TCP, median of ${ROUNDS} rounds of ${N} connections (client and server in one process)`,
    );
    const samples = new Map(VARIANTS.map((v) => [v.name, { full: [] as number[], resumed: [] as number[] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const resumed of [false, true]) {
        for (const v of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
          samples.get(v.name)?.[resumed ? 'resumed' : 'full'].push(await rate(v, resumed));
        }
      }
    }
    console.log('group             full   resumed');
    const rows: Record<string, [number, number]> = {};
    for (const v of VARIANTS) {
      const s = samples.get(v.name) as { full: number[]; resumed: number[] };
      rows[v.name] = [median(s.full), median(s.resumed)];
      const [full, res] = rows[v.name] as [number, number];
      console.log(`${v.name.padEnd(15)} ${full.toFixed(1).padStart(6)}   ${res.toFixed(1).padStart(7)}`);
    }
    const [hf, hr] = rows.X25519MLKEM768 as [number, number];
    const [xf, xr] = rows.x25519 as [number, number];
    console.log(`hybrid / x25519  ${(hf / xf).toFixed(3).padStart(5)}     ${(hr / xr).toFixed(3)}`);
  } finally {
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }

  // The group operations alone: what one handshake adds on each side.
  const ops = 200;
  const time = (f: () => void): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) f();
    return Number(process.hrtime.bigint() - start) / 1e6 / ops;
  };
  const random = (n: number) => new Uint8Array(randomBytes(n));
  const p = nobleProvider;
  console.log(`\nkey exchange alone, ms per operation (${ops} each, @noble in pure JavaScript)`);
  console.log('group            client keygen   server accept   client complete');
  for (const group of [NamedGroup.X25519MLKEM768, NamedGroup.x25519]) {
    const kp = p.generateKeyPair(group, random);
    const accepted = p.acceptShare(group, kp.publicKey, random);
    if (!accepted.ok) throw accepted.error;
    const keygen = time(() => p.generateKeyPair(group, random));
    const accept = time(() => p.acceptShare(group, kp.publicKey, random));
    const complete = time(() => p.completeShare(kp, accepted.share));
    const name = group === NamedGroup.X25519MLKEM768 ? 'X25519MLKEM768' : 'x25519';
    console.log(
      `${name.padEnd(15)} ${keygen.toFixed(2).padStart(13)}   ${accept.toFixed(2).padStart(13)}   ${complete.toFixed(2).padStart(15)}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
