import { styleText } from "node:util";

/** Where a command writes, and whether it may use colour. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** True when stdout is a TTY and NO_COLOR is unset. */
  readonly color: boolean;
  /** True when stderr is a TTY: progress lines are drawn only then. */
  readonly interactive: boolean;
}

type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan";

/** Wraps `text` in ANSI style only when the Io allows colour (pipes and NO_COLOR stay plain). */
export function paint(io: Io, style: Style, text: string): string {
  return io.color ? styleText(style, text) : text;
}

/**
 * Ends the process quietly when the reader of stdout goes away (`memkit demo | head -1`): what is
 * left to print has no reader, so stop, with status 0 as the output so far was fine. Without this,
 * Node throws an unhandled EPIPE with a stack trace. Other stream errors are still thrown.
 */
export function exitQuietlyOnClosedPipe(): void {
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  };
  process.stdout.on("error", onError);
  process.stderr.on("error", onError);
}

/** The process's own Io: colour only on a TTY without NO_COLOR (or with FORCE_COLOR set). */
export function processIo(): Io {
  exitQuietlyOnClosedPipe();
  const env = process.env;
  const color =
    env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0"
      ? true
      : Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    color,
    interactive: Boolean(process.stderr.isTTY),
  };
}
