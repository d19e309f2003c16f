/**
 * Entry point of an isolated child process: waits for run messages over IPC, runs each task and
 * sends back its value, what it threw, or where the unserializable part of the result is.
 */
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { binaryResult } from "./binary-result.js";
import type { ChildMessage, RunMessage, WatchMessage } from "./protocol.js";
import { runTask, serializeError, startStats, taskOrigin } from "./run-task.js";
import { findUnserializable } from "./serializable.js";
import { startParentWatchdog } from "./watchdog.js";

/** Sends a message; with advanced serialization this throws at once when it cannot be cloned. */
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

/**
 * Writes a large binary result as raw bytes into the parent's scratch file (shared memory),
 * over whatever an earlier call left there: no serialization, no 64 KiB pipe chunks.
 */
function writeScratch(path: string, bytes: Uint8Array): void {
  // Read-write without truncation: the pages already in the file are overwritten, not reallocated.
  // The parent created the file exclusively; never create it here, never follow a link.
  const fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
  } finally {
    closeSync(fd);
  }
}

const markerPath = process.env.MEMKIT_ISOLATE_MARKER;
delete process.env.MEMKIT_ISOLATE_MARKER;
const marker = markerPath === undefined ? undefined : openSync(markerPath, constants.O_RDWR | constants.O_NOFOLLOW);
const enteredId = Buffer.alloc(8);

async function handle(message: RunMessage): Promise<void> {
  const stats = startStats(message.stats);
  // Written before the function starts, so the parent knows it was entered even if this process
  // then dies: one pwrite into the parent's marker file, no message.
  const enter = () => {
    if (marker === undefined) return;
    enteredId.writeDoubleLE(message.id, 0);
    writeSync(marker, enteredId, 0, 8, 0);
  };
  const outcome = await runTask(message.task, message.args, enter);
  if (!outcome.ok) {
    const error = serializeError(outcome.error);
    if (outcome.phase === "load") {
      send({ type: "load-failed", id: message.id, module: taskOrigin(message.task), error });
    } else send({ type: "threw", id: message.id, error, stats: stats() });
    return;
  }
  const large = message.scratch === undefined ? undefined : binaryResult(outcome.value, message.fileThreshold);
  if (large !== undefined && message.scratch !== undefined) {
    writeScratch(message.scratch, large.bytes);
    const { length } = large.bytes;
    send({ type: "file", id: message.id, file: message.scratch, length, view: large.view, stats: stats() });
    return;
  }
  try {
    send({ type: "value", id: message.id, value: outcome.value, stats: stats() });
  } catch {
    const found = findUnserializable(outcome.value, "result") ?? { path: "result", detail: "not cloneable" };
    send({ type: "unserializable", id: message.id, ...found, stats: stats() });
  }
}

/** Runs a trivial task through the whole path once, without sending anything. */
async function warmUp(): Promise<void> {
  const stats = startStats(true);
  await runTask({ kind: "source", source: "() => ({ warm: [1, 2n, new Map()] })" }, [], () => {});
  stats();
}

let watching = false;
const watchParent = async (): Promise<void> => {
  if (watching) return;
  watching = true;
  await startParentWatchdog();
};

process.on("message", (message: RunMessage | WatchMessage) => {
  if (message?.type === "run") void handle(message);
  // The caller's reaper died: from now on this child watches for the caller's death itself.
  else if (message?.type === "watch") void watchParent();
});
// The parent closed the channel (it exited or discarded this child): nothing left to do.
process.on("disconnect", () => process.exit(0));
// Everything a call needs is started and exercised once before saying "ready", so a spare
// answers its one call without paying for the watchdog thread or cold code paths.
// The caller's reaper (one `sh` per caller) ends this process group if the caller dies; without
// one, a watchdog thread here does it.
const watchdog = process.env.MEMKIT_ISOLATE_WATCHDOG !== "0";
delete process.env.MEMKIT_ISOLATE_WATCHDOG;
if (watchdog) await watchParent();
await warmUp();
process.send?.({ type: "ready" } satisfies ChildMessage);
