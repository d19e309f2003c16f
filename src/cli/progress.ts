import type { Io } from "./io.js";

/** A one-line progress indicator for long work. */
export interface Progress {
  /** Replaces the line's text (drawn at most every 100 ms). */
  update(text: string): void;
  /** Erases the line. */
  done(): void;
}

/**
 * A progress line on stderr, drawn only when stderr is a TTY so logs and pipes stay clean.
 */
export function progressLine(io: Io): Progress {
  if (!io.interactive) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[2K${text}`);
    },
    done() {
      if (shown) process.stderr.write("\r\x1b[2K");
      shown = false;
    },
  };
}
