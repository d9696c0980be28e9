import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { nobleProvider } from '../crypto/noble.js';
import { nodeProvider } from '../crypto/node-provider.js';
import type { TraceEntry } from '../engine/connection.js';
import { seededEnvironment } from '../engine/env.js';
import { generateSelfSigned } from '../pki/generate.js';
import { MemoryClientTicketCache } from '../tickets/client-cache.js';
import { decodeClientSession } from '../tickets/session-codec.js';
import { KEYLOG_LINE, keylogTo } from '../traces/keylog.js';
import { connect } from './connect.js';
import { COMPACT_AFTER_MS, type TLSSocket } from './socket.js';
import { collect, loopback, makePki, nextClientError, nextError, sessions, startServer } from './testing/fixtures.js';

const fx = loopback();
const { serve, dial } = fx;

/** A server that greets every client once the handshake is done; the greeting arrives after the tickets. */
const greeter = (s: TLSSocket) => {
  s.on('error', () => undefined);
  s.write(`hello ${s.isSessionReused() ? 'again' : 'stranger'}`);
  s.on('data', (d: Buffer) => s.write(d));
};

describe('tlschart client and tlschart server over loopback sockets', () => {
  it('complete a full handshake and report it like node:tls', async () => {
    let resolveServer!: (s: TLSSocket) => void;
    const serverSide = new Promise<TLSSocket>((resolve) => (resolveServer = resolve));
    const r = await serve({}, (s) => {
      greeter(s);
      resolveServer(s);
    });
    const client = dial(r.port);
    await once(client, 'secureConnect');
    const server = await serverSide;

    expect(client.getProtocol()).toBe('TLSv1.3');
    expect(client.getCipher()).toEqual({ name: 'TLS_AES_128_GCM_SHA256', standardName: 'TLS_AES_128_GCM_SHA256', version: 'TLSv1.3' });
    expect(client.getEphemeralKeyInfo()).toEqual({ type: 'KEM', name: 'X25519MLKEM768', size: 768 });
    expect(server.getEphemeralKeyInfo()).toBeNull();
    expect(client.authorized).toBe(true);
    expect(client.authorizationError).toBeUndefined();
    expect(client.isSessionReused()).toBe(false);
    expect(server.isSessionReused()).toBe(false);
    expect(client.alpnProtocol).toBe(false);
    expect(server.servername).toBe('localhost');

    const leaf = new X509Certificate(fx.pki.leaf.certPem);
    const peer = client.getPeerCertificate();
    expect(peer.subject).toEqual(expect.objectContaining({ CN: 'localhost' }));
    expect(peer.issuer).toEqual(expect.objectContaining({ CN: 'tlschart net test CA' }));
    expect(peer.subjectaltname).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(peer.fingerprint256).toBe(leaf.fingerprint256);
    expect(peer.valid_to).toBe(leaf.validTo);
    expect(Buffer.compare(peer.raw, leaf.raw)).toBe(0);
    expect(server.getPeerCertificate()).toEqual({});

    const ekmClient = client.exportKeyingMaterial(32, 'EXPERIMENTAL tlschart', Buffer.from('ctx'));
    expect(ekmClient.length).toBe(32);
    expect(server.exportKeyingMaterial(32, 'EXPERIMENTAL tlschart', Buffer.from('ctx')).equals(ekmClient)).toBe(true);
    expect(server.exportKeyingMaterial(32, 'EXPERIMENTAL other').equals(ekmClient)).toBe(false);

    const [greeting] = (await once(client, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
    client.write('ping');
    const [echo] = (await once(client, 'data')) as [Buffer];
    expect(echo.toString()).toBe('ping');
  });

  it('resume with the session buffer of an earlier connection, and both sides report the resumption', async () => {
    const serverSockets: TLSSocket[] = [];
    const r = await serve({}, (s) => {
      serverSockets.push(s);
      greeter(s);
    });
    const first = dial(r.port);
    const got = sessions(first, 2);
    await once(first, 'data');
    const [ticket1, ticket2] = (await got.first) as [Buffer, Buffer];
    expect(ticket1).not.toEqual(ticket2);
    first.end();
    await once(first, 'close');

    const second = dial(r.port, { session: ticket2 });
    const got2 = sessions(second, 2);
    const [greeting] = (await once(second, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello again');
    expect(second.isSessionReused()).toBe(true);
    expect(serverSockets[1]?.isSessionReused()).toBe(true);
    expect(second.authorized).toBe(true);
    // The certificate of the original handshake, although none was sent this time.
    expect(second.getPeerCertificate().fingerprint256).toBe(new X509Certificate(fx.pki.leaf.certPem).fingerprint256);
    // Fresh tickets after a resumption, and the newest is what getSession() gives.
    const fresh = await got2.first;
    expect(fresh).toHaveLength(2);
    expect(second.getSession()?.equals(fresh[1] as Buffer)).toBe(true);
    expect(decodeClientSession(new Uint8Array(fresh[0] as Buffer))?.serverName).toBe('localhost');
  });

  it('resume from a shared client ticket cache: each ticket offered once, the fresh ones kept (RFC 8446 §C.4)', async () => {
    const r = await serve({}, greeter);
    const cache = new MemoryClientTicketCache();
    const run = async () => {
      const c = dial(r.port, { ticketCache: cache });
      const got = sessions(c, 2);
      const [greeting] = (await once(c, 'data')) as [Buffer];
      await got.first;
      c.end();
      await once(c, 'close');
      return { greeting: greeting.toString(), reused: c.isSessionReused() };
    };
    expect(await run()).toEqual({ greeting: 'hello stranger', reused: false });
    expect(cache.size()).toBe(2);
    // The newest ticket is taken, and the two of the resumed connection are added.
    expect(await run()).toEqual({ greeting: 'hello again', reused: true });
    expect(cache.size()).toBe(3);
    // Another server name gets nothing from the cache: a full handshake.
    const other = dial(r.port, { ticketCache: cache, servername: 'other.example', rejectUnauthorized: false });
    await once(other, 'data');
    expect(other.isSessionReused()).toBe(false);
  });

  it('emit exactly as many sessions as the server sends tickets', async () => {
    for (const ticketsPerHandshake of [0, 1, 3]) {
      const r = await serve({ ticketsPerHandshake }, greeter);
      const c = dial(r.port);
      const got = sessions(c, 99);
      await once(c, 'data'); // written after the tickets
      expect(got.list).toHaveLength(ticketsPerHandshake);
      expect(c.ticketsReceived).toBe(ticketsPerHandshake);
    }
  });

  it('put the tickets on the wire the moment the handshake completes, before anything else reacts to it (RFC 8446 §4.6.1)', async () => {
    const raws: Socket[] = [];
    let ticketsSent = 0;
    const seen: Array<{ ticketsSent: number; corked: number }> = [];
    const watched = new Set<TLSSocket>();
    const r = await serve({
      trace: (e, socket) => {
        if (!watched.has(socket)) {
          watched.add(socket);
          socket.engine?.on('handshake', () => seen.push({ ticketsSent, corked: raws[0]?.writableCorked ?? -1 }));
        }
        if (e.kind === 'message' && e.direction === 'out' && e.name === 'new_session_ticket') ticketsSent++;
      },
    });
    r.server.on('connection', (raw: Socket) => raws.push(raw));
    await sessions(dial(r.port), 2).first;
    expect(seen).toEqual([{ ticketsSent: 2, corked: 0 }]);
  });

  it('do not resume when the server no longer holds the ticket, and fall back to a full handshake', async () => {
    const r1 = await serve({}, greeter);
    const c1 = dial(r1.port);
    const got = sessions(c1, 1);
    const [ticket] = (await got.first) as [Buffer];
    const r2 = await serve({}, greeter); // another server, another ticket store
    const c2 = dial(r2.port, { session: ticket });
    const [greeting] = (await once(c2, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
    expect(c2.isSessionReused()).toBe(false);
  });

  it('resume across two servers that share a ticket store', async () => {
    const r1 = await serve({}, greeter);
    const r2 = await serve({ ticketStore: r1.server.ticketStore }, greeter);
    const c1 = dial(r1.port);
    const [ticket] = (await sessions(c1, 1).first) as [Buffer];
    const c2 = dial(r2.port, { session: ticket });
    await once(c2, 'secureConnect');
    expect(c2.isSessionReused()).toBe(true);
  });

  it('negotiate the first ALPN protocol of the server that the client offers', async () => {
    const r = await serve({ ALPNProtocols: ['http/1.1', 'h2'] });
    const serverSide = once(r.server, 'secureConnection') as Promise<[TLSSocket]>;
    const c = dial(r.port, { ALPNProtocols: ['h2', 'http/1.1'] });
    await once(c, 'secureConnect');
    expect(c.alpnProtocol).toBe('http/1.1');
    expect((await serverSide)[0].alpnProtocol).toBe('http/1.1');
  });

  it('fail with no_application_protocol when client and server share no ALPN protocol', async () => {
    const r = await serve({ ALPNProtocols: ['h2'] });
    const serverError = nextClientError(r.server);
    const c = dial(r.port, { ALPNProtocols: ['spdy/3'] });
    const err = await nextError(c);
    expect(err.alert).toBe('no_application_protocol');
    expect(err.remote).toBe(true);
    expect((await serverError).reason).toBe('NoCommonAlpn');
  });

  it('use the group and cipher suite the client asks for', async () => {
    const r = await serve();
    const c = dial(r.port, { groups: ['P-384'], cipherSuites: 'TLS_CHACHA20_POLY1305_SHA256' });
    await once(c, 'secureConnect');
    expect(c.getEphemeralKeyInfo()).toEqual({ type: 'ECDH', name: 'secp384r1', size: 384 });
    expect(c.getCipher()?.name).toBe('TLS_CHACHA20_POLY1305_SHA256');
  });

  it('retry with a HelloRetryRequest when the share offered first is for a group the server does not take', async () => {
    const trace: TraceEntry[] = [];
    const r = await serve({ groups: ['P-256'] });
    const c = dial(r.port, { groups: 'x25519:P-256', trace: (e) => trace.push(e) });
    await once(c, 'secureConnect');
    expect(c.getEphemeralKeyInfo()).toEqual({ type: 'ECDH', name: 'prime256v1', size: 256 });
    const hellos = trace.flatMap((e) => (e.kind === 'message' && e.msg?.type === 'server_hello' ? [e.msg.isHelloRetryRequest] : []));
    expect(hellos).toEqual([true, false]);
    expect(trace.filter((e) => e.kind === 'message' && e.direction === 'out' && e.name === 'client_hello')).toHaveLength(2);
  });

  it('run over a transport the application opened: a connecting net.Socket, or any Duplex', async () => {
    const r = await serve({}, greeter);
    const tcp = netConnect(r.port, '127.0.0.1');
    const overSocket = connect({ socket: tcp, servername: 'localhost', ca: fx.pki.ca.certPem });
    fx.track(overSocket);
    const [hello] = (await once(overSocket, 'data')) as [Buffer];
    expect(hello.toString()).toBe('hello stranger');

    const tcp2 = netConnect(r.port, '127.0.0.1');
    await once(tcp2, 'connect');
    const wrapped = Duplex.from({ readable: tcp2, writable: tcp2 });
    const overDuplex = connect({ socket: wrapped, servername: 'localhost', ca: fx.pki.ca.certPem });
    fx.track(overDuplex);
    const [hello2] = (await once(overDuplex, 'data')) as [Buffer];
    expect(hello2.toString()).toBe('hello stranger');
    expect(overDuplex.remoteAddress).toBeUndefined();
  });

  it('throw a TypeError for an unknown group or suite name', () => {
    expect(() => connect({ port: 1, groups: ['x448'] })).toThrow(/unknown group "x448"/);
    expect(() => connect({ port: 1, cipherSuites: 'TLS_RSA_WITH_NULL_MD5' })).toThrow(/unknown or unsupported suite/);
  });
});

describe('crypto providers', () => {
  it('sockets run on node:crypto by default, on @noble with crypto: "noble"', async () => {
    const providers: string[] = [];
    const r = await serve({}, (s) => {
      providers.push(s.engine?.context.env.crypto.name ?? '?');
      greeter(s);
    });
    const byDefault = dial(r.port);
    await once(byDefault, 'data');
    expect(byDefault.engine?.context.env.crypto).toBe(nodeProvider);
    const noble = dial(r.port, { crypto: 'noble' });
    await once(noble, 'data');
    expect(noble.engine?.context.env.crypto).toBe(nobleProvider);
    expect(providers).toEqual(['node', 'node']);

    const nobleServer = await serve({ crypto: 'noble' }, (s) => {
      providers.push(s.engine?.context.env.crypto.name ?? '?');
      greeter(s);
    });
    await once(dial(nobleServer.port), 'data');
    expect(providers).toEqual(['node', 'node', 'noble']);
  });

  for (const [clientCrypto, serverCrypto] of [
    ['noble', 'node'],
    ['node', 'noble'],
  ] as const) {
    it(`a ${clientCrypto} client and a ${serverCrypto} server complete a full handshake and a resumption`, async () => {
      const r = await serve({ crypto: serverCrypto }, greeter);
      const first = dial(r.port, { crypto: clientCrypto });
      const got = sessions(first, 2);
      expect(((await once(first, 'data')) as [Buffer])[0].toString()).toBe('hello stranger');
      const [, ticket] = (await got.first) as [Buffer, Buffer];
      first.end();
      await once(first, 'close');
      const second = dial(r.port, { crypto: clientCrypto, session: ticket });
      expect(((await once(second, 'data')) as [Buffer])[0].toString()).toBe('hello again');
      expect(second.isSessionReused()).toBe(true);
    });
  }

  it('crypto, when given, replaces the provider of a given env; otherwise the env keeps its own', async () => {
    const r = await serve({}, greeter);
    const env = seededEnvironment('net-crypto-option', Date.now(), nobleProvider);
    const keeps = dial(r.port, { env });
    await once(keeps, 'data');
    expect(keeps.engine?.context.env.crypto).toBe(nobleProvider);
    const replaced = dial(r.port, { env: seededEnvironment('net-crypto-option-2', Date.now(), nobleProvider), crypto: 'node' });
    await once(replaced, 'data');
    expect(replaced.engine?.context.env.crypto).toBe(nodeProvider);
  });

  it('throw a TypeError for a crypto option that names no provider', async () => {
    expect(() => connect({ port: 1, crypto: 'openssl' as 'node' })).toThrow(/crypto must be 'node' or 'noble', got "openssl"/);
    await expect(startServer({ key: fx.pki.leaf.keyPem, cert: fx.pki.leaf.certPem, crypto: 'js' as 'node' })).rejects.toThrow(TypeError);
  });

  it('throw a TypeError for an earlyTickets option that is not a boolean', async () => {
    await expect(
      startServer({ key: fx.pki.leaf.keyPem, cert: fx.pki.leaf.certPem, earlyTickets: 'yes' as unknown as boolean }),
    ).rejects.toThrow(/^createServer: earlyTickets must be a boolean$/);
  });
});

describe('idle connections', () => {
  it('let their engines drop every carried-out command once quiet, and keep working', async () => {
    let serverSocket: TLSSocket | undefined;
    const r = await serve({}, (s) => {
      serverSocket = s;
      greeter(s);
    });
    const client = dial(r.port);
    await once(client, 'data');
    client.write('ping');
    await once(client, 'data');
    await new Promise((resolve) => setTimeout(resolve, COMPACT_AFTER_MS + 300));
    expect(client.engine?.context.outbox).toEqual([]);
    expect(serverSocket?.engine?.context.outbox).toEqual([]);
    client.write('again');
    expect(((await once(client, 'data')) as [Buffer])[0].toString()).toBe('again');
  });
});

describe('certificate problems surface as the error event with the alert', () => {
  it('a certificate for another name is bad_certificate on the client, and the server hears the alert', async () => {
    const other = await generateSelfSigned({ keyType: 'ecdsa-p256', issuer: fx.pki.ca, dnsNames: ['other.test'], ips: [] });
    const r = await serve({ key: other.keyPem, cert: other.certPem });
    const serverError = nextClientError(r.server);
    const c = dial(r.port);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const err = await nextError(c);
    expect(err.alert).toBe('bad_certificate');
    expect(err.reason).toBe('HostnameMismatch');
    expect(err.message).toMatch(/not valid for "localhost"/);
    const seen = await serverError;
    expect(seen.alert).toBe('bad_certificate');
    expect(seen.remote).toBe(true);
    await closed;
    expect(c.destroyed).toBe(true);
  });

  it('a chain from a CA the client does not trust is unknown_ca', async () => {
    const stranger = await makePki('ecdsa-p256');
    const r = await serve({ key: stranger.leaf.keyPem, cert: stranger.leaf.certPem });
    const err = await nextError(dial(r.port));
    expect(err.alert).toBe('unknown_ca');
    expect(err.reason).toBe('UnknownCa');
  });

  it('an expired certificate is certificate_expired', async () => {
    const expired = await generateSelfSigned({
      keyType: 'ecdsa-p256',
      issuer: fx.pki.ca,
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const r = await serve({ key: expired.keyPem, cert: expired.certPem });
    const err = await nextError(dial(r.port));
    expect(err.alert).toBe('certificate_expired');
  });

  it('with rejectUnauthorized false the handshake completes and authorized says what was wrong', async () => {
    const stranger = await makePki('ed25519');
    const r = await serve({ key: stranger.leaf.keyPem, cert: stranger.leaf.certPem });
    const c = dial(r.port, { rejectUnauthorized: false });
    await once(c, 'secureConnect');
    expect(c.authorized).toBe(false);
    expect(c.authorizationError).toBe('UnknownCa');
    expect(c.getPeerCertificate().subject).toEqual(expect.objectContaining({ CN: 'localhost' }));
  });

  it('a session from an unverified connection does not let a verifying connection skip validation', async () => {
    const stranger = await makePki('ecdsa-p256');
    const r = await serve({ key: stranger.leaf.keyPem, cert: stranger.leaf.certPem }, greeter);
    const lax = dial(r.port, { rejectUnauthorized: false });
    const [ticket] = (await sessions(lax, 1).first) as [Buffer];
    const strict = dial(r.port, { session: ticket });
    const warning = once(strict, 'warning');
    const err = await nextError(strict);
    expect(((await warning)[0] as Error).message).toMatch(/not trusted here \(UnknownCa\)/);
    expect(err.alert).toBe('unknown_ca');
  });

  it('a session made under another server name is not offered (RFC 8446 §4.6.1): a warning, and a full handshake follows', async () => {
    const r = await serve({}, greeter);
    const first = dial(r.port, { servername: 'localhost' });
    const [ticket] = (await sessions(first, 1).first) as [Buffer];
    expect(decodeClientSession(new Uint8Array(ticket))?.serverName).toBe('localhost');
    const other = dial(r.port, { servername: 'other.localhost', rejectUnauthorized: false, session: ticket });
    const [warning] = (await once(other, 'warning')) as [Error];
    expect(warning.message).toMatch(/made for server name "localhost", not "other\.localhost"; doing a full handshake/);
    const [greeting] = (await once(other, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
    expect(other.isSessionReused()).toBe(false);
  });

  it('a session buffer that does not decode is ignored with a warning, and a full handshake follows', async () => {
    const r = await serve({}, greeter);
    const c = dial(r.port, { session: Buffer.from('not a session') });
    const [warning] = (await once(c, 'warning')) as [Error];
    expect(warning.message).toMatch(/does not decode/);
    const [greeting] = (await once(c, 'data')) as [Buffer];
    expect(greeting.toString()).toBe('hello stranger');
  });
});

describe('client certificates', () => {
  it('a server with requestCert sees the client certificate its CA issued', async () => {
    const client = await generateSelfSigned({ keyType: 'ed25519', issuer: fx.pki.ca, dnsNames: ['client.test'], ips: [] });
    let seen: TLSSocket | undefined;
    const r = await serve({ requestCert: true, ca: fx.pki.ca.certPem }, (s) => {
      seen = s;
      s.end('ok');
    });
    const c = dial(r.port, { cert: client.certPem, key: client.keyPem });
    expect((await collect(c)).toString()).toBe('ok');
    expect(seen?.authorized).toBe(true);
    expect(seen?.getPeerCertificate().subject).toEqual(expect.objectContaining({ CN: 'client.test' }));
  });

  it('a client without a certificate is refused with certificate_required when one is required', async () => {
    const r = await serve({ requestCert: true, ca: fx.pki.ca.certPem });
    const serverError = nextClientError(r.server);
    const c = dial(r.port);
    c.on('error', () => undefined);
    const err = await serverError;
    expect(err.alert).toBe('certificate_required');
  });

  it('a client certificate from an unknown CA is refused with unknown_ca', async () => {
    const stranger = await makePki('ecdsa-p256');
    const r = await serve({ requestCert: true, ca: fx.pki.ca.certPem });
    const serverError = nextClientError(r.server);
    const c = dial(r.port, { cert: stranger.leaf.certPem, key: stranger.leaf.keyPem });
    c.on('error', () => undefined);
    expect((await serverError).alert).toBe('unknown_ca');
  });

  it('with rejectUnauthorized false the server accepts a client without a certificate and reports it', async () => {
    let seen: TLSSocket | undefined;
    const r = await serve({ requestCert: true, rejectUnauthorized: false, ca: fx.pki.ca.certPem }, (s) => {
      seen = s;
      s.end('ok');
    });
    expect((await collect(dial(r.port))).toString()).toBe('ok');
    expect(seen?.authorized).toBe(false);
    expect(seen?.authorizationError).toBe('NoPeerCertificate');
  });
});

describe('key log', () => {
  it('client and server log the same five NSS lines for a connection', async () => {
    const serverLines: string[] = [];
    const r = await serve();
    r.server.on('keylog', (line: Buffer) => serverLines.push(line.toString()));
    const clientLines: string[] = [];
    const c = dial(r.port, { keylog: (line) => clientLines.push(line.toString()) });
    await once(c, 'secureConnect');
    c.end();
    await once(c, 'close');
    expect(clientLines.map((l) => l.split(' ')[0]).sort()).toEqual([
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
      'CLIENT_TRAFFIC_SECRET_0',
      'EXPORTER_SECRET',
      'SERVER_HANDSHAKE_TRAFFIC_SECRET',
      'SERVER_TRAFFIC_SECRET_0',
    ]);
    for (const l of clientLines) expect(l).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64}\n$/);
    expect([...serverLines].sort()).toEqual([...clientLines].sort());
  });

  it('logs a connection for the server only if the server had a keylog listener when it arrived; a client socket logs for a listener added after connect()', async () => {
    const serverLines: string[] = [];
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    const r = await serve();
    r.server.once('connection', () => firstArrived());
    const first = dial(r.port);
    const firstClientLines: string[] = [];
    first.on('keylog', (line: Buffer) => firstClientLines.push(line.toString()));
    await arrived;
    // Added after the first connection arrived (its ClientHello may not even be read yet).
    r.server.on('keylog', (line: Buffer) => serverLines.push(line.toString()));
    await once(first, 'secureConnect');
    first.end();
    await once(first, 'close');
    expect(firstClientLines).toHaveLength(5);
    expect(serverLines).toEqual([]);
    const second = dial(r.port);
    await once(second, 'secureConnect');
    second.end();
    await once(second, 'close');
    expect(serverLines).toHaveLength(5);
    expect(serverLines.every((l) => !firstClientLines.includes(l))).toBe(true);
  });

  it("makes the lines for a listener of the socket's engine connection, with no keylog listener on the socket", async () => {
    const r = await serve();
    const lines: string[] = [];
    const c = dial(r.port, {
      inspector: (conn) => {
        const stop = keylogTo(conn, (line) => lines.push(line));
        return { stop };
      },
    });
    await once(c, 'secureConnect');
    c.end();
    await once(c, 'close');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(KEYLOG_LINE);
  });
});
