import { Worker } from "node:worker_threads";

// Runs in its own thread so it keeps watching while the isolated function blocks the main thread
// in a busy loop. When the parent is gone (this process was re-parented), it kills the whole
// process: a signal to our own pid ends every thread, not just this one.
const source = `
const { workerData, parentPort } = require("node:worker_threads");
const parent = workerData;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, "SIGKILL");
}, 200);
parentPort.postMessage("watching");
`;

/** Makes this child process exit within ~200 ms of its parent dying, even mid busy-loop. */
export function startParentWatchdog(): void {
  const watchdog = new Worker(source, {
    eval: true,
    workerData: process.ppid,
    resourceLimits: { maxOldGenerationSizeMb: 8 },
  });
  watchdog.unref();
}
