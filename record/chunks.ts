/**
 * The bytes of a batch of protected records as chunks for one gathered write
 * (writev): each record's ciphertext as the cipher produced it, not copied
 * into a joined buffer, and the small pieces between them — a record header,
 * the encrypted type byte, the tag — copied side by side into shared slabs,
 * so that a record of 2^14 bytes adds two chunks, not four.
 */

/** Pieces up to this size are copied into a slab; larger ones are handed on as they are. */
export const SMALL_PIECE = 64;

export class ChunkList {
  private readonly chunks: Uint8Array[] = [];
  private slab: Uint8Array = new Uint8Array(0);
  /** Where the slab bytes not yet handed on as a chunk start. */
  private start = 0;
  /** The end of the slab bytes written so far. */
  private at = 0;
  private total = 0;

  /** `slabSize`: the room of a slab (more is taken when a piece needs it). */
  constructor(private readonly slabSize: number) {}

  /** Bytes appended so far. */
  get length(): number {
    return this.total;
  }

  /**
   * `n` bytes at the end, for the caller to write at once (a record header,
   * which is also the additional data its sealing reads): they stay where they
   * are, and nothing is written after them before they are filled.
   */
  reserve(n: number): Uint8Array {
    if (this.at + n > this.slab.length) this.newSlab(n);
    const bytes = this.slab.subarray(this.at, this.at + n);
    this.at += n;
    this.total += n;
    return bytes;
  }

  /** Append `piece`: copied when small, else kept as it is (the caller hands it over and never writes it again). */
  add(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (piece.length <= SMALL_PIECE) {
      this.reserve(piece.length).set(piece);
      return;
    }
    this.handOnSlab();
    this.chunks.push(piece);
    this.total += piece.length;
  }

  /** Everything appended, in order (the list is not to be used afterwards). */
  finish(): Uint8Array[] {
    this.handOnSlab();
    return this.chunks;
  }

  /** The slab bytes written since the last chunk become a chunk. */
  private handOnSlab(): void {
    if (this.at > this.start) this.chunks.push(this.slab.subarray(this.start, this.at));
    this.start = this.at;
  }

  private newSlab(atLeast: number): void {
    this.handOnSlab();
    // Every byte of a slab is written before it is handed on: taken uninitialised. (A Buffer, as
    // node:crypto's pieces are, so the socket writes its views as they are.)
    this.slab = Buffer.allocUnsafe(Math.max(this.slabSize, atLeast));
    this.start = 0;
    this.at = 0;
  }
}
