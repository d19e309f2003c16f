/**
 * Entry point of an isolated worker thread: like the child process, but results come back by
 * `postMessage`, with every `ArrayBuffer` inside them transferred (no copy).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ChildMessage, RunMessage } from "./protocol.js";
import { runTask, serializeError, startStats, taskOrigin } from "./run-task.js";
import { findUnserializable } from "./serializable.js";

const entered = (workerData as { entered?: Int32Array } | null)?.entered;

/** ArrayBuffers under typed arrays in `value` (a few levels deep) to move instead of copying. */
function transferables(value: unknown, depth = 0, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (depth > 4 || typeof value !== "object" || value === null) return [...found];
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (value instanceof ArrayBuffer) {
    found.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value.slice(0, 64)) transferables(item, depth + 1, found);
  } else if (value instanceof Map) {
    for (const item of [...value.values()].slice(0, 64)) transferables(item, depth + 1, found);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value).slice(0, 64)) transferables(item, depth + 1, found);
  }
  return [...found];
}

async function handle(message: RunMessage): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const stats = startStats(message.stats);
  // The id of the call whose function is running, in memory the parent reads if this worker
  // dies: no message needed on the hot path.
  const enter = () => {
    if (entered !== undefined) Atomics.store(entered, 0, message.id);
  };
  const outcome = await runTask(message.task, message.args, enter);
  if (!outcome.ok) {
    const error = serializeError(outcome.error);
    if (outcome.phase === "load") {
      port.postMessage({
        type: "load-failed",
        id: message.id,
        module: taskOrigin(message.task),
        error,
      } satisfies ChildMessage);
    } else port.postMessage({ type: "threw", id: message.id, error, stats: stats() } satisfies ChildMessage);
    return;
  }
  try {
    const reply: ChildMessage = { type: "value", id: message.id, value: outcome.value, stats: stats() };
    port.postMessage(reply, transferables(outcome.value));
  } catch {
    const found = findUnserializable(outcome.value, "result") ?? { path: "result", detail: "not cloneable" };
    port.postMessage({ type: "unserializable", id: message.id, ...found, stats: stats() } satisfies ChildMessage);
  }
}

parentPort?.on("message", (message: RunMessage) => {
  if (message?.type === "run") void handle(message);
});
parentPort?.postMessage({ type: "ready" } satisfies ChildMessage);
