import { reviveError } from "../internal/serialize-error.js";
import type { CallOutcome } from "./child.js";
import {
  IsolateCrashedError,
  IsolateExitedError,
  IsolateOutOfMemoryError,
  IsolateSerializationError,
} from "./errors.js";
import { markExecution } from "./execution.js";
import type { ChildStats } from "./protocol.js";

/** Why the parent itself stopped a child, if it did: that reason wins over how the child died. */
export type KillReason = { readonly kind: "timeout" | "abort" | "rss"; readonly error: Error } | undefined;

/** What the caller gets: a value with the child's figures, or an error to reject with. */
export type Settled =
  | { readonly ok: true; readonly value: unknown; readonly stats: ChildStats | undefined }
  | { readonly ok: false; readonly error: unknown };

// A single allocation the engine refused is an out-of-memory condition, not a bug in the function.
const ALLOCATION_FAILED = /Array buffer allocation failed|Invalid (typed )?array (buffer )?length|Allocation failed/i;

const VIEWS: Record<string, new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** Views bytes the child left in shared memory as the type its result had. */
function asBinary(bytes: Buffer, view: string): unknown {
  if (view === "Buffer") return bytes;
  // allocUnsafeSlow gives the bytes an ArrayBuffer of their own, at offset 0.
  const buffer = bytes.buffer as ArrayBuffer;
  if (view === "ArrayBuffer") return buffer;
  const View = VIEWS[view] ?? Uint8Array;
  const size = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new View(buffer, 0, buffer.byteLength / size);
}

/**
 * Turns what a child did into the call's result. Every outcome maps to exactly one settlement,
 * so every call settles whatever the child does.
 */
export function settle(
  readScratch: (path: string, length: number) => Buffer,

  outcome: CallOutcome,
  killed: KillReason,
  limitMb: number | undefined,
  peakRssMb: number,
): Settled {
  if (killed !== undefined && outcome.type === "exit") return { ok: false, error: killed.error };
  switch (outcome.type) {
    case "value":
    case "file":
      return {
        ok: true,
        value:
          outcome.type === "file" ? asBinary(readScratch(outcome.file, outcome.length), outcome.view) : outcome.value,
        stats: outcome.stats,
      };
    case "threw": {
      const error = reviveError(outcome.error);
      if (error instanceof RangeError && ALLOCATION_FAILED.test(error.message)) {
        return { ok: false, error: new IsolateOutOfMemoryError("allocation", limitMb, peakRssMb, "", error) };
      }
      markExecution(error, "ran");
      return { ok: false, error };
    }
    case "unserializable":
      return { ok: false, error: new IsolateSerializationError("result", outcome.path, outcome.detail) };
    case "exit": {
      const { exit } = outcome;
      if (exit.outOfMemory)
        return { ok: false, error: new IsolateOutOfMemoryError("heap", limitMb, peakRssMb, exit.stderr) };
      if (exit.signal !== null)
        return { ok: false, error: new IsolateCrashedError(exit.code, exit.signal, exit.stderr) };
      return { ok: false, error: new IsolateExitedError(exit.code ?? 0) };
    }
  }
}
