import { describe, expect, it } from 'vitest';
import { concat } from '../crypto/bytes.js';
import { ChunkList, SMALL_PIECE } from './chunks.js';
import { counting } from './testing/support.js';

describe('ChunkList', () => {
  it('keeps large pieces as they are and copies the small ones between them side by side', () => {
    const list = new ChunkList(64);
    const header = list.reserve(5);
    header.set([23, 3, 3, 0, 9]);
    const big = counting(SMALL_PIECE + 1, 1);
    list.add(big);
    list.add(counting(1, 2));
    list.add(counting(16, 3));
    list.add(list.reserve(0));
    const next = list.reserve(5);
    next.set([23, 3, 3, 1, 0]);
    const big2 = counting(300, 4);
    list.add(big2);
    list.add(counting(16, 5));
    const chunks = list.finish();
    // header | big | type byte, tag and next header | big2 | tag
    expect(chunks.map((c) => c.length)).toEqual([5, SMALL_PIECE + 1, 1 + 16 + 5, 300, 16]);
    expect(chunks[1]).toBe(big);
    expect(chunks[3]).toBe(big2);
    expect(concat(...chunks)).toEqual(
      concat(Uint8Array.of(23, 3, 3, 0, 9), big, counting(1, 2), counting(16, 3), Uint8Array.of(23, 3, 3, 1, 0), big2, counting(16, 5)),
    );
    expect(list.length).toBe(5 + SMALL_PIECE + 1 + 22 + 300 + 16);
  });

  it('takes a new slab when one is full, without moving or overwriting the bytes already handed out', () => {
    const list = new ChunkList(8);
    const pieces = Array.from({ length: 20 }, (_, i) => counting(1 + (i % 7), i));
    const views = pieces.map((p) => {
      const view = list.reserve(p.length);
      view.set(p);
      return view;
    });
    const chunks = list.finish();
    expect(concat(...chunks)).toEqual(concat(...pieces));
    // What reserve() gave still holds what was written into it.
    expect(views.map((v) => Array.from(v))).toEqual(pieces.map((p) => Array.from(p)));
    expect(chunks.every((c) => c.length <= 8)).toBe(true);
  });

  it('gives no chunk for nothing appended and none for empty pieces', () => {
    const list = new ChunkList(16);
    list.add(new Uint8Array(0));
    expect(list.finish()).toEqual([]);
  });
});
