// Deno's fetch (rustls) against ORIGIN: one GET per PATH, each printed as "PATH STATUS BODY" on one line
// (newlines of the body shown as " | "). Deno's default TLS groups and session resumption are used as they are.
// Usage: deno run --allow-net=localhost --unsafely-ignore-certificate-errors=localhost fetch.mjs ORIGIN PATH...
const [origin, ...paths] = Deno.args;
for (const path of paths) {
  const response = await fetch(new URL(path, origin));
  const body = await response.text();
  console.log(`${path} ${response.status} ${body.trim().replaceAll('\n', ' | ')}`);
}
