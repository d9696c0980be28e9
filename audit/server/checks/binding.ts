/**
 * What a ticket is bound to: resumption with a cipher suite of another hash
 * (RFC 8446 §4.2.11: the server MUST select a compatible PSK and suite),
 * under another server name, with another ALPN protocol. SNI and ALPN are
 * reported as what the server does: for a 1-RTT resumption RFC 8446 does not
 * require either to match (§4.2.11: "there is no need for the server to
 * associate an SNI value with the ticket"; ALPN must match only for 0-RTT,
 * §4.2.10).
 */
import { CipherSuite } from '../../../wire/types.js';
import type { FindingDraft } from '../../findings.js';
import { offerTicket } from '../../probe/hellos.js';
import type { AuditContext } from '../context.js';
import { Scope } from '../context.js';
import {
  type CheckFamily,
  describeOutcome,
  inconclusive,
  NO_TICKETS,
  outcomeFinding,
  type ProbeDef,
  sendHello,
  withFreshTicket,
} from './common.js';

const check = 'binding';
const def = (d: Omit<ProbeDef, 'check'>): ProbeDef => ({ check, ...d });

/** A name that cannot be anyone's (RFC 6761 .invalid). */
export const OTHER_SERVER_NAME = 'tlschart-audit.invalid';
export const OTHER_ALPN = 'tlschart-audit/1';

export const BINDING_PROBES = {
  hash: def({
    id: 'binding.cipher-hash',
    title: 'Resumption with a cipher suite of another hash',
    rfc: {
      section: '4.2.11',
      keyword: 'MUST',
      text: 'Each PSK is associated with a single Hash algorithm (the KDF hash of the connection that established the ticket). The server MUST ensure that it selects a compatible PSK (if any) and cipher suite.',
    },
    expected: {
      summary: 'no resumption: a full handshake with the other suite',
      statePath: ['expectClientHello', 'expectClientFinished', 'connected'],
    },
    sends: 'a ticket from a TLS_AES_128_GCM_SHA256 connection, offered with TLS_AES_256_GCM_SHA384 only',
  }),
  sni: def({
    id: 'binding.sni',
    title: 'Resumption under another server name',
    rfc: {
      section: '4.2.11',
      keyword: 'MAY',
      text: 'In TLS 1.3 the SNI value is always explicitly specified in the resumption handshake, and there is no need for the server to associate an SNI value with the ticket; clients SHOULD only resume with the same SNI (§4.6.1). tlschart resumes a ticket only under the name it was issued for.',
    },
    expected: { summary: 'reported as measured (tlschart: a full handshake)' },
    sends: `a fresh ticket offered with server_name ${OTHER_SERVER_NAME}`,
  }),
  alpn: def({
    id: 'binding.alpn',
    title: 'Resumption with another ALPN protocol',
    rfc: {
      section: '4.2.10',
      keyword: 'MAY',
      text: 'For 0-RTT the selected ALPN protocol MUST be the one associated with the PSK; for a 1-RTT resumption RFC 8446 sets no such rule.',
    },
    expected: { summary: 'reported as measured' },
    sends: `a fresh ticket offered with ALPN ${OTHER_ALPN} instead of the audit's protocols`,
  }),
} satisfies Record<string, ProbeDef>;

export const bindingFamily: CheckFamily = {
  id: check,
  title: 'Binding',
  probes: Object.values(BINDING_PROBES),
  async run(ctx: AuditContext, emit: (d: FindingDraft) => void): Promise<void> {
    const P = BINDING_PROBES;
    {
      const scope = new Scope(P.hash.id);
      const full = await ctx.fullHandshake(scope, 'full handshake with TLS_AES_128_GCM_SHA256', {
        hello: { cipherSuites: [CipherSuite.TLS_AES_128_GCM_SHA256] },
        poolTickets: false,
        description: 'a full handshake offering TLS_AES_128_GCM_SHA256 only, for a SHA-256 ticket',
      });
      const t = full.tickets[0];
      if (!t)
        emit(
          inconclusive(P.hash, full.serverHello ? NO_TICKETS : 'the server does not accept TLS_AES_128_GCM_SHA256 alone', scope.records),
        );
      else {
        const r = await sendHello(
          ctx,
          scope,
          'SHA-256 ticket, SHA-384 suite',
          P.hash.sends,
          () => ctx.hello({ cipherSuites: [CipherSuite.TLS_AES_256_GCM_SHA384], offers: [offerTicket(t)] }),
          { poolTickets: false },
        );
        const noSuite = r.outcome === 'aborted' && (r.alert === 'handshake_failure' || r.alert === 'insufficient_security');
        emit(
          noSuite
            ? inconclusive(P.hash, `the server refused TLS_AES_256_GCM_SHA384 (${r.alert}), so no other hash can be tried`, scope.records)
            : outcomeFinding(
                P.hash,
                r,
                {
                  verdict:
                    r.outcome === 'full' ? 'pass' : r.outcome === 'resumed' ? 'fail' : r.outcome === 'aborted' ? 'warn' : 'inconclusive',
                  reason:
                    r.outcome === 'resumed'
                      ? 'the server resumed a SHA-256 PSK under a SHA-384 suite'
                      : r.outcome === 'full'
                        ? 'the incompatible PSK was ignored'
                        : `the server ${describeOutcome(r.outcome, r.alert)} instead of a full handshake`,
                },
                scope,
                { measured: { ticketSuite: t.suite.name } },
              ),
        );
      }
    }
    await withFreshTicket(ctx, P.sni, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        'another server name',
        P.sni.sends,
        () => ctx.hello({ serverName: OTHER_SERVER_NAME, offers: [offerTicket(t)] }),
        { poolTickets: false },
      );
      emit(
        outcomeFinding(
          P.sni,
          r,
          {
            verdict: r.outcome === 'timeout' || r.outcome === 'unreadable' ? 'inconclusive' : 'info',
            reason:
              r.outcome === 'resumed'
                ? 'the ticket is not bound to the server name (RFC 8446 allows this)'
                : 'the ticket is not resumed under another server name',
          },
          scope,
          {
            before: `under server name ${OTHER_SERVER_NAME} (ticket issued for ${t.serverName ?? 'no name'}) `,
            measured: { ticketServerName: t.serverName ?? null, offeredServerName: OTHER_SERVER_NAME },
          },
        ),
      );
    });
    await withFreshTicket(ctx, P.alpn, emit, async (t, scope) => {
      const r = await sendHello(
        ctx,
        scope,
        'another ALPN protocol',
        P.alpn.sends,
        () => ctx.hello({ alpn: [OTHER_ALPN], offers: [offerTicket(t)] }),
        { poolTickets: false },
      );
      emit(
        outcomeFinding(
          P.alpn,
          r,
          {
            verdict: r.outcome === 'timeout' || r.outcome === 'unreadable' ? 'inconclusive' : 'info',
            reason:
              r.outcome === 'resumed'
                ? 'the ticket is not bound to the ALPN protocol for 1-RTT resumption (RFC 8446 allows this)'
                : 'the ticket is not resumed with another ALPN protocol',
          },
          scope,
          {
            before: `with ALPN ${OTHER_ALPN} (ticket from a connection with ${t.alpn ?? 'no ALPN'}) `,
            measured: { ticketAlpn: t.alpn ?? null, offeredAlpn: OTHER_ALPN },
          },
        ),
      );
    });
  },
};
