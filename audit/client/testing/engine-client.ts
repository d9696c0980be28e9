/**
 * A tlschart client engine over a loopback TCP connection, with any client
 * chart (`clientMachine.provide(...)` mutants): the probing server reaches
 * it exactly as it reaches any other client. And a runner that makes the
 * connections `audit client` expects, the way `tlschart connect --reconnect`
 * does: a full handshake, then each connection offers the newest ticket of
 * the one before it (a ticket is offered once).
 */
import { connect as netConnect } from 'node:net';
import { defaultClientConfig } from '../../../engine/config.js';
import { ClientConnection } from '../../../engine/connection.js';
import { systemEnvironment } from '../../../engine/env.js';
import type { clientMachine } from '../../../machines/client/machine.js';
import type { ClientSession } from '../../../tickets/types.js';
import { type ClientRunner, functionRunner } from '../runner.js';

export interface EngineConnectResult {
  resumed: boolean | undefined;
  sessions: ClientSession[];
  /** The alert that ended the handshake, if one did. */
  error: string | undefined;
}

/** How long to wait for tickets after the handshake, and for more once one came (as tlschart connect). */
const TICKET_WAIT_MS = 300;
const TICKET_QUIET_MS = 50;

/** One connection: handshake, wait for the tickets, close_notify. */
export function connectEngine(o: {
  host: string;
  port: number;
  serverName: string;
  session?: ClientSession;
  machine?: typeof clientMachine;
}): Promise<EngineConnectResult> {
  return new Promise((resolve) => {
    const sessions: ClientSession[] = [];
    let resumed: boolean | undefined;
    let error: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const socket = netConnect({ host: o.host, port: o.port });
    const conn = new ClientConnection({
      ...defaultClientConfig({ serverName: o.serverName }),
      session: o.session,
      env: systemEnvironment(),
      ...(o.machine ? { machine: o.machine } : {}),
    });
    const close = () => {
      clearTimeout(timer);
      void conn.close().then(() => socket.end());
    };
    conn.on('output', (b) => {
      if (!socket.destroyed) socket.write(b);
    });
    conn.on('handshake', (info) => {
      resumed = info.resumed;
      timer = setTimeout(close, TICKET_WAIT_MS);
    });
    conn.on('session', (s) => {
      sessions.push(s);
      clearTimeout(timer);
      timer = setTimeout(close, TICKET_QUIET_MS);
    });
    conn.on('error', (e) => {
      error = e.alert;
      socket.end();
    });
    conn.on('end', () => close());
    socket.on('data', (d: Buffer) => void conn.receive(new Uint8Array(d)));
    socket.on('error', (e: Error) => {
      error ??= e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ resumed, sessions, error });
    });
  });
}

/**
 * A runner for `auditClient` (the mutation gate): three connections under
 * {servername}, each offering the newest ticket of the one before, as
 * `tlschart connect --reconnect 2` does.
 */
export function engineClientRunner(label: string, machine?: typeof clientMachine): ClientRunner {
  return functionRunner(label, async (p, signal) => {
    let session: ClientSession | undefined;
    for (let i = 0; i < 3 && !signal.aborted; i++) {
      const r = await connectEngine({
        host: p.host,
        port: p.port,
        serverName: p.servername,
        ...(session ? { session } : {}),
        ...(machine ? { machine } : {}),
      });
      session = r.sessions.at(-1);
    }
  });
}
