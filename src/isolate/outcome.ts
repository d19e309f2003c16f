import { reviveError } from "../internal/serialize-error.js";
import { typedArrayNamed } from "../internal/typed-arrays.js";
import type { CallOutcome, StartFailure } from "./child.js";
import {
  type Execution,
  IsolateAbortedError,
  IsolateCrashedError,
  IsolateExitedError,
  IsolateLoadError,
  IsolateOutOfMemoryError,
  IsolateSerializationError,
  IsolateStartError,
  IsolateTimeoutError,
} from "./errors.js";
import { markExecution } from "./execution.js";
import type { ChildStats } from "./protocol.js";

/**
 * The outcome model: every way a call can end maps to exactly one settlement, so every call
 * settles whatever the child does, and each error says whether the function ran.
 *
 * | what happened                                   | settlement                               | execution      |
 * |-------------------------------------------------|------------------------------------------|----------------|
 * | the function returned                           | its value                                | (ran)          |
 * | the function threw (any error, RangeError too)  | that error, revived as itself            | "ran"          |
 * | its result cannot be cloned                     | IsolateSerializationError                | "ran"          |
 * | the task's module/source failed to load         | IsolateLoadError (phase "load")          | "not-run"      |
 * | the child could not start / died booting        | IsolateStartError (phase "spawn"/"boot") | "not-run"      |
 * | the parent killed it (timeout, abort, rss)      | timeout / aborted / OOM "rss"            | by "entered"   |
 * | V8's fatal OOM, worker OOM, kernel OOM killer   | IsolateOutOfMemoryError "heap"/"system"  | by "entered"   |
 * | a signal                                        | IsolateCrashedError                      | by "entered"   |
 * | process.exit(n) inside the function             | IsolateExitedError                       | "ran"          |
 *
 * "by entered": "may-have-run" when the child had said it was entering the function, else
 * "not-run" (it died before the function started: safe to retry).
 */

/** Why the parent itself stopped a child, if it did: that reason wins over how the child died. */
export type KillReason =
  | { readonly kind: "timeout"; readonly timeoutMs: number }
  | { readonly kind: "abort"; readonly reason: unknown }
  | { readonly kind: "rss"; readonly limitMb: number }
  | undefined;

/** What the caller gets: a value with the child's figures, or an error to reject with. */
export type Settled =
  | { readonly ok: true; readonly value: unknown; readonly stats: ChildStats | undefined }
  | { readonly ok: false; readonly error: unknown };

/** Views bytes the child left in shared memory as the type its result had. */
function asBinary(bytes: Buffer, view: string): unknown {
  if (view === "Buffer") return bytes;
  // allocUnsafeSlow gives the bytes an ArrayBuffer of their own, at offset 0.
  const buffer = bytes.buffer as ArrayBuffer;
  if (view === "ArrayBuffer") return buffer;
  const View = typedArrayNamed(view) ?? Uint8Array;
  const size = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new View(buffer, 0, buffer.byteLength / size);
}

/** The error for a child the parent stopped. */
function killedError(killed: NonNullable<KillReason>, execution: Execution, peakRssMb: number): Error {
  if (killed.kind === "timeout") return new IsolateTimeoutError(killed.timeoutMs, execution);
  if (killed.kind === "abort") return new IsolateAbortedError(execution, killed.reason);
  return new IsolateOutOfMemoryError("rss", killed.limitMb, peakRssMb, "", execution);
}

/** The error for a child that died by itself while a call was waiting on it. */
function exitError(outcome: Extract<CallOutcome, { type: "exit" }>, limitMb: number | undefined, peakRssMb: number) {
  const { exit, entered } = outcome;
  const execution: Execution = entered ? "may-have-run" : "not-run";
  if (exit.outOfMemory !== undefined)
    return new IsolateOutOfMemoryError(exit.outOfMemory, limitMb, peakRssMb, exit.stderr, execution);
  if (exit.signal !== null || !entered) return new IsolateCrashedError(exit.code, exit.signal, exit.stderr, execution);
  return new IsolateExitedError(exit.code ?? 0);
}

/** The error for a child that never became ready. */
export function startError(failure: StartFailure): IsolateStartError {
  return new IsolateStartError(failure.phase, failure.code, failure.signal, failure.stderr, failure.cause);
}

/**
 * Turns what a child did into the call's result.
 *
 * @param readScratch Reads a large binary result the child left in a scratch file.
 * @param outcome The child's answer, or its exit.
 * @param killed Why the parent stopped the child, if it did.
 * @param limitMb The memory limit, for OOM errors.
 * @param peakRssMb The highest resident memory seen, for OOM errors.
 */
export function settle(
  readScratch: (path: string, length: number) => Buffer,
  outcome: CallOutcome,
  killed: KillReason,
  limitMb: number | undefined,
  peakRssMb: number,
): Settled {
  switch (outcome.type) {
    case "value":
      return { ok: true, value: outcome.value, stats: outcome.stats };
    case "file":
      return {
        ok: true,
        value: asBinary(readScratch(outcome.file, outcome.length), outcome.view),
        stats: outcome.stats,
      };
    case "threw": {
      const error = reviveError(outcome.error);
      markExecution(error, "ran");
      return { ok: false, error };
    }
    case "load-failed":
      return { ok: false, error: new IsolateLoadError(outcome.module, reviveError(outcome.error)) };
    case "unserializable":
      return { ok: false, error: new IsolateSerializationError("result", outcome.path, outcome.detail) };
    case "exit": {
      const execution: Execution = outcome.entered ? "may-have-run" : "not-run";
      if (killed !== undefined) return { ok: false, error: killedError(killed, execution, peakRssMb) };
      return { ok: false, error: exitError(outcome, limitMb, peakRssMb) };
    }
  }
}

/**
 * A `ReferenceError` for a name the child does not have, thrown by a function sent as source
 * text, most likely means the function used a variable of the caller's scope that the check
 * before spawning let through (it errs on the side of letting functions through). The error
 * stays itself; it gains a `hint` naming the variable and the two fixes.
 */
export function addClosureHint(error: unknown): void {
  if (!(error instanceof ReferenceError)) return;
  const name = /^(\S+) is not defined$/.exec(error.message)?.[1];
  if (name === undefined || "hint" in error) return;
  Object.assign(error, {
    hint: `\`${name}\` does not exist in the child: if it is a variable of the caller's scope, pass it as an argument ({ args: [${name}] }) or move the code into a module and use { module, export }`,
  });
}
