/**
 * The x25519 public values every scalar sends to zero (RFC 7748 §6.1), so a
 * share can be refused before any scalar multiplication, by both providers
 * alike (@noble refuses the same list before its ladder).
 */

/** p = 2^255 - 19. */
const P = 2n ** 255n - 19n;

/**
 * The u-coordinates whose order divides the cofactor, on Curve25519 and its
 * twist: 0, 1, p - 1 and the two points of order 8.
 */
const LOW_ORDER_U: readonly bigint[] = [
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
];

const le32 = (u: bigint): Buffer => Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse();

/**
 * Their 32-byte little-endian encodings with the top bit clear (RFC 7748 §5
 * masks it), plus p and p + 1: a receiver reduces mod p, and no other value
 * from p to 2^255 - 1 reduces to one of them.
 */
const ENCODINGS: readonly Buffer[] = [...LOW_ORDER_U, P, P + 1n].map(le32);

/** Is this 32-byte x25519 share one of low order (the shared secret would be all zeros)? */
export function isLowOrderX25519(share: Uint8Array): boolean {
  if (share.length !== 32) return false;
  const masked = Buffer.from(share);
  masked[31] = (masked[31] as number) & 0x7f;
  return ENCODINGS.some((e) => e.equals(masked));
}
