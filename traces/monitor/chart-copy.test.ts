/**
 * The monitor follows the chart it is given: copies of the production charts,
 * each with one failure branch more (a guard the monitor has no rule for, and
 * a `fail` naming an existing refusal), judge recorded traces in which the real
 * sides went on — and the monitor reports the refusal with the table's alert
 * and section, with no edit to the monitor.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createMachine } from 'xstate';
import { clientMachine } from '../../machines/client/machine.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { TlsEvent } from '../../machines/types.js';
import { findExtension } from '../../wire/extensions.js';
import { type AlertingReason, REFUSALS } from '../../wire/refusals.js';
import type { ClientHello } from '../../wire/types.js';
import { parseTrace, type Trace } from '../format.js';
import { checkTrace } from '../monitor.js';
import { rewriteReceived } from '../testing/mutate.js';

const dir = fileURLToPath(new URL('../golden/', import.meta.url));
function golden(name: string): Trace {
  const p = parseTrace(readFileSync(`${dir}${name}.json`, 'utf8'));
  if (!p.ok) throw new Error(p.error);
  return p.trace;
}

type Guard = (args: { context: Record<string, unknown>; event: TlsEvent }) => boolean;
interface StateConfig {
  on?: Record<string, unknown>;
}

/**
 * `chart` built again from its own configuration with one more branch first on
 * `event` in `state`: guarded by `guard`, failing with `reason`.
 */
function withRefusal(
  chart: AnyStateMachine,
  state: string,
  event: string,
  name: string,
  guard: Guard,
  reason: AlertingReason,
): AnyStateMachine {
  const config = chart.config as { states: Record<string, StateConfig> };
  const node = config.states[state] ?? {};
  const existing = node.on?.[event];
  const branches = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  const extra = { guard: name, target: 'failed', actions: { type: 'fail', params: { reason } } };
  const states = { ...config.states, [state]: { ...node, on: { ...node.on, [event]: [extra, ...branches] } } };
  const implementations = chart.implementations as { guards: Record<string, unknown> };
  return createMachine(
    { ...config, states } as never,
    { ...implementations, guards: { ...implementations.guards, [name]: guard } } as never,
  ) as AnyStateMachine;
}

describe('the monitor follows a copy of the server chart with one refusal more', () => {
  // A server that serves only clients offering ALPN: an event-only guard, and an existing refusal.
  const offersNoAlpn: Guard = ({ event }) => event.type === 'recv.ClientHello' && findExtension(event.msg.extensions, 'alpn') === undefined;
  const copy = withRefusal(serverMachine, 'expectClientHello', 'recv.ClientHello', 'offersNoAlpn', offersNoAlpn, 'NoCommonAlpn');

  it('the production chart finds the recorded full handshake conforming', () => {
    expect(checkTrace(golden('full-handshake'))).toMatchObject({ conforms: true });
  });

  it('the copy reports the real server’s acceptance of a ClientHello without ALPN, with NoCommonAlpn’s alert and section', () => {
    const r = checkTrace(golden('full-handshake'), { charts: { server: copy } });
    if (r.conforms) throw new Error('the copy found no violation');
    expect(r.violation).toMatchObject({
      handshake: 0,
      role: 'server',
      state: 'expectClientHello',
      message: 'client_hello',
      alert: REFUSALS.NoCommonAlpn.alert,
      section: REFUSALS.NoCommonAlpn.section,
      recorded: 'the trace accepts it and goes on to expectClientFinished without an alert',
    });
    expect(r.violation.requirement).toContain(REFUSALS.NoCommonAlpn.sentence);
  });

  it('the copy’s own guard decides: a ClientHello that offers ALPN goes through it, and the trace conforms', () => {
    const t = rewriteReceived<ClientHello>(golden('full-handshake'), 0, 'server', 'client_hello', (ch) => ({
      ...ch,
      extensions: [...ch.extensions, { type: 'alpn', protocols: ['h2'] }],
    }));
    expect(checkTrace(t)).toMatchObject({ conforms: true });
    expect(checkTrace(t, { charts: { server: copy } })).toMatchObject({ conforms: true });
  });

  it('leaves the client side to the production client chart', () => {
    const r = checkTrace(golden('full-handshake'), { charts: { server: copy } });
    expect(r.conforms ? undefined : r.violation.role).toBe('server');
    expect(checkTrace(golden('full-handshake'), { charts: { client: clientMachine } })).toMatchObject({ conforms: true });
  });
});

describe('the monitor follows a copy of the client chart whose extra guard reads the context', () => {
  // A client that takes only its first listed group: the guard reads the ClientHello the client sent (public context).
  const notFirstGroup: Guard = ({ context, event }) => {
    if (event.type !== 'recv.ServerHello' || event.msg.isHelloRetryRequest) return false;
    const sent = context.clientHello as ClientHello | undefined;
    const first = sent ? findExtension(sent.extensions, 'supported_groups')?.groups[0] : undefined;
    return findExtension(event.msg.extensions, 'key_share_server')?.share.group !== first;
  };
  const copy = withRefusal(
    clientMachine,
    'expectServerHelloAfterRetry',
    'recv.ServerHello',
    'selectsAnotherGroup',
    notFirstGroup,
    'UnofferedGroup',
  );

  it('reports a ServerHello after a HelloRetryRequest for the second listed group, with UnofferedGroup’s alert and section', () => {
    expect(checkTrace(golden('hello-retry'))).toMatchObject({ conforms: true });
    const r = checkTrace(golden('hello-retry'), { charts: { client: copy } });
    if (r.conforms) throw new Error('the copy found no violation');
    expect(r.violation).toMatchObject({
      role: 'client',
      state: 'expectServerHelloAfterRetry',
      message: 'server_hello',
      alert: REFUSALS.UnofferedGroup.alert,
      section: REFUSALS.UnofferedGroup.section,
    });
  });

  it('finds nothing where the copy has nothing to say: a handshake without a retry conforms', () => {
    expect(checkTrace(golden('full-handshake'), { charts: { client: copy } })).toMatchObject({ conforms: true });
  });
});
