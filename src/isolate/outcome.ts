import { readFileSync, rmSync } from "node:fs";
import { deserialize } from "node:v8";
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

function decodeValue(outcome: Extract<CallOutcome, { type: "value" | "file" }>): unknown {
  if (outcome.type === "file") {
    try {
      return deserialize(readFileSync(outcome.file));
    } finally {
      rmSync(outcome.file, { force: true });
    }
  }
  return outcome.value instanceof Uint8Array ? deserialize(outcome.value) : outcome.value;
}

/**
 * Turns what a child did into the call's result. Every outcome maps to exactly one settlement,
 * so every call settles whatever the child does.
 */
export function settle(
  outcome: CallOutcome,
  mode: "process" | "worker",
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
        value: mode === "process" || outcome.type === "file" ? decodeValue(outcome) : outcome.value,
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
