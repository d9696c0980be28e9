/**
 * Conformance probes: variants of the two charts that misbehave in one precise
 * way (a flipped Finished, an extra message, a psk_ke-only offer, …), built with
 * `machine.provide()` so the rest of the protocol stays real. Tests use them to
 * check that the *other* side reacts with the exact alert.
 */
import { assign } from 'xstate';
import * as clientActions from '../../machines/client/actions.js';
import type { ClientContext } from '../../machines/client/context.js';
import { bindClientHello } from '../../machines/client/logic.js';
import { clientMachine } from '../../machines/client/machine.js';
import * as serverActions from '../../machines/server/actions.js';
import type { ServerContext } from '../../machines/server/context.js';
import { serverMachine } from '../../machines/server/machine.js';
import type { Command, TlsEvent } from '../../machines/types.js';
import { clientHelloExtensionBlocks, decodeHandshake, encodeHandshake, type RawExtension } from '../../wire/handshake.js';
import type { ClientHello, HandshakeMessage, Unencoded } from '../../wire/types.js';

type CommandRewrite = (added: Command[]) => Command[];

/** Replace the commands an action added to the outbox. */
export function rewritePatch<C extends { outbox: Command[] }>(ctx: C, patch: Partial<C>, fn: CommandRewrite): Partial<C> {
  const outbox = patch.outbox ?? ctx.outbox;
  const added = outbox.slice(ctx.outbox.length);
  return { ...patch, outbox: [...ctx.outbox, ...fn(added)] };
}

/** The server's flight (ServerHello … Finished), rewritten. */
export function serverFlightProbe(fn: CommandRewrite): typeof serverMachine {
  return serverMachine.provide({
    actions: {
      sendServerFlight: assign(({ context, event }: { context: ServerContext; event: TlsEvent }) =>
        rewritePatch(context, serverActions.sendServerFlight(context, event), fn),
      ),
    },
  });
}

/** The client's second flight (Certificate? CertificateVerify? Finished), rewritten. */
export function clientFlightProbe(fn: CommandRewrite): typeof clientMachine {
  return clientMachine.provide({
    actions: {
      acceptServerFinishedAndSendClientFlight: assign(({ context, event }: { context: ClientContext; event: TlsEvent }) =>
        rewritePatch(context, clientActions.acceptServerFinishedAndSendClientFlight(context, event), fn),
      ),
    },
  });
}

/** The tickets the server issues, rewritten. */
export function ticketProbe(fn: CommandRewrite): typeof serverMachine {
  return serverMachine.provide({
    actions: {
      issueTickets: assign(({ context }: { context: ServerContext }) => rewritePatch(context, serverActions.issueTickets(context), fn)),
    },
  });
}

/**
 * A client whose first ClientHello is rewritten (the client keeps the rewritten
 * bytes in its transcript, so the handshake stays consistent on its side).
 */
export function clientHelloProbe(fn: (ch: Unencoded<ClientHello>) => Unencoded<ClientHello>): typeof clientMachine {
  return clientMachine.provide({
    actions: {
      sendClientHello: assign(({ context }: { context: ClientContext }) => {
        const patch = clientActions.sendClientHello(context);
        const original = patch.clientHello;
        if (!original) throw new Error('no ClientHello');
        const { raw: _raw, ...body } = original;
        const rewritten = fn(body);
        const psk = patch.offeredPsk;
        // Keep the binder honest: it is recomputed over the rewritten hello.
        const ch = psk ? bindClientHello(rewritten, psk, [], context.env.crypto) : encodeHandshake(rewritten);
        return sendingFirstHello(context, patch, ch);
      }),
    },
  });
}

/** sendClientHello's patch with `ch` sent instead of the hello the chart built (and kept as its transcript). */
export function sendingFirstHello(context: ClientContext, patch: Partial<ClientContext>, ch: ClientHello): Partial<ClientContext> {
  return {
    ...patch,
    clientHello: ch,
    clientHello1: ch,
    transcript: [ch.raw],
    outbox: [...context.outbox, { kind: 'sendHandshake', raw: ch.raw, name: 'client_hello' } as Command],
  };
}

/**
 * An encoded ClientHello with its extension blocks (as clientHelloExtensionBlocks reads them)
 * replaced by what `rewrite` makes of them, written as given (order and contents unchecked: a
 * probe may send what the codec refuses to encode) and every length fixed; undefined when `raw`
 * does not frame as a ClientHello.
 */
export function withExtensionBlocks(raw: Uint8Array, rewrite: (blocks: RawExtension[]) => RawExtension[]): Uint8Array | undefined {
  const blocks = clientHelloExtensionBlocks(raw);
  if (!blocks.ok) return undefined;
  // The extensions block is the message's tail: its 2-byte length, then each block's code, length and data.
  const size = (bs: readonly RawExtension[]) => bs.reduce((n, b) => n + 4 + b.data.length, 0);
  const at = raw.length - 2 - size(blocks.value);
  const rewritten = rewrite(blocks.value);
  const extsLength = size(rewritten);
  const out = new Uint8Array(at + 2 + extsLength);
  out.set(raw.subarray(0, at));
  const body = out.length - 4;
  out.set([body >> 16, (body >> 8) & 0xff, body & 0xff], 1);
  out.set([extsLength >> 8, extsLength & 0xff], at);
  let w = at + 2;
  for (const b of rewritten) {
    out.set([b.code >> 8, b.code & 0xff, b.data.length >> 8, b.data.length & 0xff], w);
    out.set(b.data, w + 4);
    w += 4 + b.data.length;
  }
  return out;
}

/** Map the raw bytes of every outgoing handshake message called `name`. */
export function mapMessage(name: HandshakeMessage['type'], fn: (raw: Uint8Array) => Uint8Array): CommandRewrite {
  return (cmds) => cmds.map((c) => (c.kind === 'sendHandshake' && c.name === name ? { ...c, raw: fn(c.raw) } : c));
}

/** Insert a message before the first outgoing message called `before`. */
export function insertBefore(before: HandshakeMessage['type'], msg: HandshakeMessage): CommandRewrite {
  return (cmds) => {
    const i = cmds.findIndex((c) => c.kind === 'sendHandshake' && c.name === before);
    const cmd: Command = { kind: 'sendHandshake', raw: msg.raw, name: msg.type };
    return i < 0 ? [...cmds, cmd] : [...cmds.slice(0, i), cmd, ...cmds.slice(i)];
  };
}

/** Flip one bit of the last byte of a message (verify_data, signature tail, …). */
export const flipLastBit = (raw: Uint8Array): Uint8Array => {
  const out = raw.slice();
  out[out.length - 1] = (out[out.length - 1] as number) ^ 0x01;
  return out;
};

/** Decode a handshake message and re-encode it after `fn` changed it. */
export function rewriteMessage<M extends HandshakeMessage>(raw: Uint8Array, fn: (m: Unencoded<M>) => Unencoded<M>): Uint8Array {
  const d = decodeHandshake(raw);
  if (!d.ok) throw new Error(d.error.message);
  const { raw: _raw, ...body } = d.value as M;
  return encodeHandshake(fn(body as Unencoded<M>) as Unencoded<HandshakeMessage>).raw;
}
