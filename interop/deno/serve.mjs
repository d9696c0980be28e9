// Deno.serve over TLS (rustls) on 127.0.0.1 and a free port, with CERT and KEY (PEM files); prints
// "listening port=N" and answers every request with one line of text. Runs until killed.
// Usage: deno run --allow-net=127.0.0.1 --allow-read=DIR serve.mjs CERT KEY
const [certFile, keyFile] = Deno.args;
Deno.serve(
  {
    hostname: '127.0.0.1',
    port: 0,
    cert: Deno.readTextFileSync(certFile),
    key: Deno.readTextFileSync(keyFile),
    onListen: ({ port }) => console.log(`listening port=${port}`),
  },
  () => new Response('hello from deno\n', { headers: { connection: 'close' } }),
);
