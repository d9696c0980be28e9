// X25519MLKEM768 computed with Deno's own WebCrypto (ML-KEM-768 and X25519), an implementation
// independent of tlschart's, in the layout of draft-ietf-tls-ecdhe-mlkem §3.1:
//   client share = ML-KEM-768 encapsulation key ‖ X25519 public key
//   server share = ML-KEM-768 ciphertext ‖ X25519 public key
//   secret       = ML-KEM-768 shared secret ‖ X25519 shared secret
// Reads one JSON request on stdin, writes one JSON answer on stdout; all bytes as hex.
//   {"op":"clientShare","seed":S,"x25519Private":X}              -> {"share"}
//   {"op":"clientSecret","seed":S,"x25519Private":X,"serverShare"} -> {"secret"}
//   {"op":"serverAccept","clientShare":C}                         -> {"share","secret"} (fresh randomness)
const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
};
const subtle = crypto.subtle;
const MLKEM = { name: 'ML-KEM-768' };
const X25519 = { name: 'X25519' };
// PKCS#8 PrivateKeyInfo for an X25519 private key (RFC 8410 §7): this prefix, then the 32 bytes.
const X25519_PKCS8_PREFIX = bytes('302e020100300506032b656e04220420');

async function clientKeys(seed, x25519Private) {
  const kemPrivate = await subtle.importKey('raw-seed', bytes(seed), MLKEM, true, ['decapsulateBits']);
  const kemPublic = await subtle.getPublicKey(kemPrivate, ['encapsulateBits']);
  const xPrivate = await subtle.importKey('pkcs8', concat(X25519_PKCS8_PREFIX, bytes(x25519Private)), X25519, true, ['deriveBits']);
  const xPublic = await subtle.getPublicKey(xPrivate, []);
  return { kemPrivate, kemPublic, xPrivate, xPublic };
}

const x25519Public = (raw) => subtle.importKey('raw', raw, X25519, true, []);

async function answer(req) {
  switch (req.op) {
    case 'clientShare': {
      const k = await clientKeys(req.seed, req.x25519Private);
      return { share: hex(concat(await subtle.exportKey('raw-public', k.kemPublic), await subtle.exportKey('raw', k.xPublic))) };
    }
    case 'clientSecret': {
      const k = await clientKeys(req.seed, req.x25519Private);
      const share = bytes(req.serverShare);
      const kem = await subtle.decapsulateBits(MLKEM, k.kemPrivate, share.subarray(0, 1088));
      const x = await subtle.deriveBits({ name: 'X25519', public: await x25519Public(share.subarray(1088)) }, k.xPrivate, 256);
      return { secret: hex(concat(kem, x)) };
    }
    case 'serverAccept': {
      const share = bytes(req.clientShare);
      const ek = await subtle.importKey('raw-public', share.subarray(0, 1184), MLKEM, true, ['encapsulateBits']);
      const { ciphertext, sharedKey } = await subtle.encapsulateBits(MLKEM, ek);
      const mine = await subtle.generateKey(X25519, true, ['deriveBits']);
      const x = await subtle.deriveBits({ name: 'X25519', public: await x25519Public(share.subarray(1184)) }, mine.privateKey, 256);
      return { share: hex(concat(ciphertext, await subtle.exportKey('raw', mine.publicKey))), secret: hex(concat(sharedKey, x)) };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

const input = await new Response(Deno.stdin.readable).text();
console.log(JSON.stringify(await answer(JSON.parse(input))));
