/**
 * Preloaded (`--import`) into a script that `memkit run` starts in process mode. It changes
 * nothing about how the script runs: it only watches. An uncaught exception or unhandled
 * rejection is written, as one JSON line, to the report pipe the runner opened (so the runner
 * can tell "threw" from `process.exit(1)`); and a watchdog thread ends the script's process
 * group if `memkit run` itself dies.
 */
import { writeSync } from "node:fs";
import { startParentWatchdog } from "./watchdog.js";

const fd = Number(process.env.MEMKIT_RUN_REPORT_FD);
delete process.env.MEMKIT_RUN_REPORT_FD;

if (Number.isInteger(fd) && fd > 2) {
  // The runtime accepted its command line and is about to load the script.
  writeSync(fd, '{"started":true}\n');
  // A monitor, not a handler: Node still prints the error and exits with its usual status.
  process.on("uncaughtExceptionMonitor", (error: unknown, origin: string) => {
    const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
    const report = {
      origin,
      name: typeof e?.name === "string" ? e.name : typeof error,
      message: typeof e?.message === "string" ? e.message : String(error),
      code: typeof e?.code === "string" ? e.code : undefined,
    };
    try {
      writeSync(fd, `${JSON.stringify(report)}\n`);
    } catch {
      // The runner is gone: nobody to tell.
    }
  });
}
void startParentWatchdog();
