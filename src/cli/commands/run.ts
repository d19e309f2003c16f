import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMemkitError } from "../../internal/errors.js";
import { isolateWithStats } from "../../isolate/index.js";
import type { Command } from "../command.js";
import { paint } from "../io.js";
import { formatBytes } from "../table.js";

/** Exit status per outcome, so scripts can tell them apart without parsing output. */
const STATUS: Record<string, number> = {
  ok: 0,
  threw: 1,
  ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY: 3,
  ERR_MEMKIT_ISOLATE_CRASHED: 4,
  ERR_MEMKIT_ISOLATE_EXITED: 5,
  ERR_MEMKIT_TIMEOUT: 6,
  ERR_MEMKIT_NOT_SERIALIZABLE: 7,
};

// Runs inside the isolated child: sets argv as the script expects, then imports the script.
const runScript = async (url: string, argv: string[]) => {
  process.argv = [process.argv[0] ?? "node", url, ...argv];
  await import(url);
  return null;
};

function numberFlag(value: unknown, name: string): number | undefined | Error {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : new Error(`--${name} must be a positive number, got ${String(value)}`);
}

/** `memkit run [--mode] [--memory MB] [--timeout S] script.js [args]`. */
export const runCommand: Command = {
  name: "run",
  summary: "Run a script isolated in a fresh process or worker and report how it ended",
  usage: "memkit run [--mode process|worker] [--memory MB] [--timeout S] [--json] script.js [args...]",
  options: { mode: { type: "string" }, memory: { type: "string" }, timeout: { type: "string" } },
  reports: true,
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const [script, ...args] = positionals;
    const mode = values.mode ?? "process";
    const memory = numberFlag(values.memory, "memory");
    const timeout = numberFlag(values.timeout, "timeout");
    for (const problem of [memory, timeout]) {
      if (problem instanceof Error) {
        io.err(`memkit run: ${problem.message}`);
        return 2;
      }
    }
    if (script === undefined || (mode !== "process" && mode !== "worker")) {
      io.err(
        `memkit run: ${script === undefined ? "missing script" : `--mode must be process or worker, got ${String(mode)}`} (run 'memkit run --help')`,
      );
      return 2;
    }
    const url = pathToFileURL(resolve(script)).href;
    const started = performance.now();
    let outcome: string;
    let detail: string;
    let peak = 0;
    try {
      const { stats } = await isolateWithStats(runScript, {
        args: [url, args] as [string, string[]],
        mode,
        ...(memory === undefined ? {} : { memoryLimitMb: Math.round(memory as number) }),
        ...(timeout === undefined ? {} : { timeoutMs: Math.round((timeout as number) * 1000) }),
      });
      outcome = "ok";
      detail = "completed";
      peak = stats.peakRssBytes;
    } catch (error) {
      outcome = isMemkitError(error) && error.code in STATUS ? error.code : "threw";
      detail = error instanceof Error ? `${error.name}: ${error.message.split("\n")[0]}` : String(error);
    }
    const seconds = (performance.now() - started) / 1000;
    if (values.json === true) {
      io.out(JSON.stringify({ script, mode, outcome, detail, peakRssBytes: peak, seconds }));
    } else {
      const colour = outcome === "ok" ? "green" : "red";
      io.out(`${paint(io, colour, outcome === "ok" ? "ok" : outcome)}: ${detail}`);
      io.out(`mode ${mode}, ${seconds.toFixed(2)} s${peak ? `, peak resident ${formatBytes(peak)}` : ""}`);
    }
    return STATUS[outcome] ?? 1;
  },
};
