import { runScript, type ScriptOutcome } from "../../isolate/script-runner.js";
import type { Command } from "../command.js";
import { paint } from "../io.js";
import { formatBytes } from "../table.js";

/** Exit status per outcome, so scripts can tell them apart without parsing output. */
const STATUS: Record<ScriptOutcome["outcome"], number> = {
  ok: 0,
  threw: 1,
  "out-of-memory": 3,
  crashed: 4,
  exited: 5,
  timeout: 6,
  "not-run": 8,
};

const USAGE = `memkit run [--mode process|worker] [--memory MB] [--timeout S] [--json] script.js [--] [args...]

  Runs script.js as \`node script.js\` would (until its event loop is empty or it exits: timers,
  late promises, late throws and unhandled rejections included), in a fresh process (default,
  in its own process group) or worker, and reports how it ended. Put \`--\` before script
  arguments that start with "-".

  --json prints one JSON document on stdout and nothing else: the script's own stdout goes to
  stderr. Fields: script, mode, outcome, status, exitCode, signal, detail, peakRssBytes, seconds.

Exit status:
  0  ok             the script ended with status 0
  1  threw          an uncaught exception or unhandled rejection (node's status 1)
  2  usage          bad flags or no script
  3  out-of-memory  V8 heap limit (--memory) or resident memory past the limit
  4  crashed        killed by a signal (SIGSEGV, SIGABRT, SIGKILL, Ctrl-C ...)
  5  exited         process.exit(n) with n != 0 (n is in exitCode)
  6  timeout        ran past --timeout seconds; its process group was killed
  8  not-run        the script was not started (missing file, runtime refused a flag)`;

function numberFlag(value: unknown, name: string): number | undefined | Error {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : new Error(`--${name} must be a positive number, got ${String(value)}`);
}

/** `memkit run [--mode] [--memory MB] [--timeout S] [--json] script.js [args]`. */
export const runCommand: Command = {
  name: "run",
  summary: "Run a script like node, isolated in a fresh process or worker, and report how it ended",
  usage: USAGE,
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
    const json = values.json === true;
    const started = performance.now();
    const result = await runScript({
      script,
      args,
      mode,
      stdout: json ? "stderr" : "inherit",
      ...(memory === undefined ? {} : { memoryLimitMb: Math.max(8, Math.round(memory as number)) }),
      ...(timeout === undefined ? {} : { timeoutMs: Math.round((timeout as number) * 1000) }),
    });
    const seconds = (performance.now() - started) / 1000;
    const status = STATUS[result.outcome];
    const { outcome, exitCode, signal, detail, peakRssBytes } = result;
    if (json) {
      io.out(JSON.stringify({ script, mode, outcome, status, exitCode, signal, detail, peakRssBytes, seconds }));
    } else {
      const colour = outcome === "ok" ? "green" : "red";
      io.err(`${paint(io, colour, outcome)}: ${detail}`);
      const peak = peakRssBytes ? `, peak resident ${formatBytes(peakRssBytes)}` : "";
      io.err(`mode ${mode}, ${seconds.toFixed(2)} s${peak}`);
    }
    return status;
  },
};
