import { describe, expect, it } from "vitest";
import { progressLine } from "../../src/cli/progress.js";
import { captureIo } from "../helpers/capture-io.js";

/** What one update + done of a progress line writes to stderr, for an Io on a TTY or not. */
function stderrWrites(interactive: boolean): string[] {
  const io = { ...captureIo(), interactive };
  const writes: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => writes.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const progress = progressLine(io);
    progress.update("working 1/2");
    progress.done();
  } finally {
    process.stderr.write = original;
  }
  return writes;
}

describe("progressLine", () => {
  it("draws nothing when stderr is not a TTY, so logs and pipes stay clean", () => {
    expect(stderrWrites(false)).toEqual([]);
  });

  it("draws and erases one line on a TTY", () => {
    expect(stderrWrites(true)).toEqual(["\r\x1b[2Kworking 1/2", "\r\x1b[2K"]);
  });
});
