/**
 * Entry point of an isolated child process: waits for run messages over IPC, runs each task and
 * sends back its value (v8-serialized bytes, or a file in shared memory when large), what it
 * threw, or where the unserializable part of the result is.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import type { ChildMessage, RunMessage } from "./protocol.js";
import { runTask, serializeError, startStats } from "./run-task.js";
import { findUnserializable } from "./serializable.js";
import { startParentWatchdog } from "./watchdog.js";

const send = (message: ChildMessage) =>
  new Promise<void>((resolve) => {
    process.send?.(message, undefined, {}, () => resolve());
  });

// /dev/shm is memory-backed on Linux: a large result is written and read once, instead of
// crawling through the IPC pipe in 64 KiB pieces.
const scratch = process.platform === "linux" ? "/dev/shm" : tmpdir();

/** Runs a trivial task through the whole path once, without sending anything. */
async function warmUp(): Promise<void> {
  const stats = startStats();
  const outcome = await runTask({ kind: "source", source: "() => ({ warm: [1, 2n, new Map()] })" }, []);
  if (outcome.ok) serialize(outcome.value);
  stats();
}

async function handle(message: RunMessage): Promise<void> {
  const stats = startStats();
  const outcome = await runTask(message.task, message.args);
  if (!outcome.ok) {
    await send({ type: "threw", id: message.id, error: serializeError(outcome.error), stats: stats() });
    return;
  }
  let bytes: Buffer;
  try {
    bytes = serialize(outcome.value);
  } catch {
    const found = findUnserializable(outcome.value, "result") ?? { path: "result", detail: "not cloneable" };
    await send({ type: "unserializable", id: message.id, ...found, stats: stats() });
    return;
  }
  if (bytes.length >= message.fileThreshold) {
    const file = join(scratch, `memkit-${process.pid}-${randomBytes(6).toString("hex")}`);
    writeFileSync(file, bytes);
    await send({ type: "file", id: message.id, file, stats: stats() });
    return;
  }
  await send({ type: "value", id: message.id, value: bytes, stats: stats() });
}

process.on("message", (message: RunMessage) => {
  if (message?.type === "run") void handle(message);
});
// The parent closed the channel (it exited or discarded this child): nothing left to do.
process.on("disconnect", () => process.exit(0));
// Everything a call needs is started and exercised once before saying "ready", so a spare
// answers its one call without paying for the watchdog thread or cold code paths.
if (process.env.MEMKIT_ISOLATE_WATCHDOG !== "0") await startParentWatchdog();
await warmUp();
process.send?.({ type: "ready" } satisfies ChildMessage);
