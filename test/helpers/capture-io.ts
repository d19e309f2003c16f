import type { Io } from "../../src/cli/io.js";

/** An Io that records what a command printed, for in-process CLI tests. */
export function captureIo(options: { color?: boolean } = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    color: options.color ?? false,
    interactive: false,
  };
}
