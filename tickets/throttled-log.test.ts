import { describe, expect, it } from 'vitest';
import { ThrottledLog } from './throttled-log.js';

function setup(intervalMs = 1000): { log: ThrottledLog; lines: string[]; at: (t: number) => void } {
  let t = 0;
  const lines: string[] = [];
  const log = new ThrottledLog({ write: (l) => lines.push(l), intervalMs, now: () => t });
  return { log, lines, at: (v) => (t = v) };
}

describe('ThrottledLog', () => {
  it('writes the first failure, counts the ones within the interval, and writes the next one with the count', () => {
    const { log, lines, at } = setup();
    log.failure('down');
    at(500);
    log.failure('down');
    at(999);
    log.failure('down');
    expect(lines).toEqual(['down']);
    at(1000);
    log.failure('still down');
    expect(lines).toEqual(['down', 'still down (and 2 more failure(s) since the last report)']);
  });

  it('writes a recovery line only to close an outage it announced', () => {
    const { log, lines, at } = setup();
    log.recovered('up');
    expect(lines).toEqual([]);
    log.failure('down');
    at(10);
    log.failure('down');
    log.recovered('up');
    log.recovered('up');
    expect(lines).toEqual(['down', 'up (after 1 more failure(s) since the last report)']);
  });

  it('keeps a flapping service to one failure line and one recovery line per interval', () => {
    const { log, lines, at } = setup();
    for (let t = 0; t < 3000; t += 100) {
      at(t);
      log.failure('down');
      at(t + 50);
      log.recovered('up');
    }
    expect(lines.filter((l) => l.startsWith('down'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('up'))).toHaveLength(3);
  });

  it('refuses a negative interval', () => {
    expect(() => new ThrottledLog({ write: () => undefined, intervalMs: -1 })).toThrow(RangeError);
  });
});
