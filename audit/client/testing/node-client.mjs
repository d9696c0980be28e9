// A node:tls client for `tlschart audit client --exec`: three connections,
// each passing the newest session (one 'session' event per TLS 1.3 ticket)
// of the one before it, the later two under the second server name.
//
//   node node-client.mjs HOST PORT SERVERNAME SERVERNAME2
//
// Each connection waits for its tickets, then ends (node:tls only reads
// NewSessionTickets while reading, so it reads until 200 ms pass without a
// ticket or the server closes). One line per connection on stdout.
import tls from 'node:tls';

const [host, port, first, second] = process.argv.slice(2);

function connect(n, servername, session) {
  return new Promise((resolve) => {
    const sessions = [];
    let quiet;
    // Asked at secureConnect: node (20.x) crashes when isSessionReused() is called on a socket whose handshake failed.
    let reused = false;
    const socket = tls.connect({
      host,
      port: Number(port),
      servername,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ...(session ? { session } : {}),
    });
    const end = () => socket.end();
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      quiet = setTimeout(end, 300);
    });
    socket.on('session', (s) => {
      sessions.push(s);
      clearTimeout(quiet);
      quiet = setTimeout(end, 200);
    });
    socket.on('data', () => undefined);
    socket.on('error', (e) => console.log(`conn=${n} error=${JSON.stringify(e.message)}`));
    socket.on('close', () => {
      clearTimeout(quiet);
      console.log(`conn=${n} servername=${servername} reused=${reused} sessions=${sessions.length}`);
      resolve(sessions.at(-1));
    });
  });
}

let session = await connect(1, first, undefined);
session = (await connect(2, second, session)) ?? undefined;
await connect(3, second, session);
