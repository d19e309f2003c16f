/**
 * Entry point of a fork template (zygote), started by the caller with `--single-threaded
 * --v8-pool-size=0`. It loads memkit's child runtime and the modules named on its command line,
 * runs one warm-up task, then hands its thread to the native fork server for good. Every line
 * after `serve()` runs only in a forked child: one call, an answer file, `_exit`.
 */
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { binaryResult } from "../binary-result.js";
import type { ChildMessage } from "../protocol.js";
import { preloadedModules, runTask, serializeError, startStats, taskOrigin } from "../run-task.js";
import { SCRATCH_DIR } from "../scratch-names.js";
import { findUnserializable } from "../serializable.js";
import { type ForkAddon, loadForkAddon } from "./addon.js";
import { ANSWER_HEAD, ANSWER_MAGIC, ENTERED_MAGIC, type ForkRequest } from "./protocol.js";

function writeAll(path: string, parts: readonly Uint8Array[], truncate: boolean): void {
  // The caller created the file exclusively: never create it here, never follow a link. Scratch
  // files are overwritten in place (pages already there are reused); answers are truncated.
  const flags = constants.O_RDWR | constants.O_NOFOLLOW | (truncate ? constants.O_TRUNC : 0);
  const fd = openSync(path, flags, 0o600);
  try {
    let at = 0;
    for (const bytes of parts) {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
      at += bytes.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** Marks the answer file before the function starts, so a child that dies later is known to have entered it. */
function markEntered(request: ForkRequest): void {
  const head = Buffer.alloc(ANSWER_HEAD);
  head.writeUInt32LE(ENTERED_MAGIC, 0);
  head.writeUInt32LE(request.tag, 4);
  writeAll(request.answer, [head], true);
}

function answer(request: ForkRequest, message: ChildMessage): void {
  let body: Buffer;
  try {
    body = serialize(message);
  } catch {
    const value = message.type === "value" ? message.value : message;
    const found = findUnserializable(value, "result") ?? { path: "result", detail: "not cloneable" };
    body = serialize({ type: "unserializable", id: request.id, ...found, stats: undefined } satisfies ChildMessage);
  }
  const head = Buffer.allocUnsafe(ANSWER_HEAD);
  head.writeUInt32LE(ANSWER_MAGIC, 0);
  head.writeUInt32LE(request.tag, 4);
  head.writeUInt32LE(body.length, 8);
  writeAll(request.answer, [head, body], true);
}

/** Runs one call and leaves its answer (or the "entered" mark, if it dies) in the answer file. */
async function runCall(request: ForkRequest): Promise<void> {
  const stats = startStats(request.stats);
  const outcome = await runTask(request.task, request.args, () => markEntered(request));
  if (!outcome.ok) {
    const { id } = request;
    const error = serializeError(outcome.error);
    if (outcome.phase === "load")
      return answer(request, { type: "load-failed", id, module: taskOrigin(request.task), error });
    return answer(request, { type: "threw", id, error, stats: stats() });
  }
  const large = request.scratch === undefined ? undefined : binaryResult(outcome.value, request.fileThreshold);
  if (large !== undefined && request.scratch !== undefined) {
    writeAll(request.scratch, [large.bytes], false);
    const { length } = large.bytes;
    return answer(request, {
      type: "file",
      id: request.id,
      file: request.scratch,
      length,
      view: large.view,
      stats: stats(),
    });
  }
  return answer(request, { type: "value", id: request.id, value: outcome.value, stats: stats() });
}

/** Makes every way out of the child an `_exit`: Node's own teardown is not safe after fork. */
function exitThroughAddon(addon: ForkAddon, pid: number): void {
  // Node reads the pid once at start: without this the child's process.pid names the template.
  Object.defineProperty(process, "pid", { value: pid, enumerable: true, configurable: true });
  (process as unknown as { reallyExit: (code?: number) => void }).reallyExit = (code) => addon.exit(code ?? 0);
  // The loop ran dry while the function's promise was still pending: nothing can settle it.
  process.on("beforeExit", () => addon.exit(0));
  process.on("uncaughtException", (error: unknown) => {
    writeSync(2, `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    addon.exit(1);
  });
}

/**
 * Runs whole calls here, answer files included, so that every function on a child's path is
 * compiled once in the template. Lazily compiled code would otherwise be parsed and compiled
 * again in every child (measured: V8's scanner and string table near the top of a child's profile).
 */
async function warmUp(): Promise<void> {
  const dir = mkdtempSync(join(SCRATCH_DIR, "memkit-fork-warm-"));
  try {
    for (let i = 0; i < 3; i++) {
      const answer = join(dir, "answer");
      closeSync(openSync(answer, "w", 0o600));
      const task = { kind: "source", source: "(n) => ({ warm: [n, 2n, new Map()] })" } as const;
      const request = {
        type: "run",
        id: i,
        task,
        args: [i],
        fileThreshold: 1 << 20,
        stats: i > 0,
        scratch: undefined,
        answer,
        tag: i,
      } satisfies ForkRequest;
      await runCall(deserialize(serialize(request)) as ForkRequest);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [addonPath, ...preload] = process.argv.slice(2);
const addon = loadForkAddon(addonPath);
for (const url of preload) preloadedModules.set(url, (await import(url)) as Record<string, unknown>);
await warmUp();
const { payload, pid } = addon.serve(0, 3, process.ppid);
exitThroughAddon(addon, pid);
await runCall(deserialize(payload) as ForkRequest);
addon.exit(0);
