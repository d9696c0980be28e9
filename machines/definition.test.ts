import { describe, expect, it } from 'vitest';
import { clientMachine } from './client/machine.js';
import { serverMachine } from './server/machine.js';

/** Every guard and action name anywhere in a serialised machine. */
function typesIn(json: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(json)) for (const x of json) typesIn(x, out);
  else if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      if ((k === 'type' || k === 'guard') && typeof v === 'string') out.add(v);
      if ((k === 'actions' || k === 'entry') && Array.isArray(v)) for (const a of v) if (typeof a === 'string') out.add(a);
      typesIn(v, out);
    }
  }
  return out;
}

describe('the statechart definitions', () => {
  it('keep every guard and action name when serialised to JSON (for diagrams and the inspector)', () => {
    const client = JSON.parse(JSON.stringify(clientMachine));
    const server = JSON.parse(JSON.stringify(serverMachine));
    const c = typesIn(client);
    const s = typesIn(server);
    for (const name of [
      'isServerFinishedValid',
      'isServerSignatureValid',
      'isServerCertificateTrusted',
      'sendClientHello',
      'acceptServerHello',
      'fail',
    ]) {
      expect(c.has(name), name).toBe(true);
    }
    for (const name of ['hasValidBinder', 'hasResumableTicket', 'isClientFinishedValid', 'sendServerFlight', 'issueTickets', 'fail']) {
      expect(s.has(name), name).toBe(true);
    }
    // every guard and action the machines implement is referenced by name in the JSON
    for (const [m, names] of [
      [clientMachine, c],
      [serverMachine, s],
    ] as const) {
      for (const g of Object.keys(m.implementations.guards)) expect(names.has(g), g).toBe(true);
      for (const a of Object.keys(m.implementations.actions)) expect(names.has(a), a).toBe(true);
    }
  });

  it('name their states after what they wait for (RFC 8446 Appendix A)', () => {
    expect(Object.keys(clientMachine.root.states)).toEqual([
      'expectServerHello',
      'expectServerHelloAfterRetry',
      'expectEncryptedExtensions',
      'expectCertificateOrCertificateRequest',
      'expectCertificate',
      'expectCertificateVerify',
      'expectServerFinished',
      'connected',
      'closed',
      'failed',
    ]);
    expect(Object.keys(serverMachine.root.states)).toEqual([
      'expectClientHello',
      'expectSecondClientHello',
      'expectClientCertificate',
      'expectClientCertificateVerify',
      'expectClientFinished',
      'connected',
      'closed',
      'failed',
    ]);
    expect(clientMachine.root.states.failed?.type).toBe('final');
    expect(serverMachine.root.states.failed?.type).toBe('final');
  });

  it('use no invoke, delayed transitions or always-transitions, so xstate/graph can walk them', () => {
    for (const m of [clientMachine, serverMachine]) {
      const json = JSON.stringify(m);
      expect(json).not.toMatch(/"invoke":\[\{/);
      for (const node of Object.values(m.root.states)) {
        expect(node.invoke).toEqual([]);
        expect(node.after).toEqual([]);
        expect(node.always ?? []).toEqual([]);
      }
    }
  });
});
