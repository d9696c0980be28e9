/** An in-process CliIo for the CLI tests: collects what a command prints and can wait for a line. */
import type { CliIo } from '../io.js';

export interface Captured extends CliIo {
  out: string;
  err: string;
  /** Resolves with the first stdout match of `re` (waits for it). */
  waitFor(re: RegExp, within?: number): Promise<RegExpExecArray>;
}

export function capture(signal?: AbortSignal): Captured {
  const waiters: Array<() => void> = [];
  const io: Captured = {
    out: '',
    err: '',
    stdout(t) {
      io.out += t;
      for (const w of waiters.splice(0)) w();
    },
    stderr(t) {
      io.err += t;
    },
    waitFor(re, within = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in output: ${io.out}`)), within);
        const check = () => {
          const m = re.exec(io.out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          } else waiters.push(check);
        };
        check();
      });
    },
    ...(signal ? { signal } : {}),
  };
  return io;
}
