import { Worker } from "node:worker_threads";
import { SCRATCH_DIR, scratchPrefix } from "./scratch-names.js";

// Runs in its own thread so it keeps watching while the isolated function blocks the main thread
// in a busy loop. When the parent is gone (this process was re-parented), it first removes the
// parent's scratch files (nobody else would until another memkit process sweeps), then kills
// this child's whole process group (the isolator starts each child as a group leader, so what
// the function started dies too), falling back to this process alone.
const source = `
const { workerData, parentPort } = require("node:worker_threads");
const { readdirSync, rmSync } = require("node:fs");
const { join } = require("node:path");
const { parent, dir, prefix } = workerData;
setInterval(() => {
  if (process.ppid === parent) return;
  try {
    for (const name of readdirSync(dir)) if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
  } catch {}
  try { process.kill(-process.pid, "SIGKILL"); } catch {}
  process.kill(process.pid, "SIGKILL");
}, 200);
parentPort.postMessage("watching");
`;

/**
 * Makes this child process (and its process group) exit within ~200 ms of its parent dying,
 * even mid busy-loop, removing the parent's scratch files first. Resolves once the thread is
 * up, so its start-up does not compete with the first call.
 */
export function startParentWatchdog(): Promise<void> {
  const watchdog = new Worker(source, {
    eval: true,
    workerData: { parent: process.ppid, dir: SCRATCH_DIR, prefix: scratchPrefix(process.ppid) },
    resourceLimits: { maxOldGenerationSizeMb: 8 },
  });
  watchdog.unref();
  return new Promise((resolve) => {
    watchdog.once("message", () => resolve());
    // A watchdog that cannot start must not keep the child from serving.
    watchdog.once("error", () => resolve());
    watchdog.once("exit", () => resolve());
  });
}
