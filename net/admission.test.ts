import { describe, expect, it } from 'vitest';
import { type Admitted, EventLoopTurns, HandshakeAdmission } from './admission.js';

const release = (a: Admitted): void => {
  if (!a.ok) throw new Error(`not admitted: ${a.why}`);
  a.release();
};

describe('HandshakeAdmission', () => {
  it('admits up to maxHandshakes at once, queues up to queue more, refuses the rest as busy', async () => {
    const adm = new HandshakeAdmission(2, 1);
    const a = await adm.acquire();
    const b = await adm.acquire();
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(adm.saturated).toBe(false);
    const waiting = adm.acquire();
    expect(adm.saturated).toBe(true);
    expect(await adm.acquire()).toEqual({ ok: false, why: 'busy' });
    expect(adm.stats()).toEqual({ admitted: 2, refused: 1, dropped: 0, running: 2, waiting: 1 });
    release(a);
    const c = await waiting;
    expect(c.ok).toBe(true);
    expect(adm.stats()).toMatchObject({ admitted: 3, running: 2, waiting: 0 });
    release(b);
    release(c);
    expect(adm.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('serves waiters first come, first served', async () => {
    const adm = new HandshakeAdmission(1, 3);
    const first = await adm.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      adm.acquire().then((a) => {
        order.push(n);
        return a;
      }),
    );
    release(first);
    release(await (waits[0] as Promise<Admitted>));
    release(await (waits[1] as Promise<Admitted>));
    release(await (waits[2] as Promise<Admitted>));
    expect(order).toEqual([1, 2, 3]);
  });

  it('takes a waiter whose connection closed out of the queue, so it holds no place', async () => {
    const adm = new HandshakeAdmission(1, 1);
    const first = await adm.acquire();
    const closed = new AbortController();
    const waiting = adm.acquire(closed.signal);
    expect(adm.saturated).toBe(true);
    closed.abort();
    expect(await waiting).toEqual({ ok: false, why: 'closed' });
    expect(adm.stats()).toMatchObject({ dropped: 1, waiting: 0 });
    const next = adm.acquire();
    release(first);
    expect((await next).ok).toBe(true);
    expect(await adm.acquire(AbortSignal.abort())).toEqual({ ok: false, why: 'closed' });
  });

  it('counts a release once, however often it is called', async () => {
    const adm = new HandshakeAdmission(1, 0);
    const a = await adm.acquire();
    if (!a.ok) throw new Error('not admitted');
    a.release();
    a.release();
    expect(adm.stats().running).toBe(0);
    const b = await adm.acquire();
    const c = await adm.acquire();
    expect([b.ok, c.ok]).toEqual([true, false]);
  });

  it('rejects sizes that are not whole numbers in range', () => {
    expect(() => new HandshakeAdmission(0, 1)).toThrow(RangeError);
    expect(() => new HandshakeAdmission(1, -1)).toThrow(RangeError);
    expect(() => new HandshakeAdmission(1.5, 1)).toThrow(RangeError);
  });
});

describe('EventLoopTurns', () => {
  it('grants at most one turn per turn of the event loop, first come first served', async () => {
    let iteration = 0;
    let ticking = true;
    const tick = () => {
      iteration++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turns = new EventLoopTurns();
    const granted: Array<{ who: number; iteration: number }> = [];
    await Promise.all(
      [1, 2, 3, 4, 5].map((who) =>
        turns.next().then((ok) => {
          expect(ok).toBe(true);
          granted.push({ who, iteration });
        }),
      ),
    );
    ticking = false;
    expect(granted.map((g) => g.who)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(granted.map((g) => g.iteration)).size).toBe(5);
  });

  it('leaves pollsPerTurn turns of the event loop between two turns', async () => {
    let iteration = 0;
    let ticking = true;
    const tick = () => {
      iteration++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turns = new EventLoopTurns(3);
    const at: number[] = [];
    await Promise.all([1, 2, 3].map(() => turns.next().then(() => at.push(iteration))));
    ticking = false;
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(3);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(3);
    expect(() => new EventLoopTurns(0)).toThrow(RangeError);
  });

  it('skips a waiter whose connection closed, without spending a turn on it', async () => {
    const turns = new EventLoopTurns();
    const closed = new AbortController();
    const order: string[] = [];
    const a = turns.next(closed.signal).then((ok) => order.push(`a ${ok}`));
    const b = turns.next().then((ok) => order.push(`b ${ok}`));
    closed.abort();
    await Promise.all([a, b]);
    expect(order).toEqual(['a false', 'b true']);
    expect(await turns.next(AbortSignal.abort())).toBe(false);
    expect(turns.waiting).toBe(0);
  });
});
