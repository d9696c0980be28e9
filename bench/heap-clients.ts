/**
 * The client half of the idle-connection heap benchmark, run as a child
 * process so its sockets do not count in the server's heap. Told a port and a
 * CA, it opens `count` node:tls connections, completes each handshake and one
 * echoed byte, keeps them all open and says 'ready'; on 'close' it closes them.
 */
import * as tls from 'node:tls';

interface Start {
  port: number;
  ca: string;
  count: number;
}

const open: tls.TLSSocket[] = [];

function one(start: Start): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port: start.port, servername: 'localhost', ca: start.ca, minVersion: 'TLSv1.3' }, () =>
      c.write('x'),
    );
    c.on('error', reject);
    c.once('data', () => {
      open.push(c);
      resolve();
    });
  });
}

process.on('message', (m: ({ type: 'start' } & Start) | { type: 'close' }) => {
  if (m.type === 'start') {
    void (async () => {
      try {
        for (let i = 0; i < m.count; i++) await one(m);
        process.send?.({ type: 'ready' });
      } catch (e) {
        process.send?.({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    })();
  } else {
    for (const c of open.splice(0)) c.destroy();
    process.disconnect();
  }
});
