/** All commands of the model-based suite, as fast-check arbitraries (honest ones weighted up). */
import fc from 'fast-check';
import {
  arbBit,
  arbChunk,
  arbDirection,
  arbEarlyBytes,
  arbKeep,
  arbMisbehaviour,
  arbServer,
  arbServerName,
  arbSide,
  arbTamper,
  arbTicket,
} from '../../arbitraries/attacks.js';
import { arbAdvance } from '../../arbitraries/config.js';
import type { Model } from '../model.js';
import type { World } from '../world.js';
import { AdvanceClockCommand } from './advance-clock.js';
import { AppDataBeforeFinishedCommand } from './app-data-before-finished.js';
import { CertificateAfterPskCommand } from './certificate-after-psk.js';
import { CloseCommand } from './close.js';
import { CompleteHandshakeCommand } from './complete-handshake.js';
import { ConnectCommand } from './connect.js';
import { DeliverCommand } from './deliver.js';
import { DropCommand } from './drop.js';
import { DuplicateCommand } from './duplicate.js';
import { EarlyDataCommand } from './early-data.js';
import { InjectEndOfEarlyDataCommand } from './end-of-early-data.js';
import { EvictTicketsCommand } from './evict-tickets.js';
import { FlipBitCommand } from './flip-bit.js';
import { ForceHelloRetryCommand } from './force-hello-retry.js';
import { InjectOtherSessionCommand } from './inject-other-session.js';
import { KeyUpdateCommand } from './key-update.js';
import { MisbehavingPeerCommand } from './misbehaving-peer.js';
import { ReceiveTicketsCommand } from './receive-tickets.js';
import { ReconnectWithTicketCommand } from './reconnect-with-ticket.js';
import { ReorderCommand } from './reorder.js';
import { ReplayClientHelloCommand } from './replay-client-hello.js';
import { ReplayTicketCommand } from './replay-ticket.js';
import { StripPskDheKeCommand } from './strip-psk-dhe-ke.js';
import { TamperHandshakeCommand } from './tamper-handshake.js';
import { TruncateCommand } from './truncate.js';
import { WriteDataCommand } from './write-data.js';

export type Cmd = fc.AsyncCommand<Model, World>;

const connect = fc.tuple(arbServer, arbServerName).map(([s, n]) => new ConnectCommand(s, n));
const reconnect = fc
  .tuple(
    arbTicket,
    fc.oneof(
      { weight: 3, arbitrary: fc.constant('issuer' as const) },
      { weight: 1, arbitrary: fc.record({ serverId: arbServer, sni: arbServerName }) },
    ),
  )
  .map(([t, to]) => new ReconnectWithTicketCommand(t, to));
const complete = fc.constant(new CompleteHandshakeCommand());

/** Honest actions, with how often each is drawn (sessions must get far enough to resume and to be attacked). */
export const honestCommands: Array<[number, fc.Arbitrary<Cmd>]> = [
  [2, connect],
  [4, reconnect],
  [6, complete],
  [1, fc.constant(new ReceiveTicketsCommand())],
  [
    2,
    fc
      .tuple(fc.constantFrom('toServer' as const, 'toClient' as const), fc.integer({ min: 1, max: 3 }))
      .map(([d, n]) => new DeliverCommand(d, n)),
  ],
  [2, arbAdvance.map((ms) => new AdvanceClockCommand(ms))],
  [1, fc.tuple(arbServer, fc.oneof(arbTicket, fc.constant('all' as const))).map(([s, p]) => new EvictTicketsCommand(s, p))],
  [1, fc.tuple(arbSide, fc.boolean()).map(([s, r]) => new KeyUpdateCommand(s, r))],
  [1, fc.tuple(arbSide, fc.integer({ min: 1, max: 20_000 })).map(([s, n]) => new WriteDataCommand(s, n))],
  [1, arbSide.map((s) => new CloseCommand(s))],
  [1, fc.constant(new ForceHelloRetryCommand())],
];

/** The attacker on the wire, and misbehaving peers. */
export const attackerCommands: Array<[number, fc.Arbitrary<Cmd>]> = [
  [1, arbChunk.map((p) => new DropCommand(p))],
  [1, arbChunk.map((p) => new DuplicateCommand(p))],
  [1, arbChunk.map((p) => new ReorderCommand(p))],
  [1, fc.tuple(arbChunk, arbKeep).map(([p, k]) => new TruncateCommand(p, k))],
  [2, fc.tuple(arbChunk, arbBit).map(([p, b]) => new FlipBitCommand(p, b))],
  [1, fc.tuple(arbTicket, arbChunk, arbChunk, arbDirection).map(([s, p, q, d]) => new InjectOtherSessionCommand(s, p, q, d))],
  [1, fc.tuple(arbTicket, arbServer).map(([s, id]) => new ReplayClientHelloCommand(s, id))],
  [1, fc.tuple(arbTicket, arbServer).map(([t, id]) => new ReplayTicketCommand(t, id))],
  [1, fc.tuple(fc.boolean(), arbTicket, arbServer).map(([o, t, id]) => new StripPskDheKeCommand(o, t, id))],
  [1, fc.tuple(arbEarlyBytes, arbTicket, arbServer).map(([b, t, id]) => new EarlyDataCommand(b, t, id))],
  [1, arbServer.map((id) => new InjectEndOfEarlyDataCommand(id))],
  [1, arbServer.map((id) => new AppDataBeforeFinishedCommand(id))],
  [1, arbTicket.map((t) => new CertificateAfterPskCommand(t))],
  [1, fc.tuple(arbMisbehaviour, fc.integer({ min: -1, max: 15 })).map(([v, t]) => new MisbehavingPeerCommand(v, t))],
  [1, arbTamper.map((k) => new TamperHandshakeCommand(k))],
];

/** Every command, each listed as many times as its weight (fc.commands draws uniformly among the list). */
export const allCommands: Array<fc.Arbitrary<Cmd>> = [...honestCommands, ...attackerCommands].flatMap(([n, a]) =>
  Array.from({ length: n }, () => a),
);
