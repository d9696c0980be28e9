import { beforeAll, describe, expect, it } from 'vitest';
import { nobleProvider } from '../../crypto/noble.js';
import type { CertifiedKey } from '../../machines/types.js';
import { certifiedKey } from '../../net/options.js';
import { generateSelfSigned } from '../../pki/generate.js';
import { checkTrace } from '../../traces/monitor.js';
import { PskKeyExchangeMode } from '../../wire/types.js';
import { ProbeConnection, type ProbeTicket } from './client.js';
import { flippedBinder } from './hello.js';
import { makeHello, offerTicket } from './hellos.js';
import { engineTarget, type Target } from './target.js';
import { probeTrace } from './trace.js';

let cert: CertifiedKey;
let target: Target;

beforeAll(async () => {
  const g = await generateSelfSigned({ keyType: 'ecdsa-p256', dnsNames: ['localhost'] });
  cert = certifiedKey(g.certPem, g.keyPem, 'test', nobleProvider);
  target = engineTarget({ certificates: [cert] });
});

async function open(label: string): Promise<ProbeConnection> {
  return new ProbeConnection({
    transport: await target.open(5000),
    deadline: Date.now() + 10_000,
    label,
    serverName: 'localhost',
    alpn: undefined,
  });
}

async function fullHandshake(): Promise<{ conn: ProbeConnection; tickets: ProbeTicket[] }> {
  const conn = await open('full');
  conn.sendHello(makeHello({ serverName: 'localhost' }));
  expect(await conn.readFlight()).toBe('finished');
  conn.sendFinished();
  await conn.collectTickets(2, 2000);
  await conn.finish();
  return { conn, tickets: conn.tickets };
}

const traceOf = (conn: ProbeConnection) =>
  probeTrace(conn.log, { target: target.label, label: conn.label, scenario: 'test', description: 'test', startedAt: Date.now() });

describe("the probe client against tlschart's server engine", () => {
  it('completes a full handshake, verifies the server Finished and derives the tickets it receives', async () => {
    const { conn, tickets } = await fullHandshake();
    expect(conn.serverFinishedValid).toBe(true);
    expect(conn.certificate?.entries.length).toBe(1);
    expect(tickets).toHaveLength(2);
    expect(tickets[0]?.lifetimeS).toBe(7200);
    expect(conn.alertReceived).toBeUndefined();
  });

  it('resumes with a ticket: the server selects it, sends no Certificate, and its Finished verifies under the PSK', async () => {
    const { tickets } = await fullHandshake();
    const conn = await open('resume');
    conn.sendHello(makeHello({ serverName: 'localhost', offers: [offerTicket(tickets[0] as ProbeTicket)] }));
    expect(await conn.readFlight()).toBe('finished');
    expect(conn.resumed).toBe(true);
    expect(conn.certificate).toBeUndefined();
    expect(conn.serverFinishedValid).toBe(true);
    conn.sendFinished();
    await conn.collectTickets(2, 2000);
    await conn.finish();
    expect(conn.tickets).toHaveLength(2);
  });

  it('sees the decrypt_error of a flipped binder', async () => {
    const { tickets } = await fullHandshake();
    const t = tickets[0] as ProbeTicket;
    const conn = await open('flipped');
    conn.sendHello(makeHello({ serverName: 'localhost', offers: [offerTicket(t, { binder: flippedBinder(t.suite, t.psk) })] }));
    expect(await conn.readFlight()).toBe('alert');
    expect(conn.alertReceived).toBe('decrypt_error');
    await conn.finish();
  });

  it('sees a psk_ke-only offer ignored: a full handshake', async () => {
    const { tickets } = await fullHandshake();
    const conn = await open('psk_ke');
    conn.sendHello(
      makeHello({ serverName: 'localhost', modes: [PskKeyExchangeMode.psk_ke], offers: [offerTicket(tickets[0] as ProbeTicket)] }),
    );
    expect(await conn.readFlight()).toBe('finished');
    expect(conn.resumed).toBe(false);
    expect(conn.certificate).toBeDefined();
    await conn.finish();
  });

  it('records every connection as a server-side trace that conforms to the server chart', async () => {
    const { conn } = await fullHandshake();
    const trace = traceOf(conn);
    const side = trace.handshakes[0]?.sides[0];
    expect(side?.role).toBe('server');
    const states = side?.steps.filter((s) => s.direction === 'in').map((s) => `${s.message?.type ?? s.kind}:${s.stateAfter}`);
    expect(states).toEqual([
      'client_hello:expectClientFinished',
      'change_cipher_spec:expectClientFinished',
      'finished:connected',
      'alert:connected',
    ]);
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });

  it("records a refused binder as the chart's refusal, which conforms", async () => {
    const { tickets } = await fullHandshake();
    const t = tickets[0] as ProbeTicket;
    const conn = await open('flipped');
    conn.sendHello(makeHello({ serverName: 'localhost', offers: [offerTicket(t, { binder: flippedBinder(t.suite, t.psk) })] }));
    await conn.finish();
    const trace = traceOf(conn);
    expect(trace.handshakes[0]?.sides[0]?.outcome).toMatchObject({ state: 'failed', alert: 'decrypt_error' });
    expect(checkTrace(trace)).toMatchObject({ conforms: true });
  });
});
