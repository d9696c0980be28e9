/** What a command talks to, so the CLI runs the same in-process (tests) and as a process. */

export interface CliIo {
  /** Writes text as is (add '\n' yourself). */
  stdout(text: string): void;
  stderr(text: string): void;
  /** Long-running commands (serve) stop when this aborts; the process wires SIGINT/SIGTERM to it. */
  signal?: AbortSignal;
}

/** Bad usage: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command that ran and failed: one line on stderr, exit code 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** One line, whatever the message holds. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
