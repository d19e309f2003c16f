import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { Tail } from "./child.js";
import { diedOfV8OutOfMemory, isV8OutOfMemoryReport, rssAllowance } from "./oom-signals.js";

/**
 * Runs a script the way `node script.js` does (until its event loop is empty or it exits:
 * timers, late promises, late throws, unhandled rejections, `process.exit(n)`), in a child
 * process or a worker, and says how it ended. Used by `memkit run`.
 */
export interface ScriptOptions {
  readonly script: string;
  readonly args: readonly string[];
  readonly mode: "process" | "worker";
  readonly memoryLimitMb?: number;
  readonly timeoutMs?: number;
  /** Where the script's stdout goes: ours, or our stderr (so our stdout carries only a report). */
  readonly stdout: "inherit" | "stderr";
}

/** How a script ended. */
export interface ScriptOutcome {
  readonly outcome: "ok" | "threw" | "not-run" | "out-of-memory" | "crashed" | "exited" | "timeout";
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** One line: what the script threw ("Name: message"), or how it ended. */
  readonly detail: string;
  readonly peakRssBytes: number;
}

interface Ending {
  code: number | null;
  signal: string | null;
  threw: string | undefined;
  oom: boolean;
  stderr: string;
  /** The runtime accepted its command line (the preload ran, or the worker came up). */
  started: boolean;
}

const preload = new URL("./script-preload.js", import.meta.url).href;
const PAGE = 4096;

/** Runs the script and resolves with how it ended; never rejects. */
export async function runScript(options: ScriptOptions): Promise<ScriptOutcome> {
  const path = resolve(options.script);
  if (!existsSync(path)) {
    return { outcome: "not-run", exitCode: null, signal: null, detail: `no such script: ${path}`, peakRssBytes: 0 };
  }
  let killed: "timeout" | "rss" | undefined;
  let peak = 0;
  const run = options.mode === "process" ? runInProcess : runInWorker;
  const ending = await run(
    path,
    options,
    (why) => (killed ??= why),
    (rss) => (peak = Math.max(peak, rss)),
  );
  return classify(ending, killed, options, peak);
}

function classify(
  end: Ending,
  killed: "timeout" | "rss" | undefined,
  options: ScriptOptions,
  peak: number,
): ScriptOutcome {
  const base = { exitCode: end.code, signal: end.signal, peakRssBytes: peak };
  const limit = options.memoryLimitMb === undefined ? "" : ` (limit ${options.memoryLimitMb} MiB)`;
  const say = (outcome: ScriptOutcome["outcome"], detail: string): ScriptOutcome => ({ ...base, outcome, detail });
  if (killed === "timeout") return say("timeout", `ran past ${options.timeoutMs} ms; its process group was killed`);
  if (killed === "rss") return say("out-of-memory", `resident memory grew past the limit${limit}; killed`);
  if (end.oom) return say("out-of-memory", `the JavaScript heap ran out${limit}`);
  if (!end.started) return say("not-run", `the runtime did not start the script (status ${end.code}): ${end.stderr}`);
  if (end.signal !== null) return say("crashed", `killed by ${end.signal}`);
  if (end.code === 0) return say("ok", "completed");
  if (end.threw !== undefined) return say("threw", end.threw);
  return say("exited", `process.exit(${end.code})`);
}

function runInProcess(
  path: string,
  options: ScriptOptions,
  kill: (why: "timeout" | "rss") => void,
  sawRss: (bytes: number) => void,
): Promise<Ending> {
  const execArgv = [`--import=${preload}`];
  if (options.memoryLimitMb !== undefined) execArgv.push(`--max-old-space-size=${options.memoryLimitMb}`);
  const child = spawn(process.execPath, [...execArgv, path, ...options.args], {
    // Our stdin, the script's stdout where asked, stderr through us (kept for the report), a report pipe.
    stdio: ["inherit", options.stdout === "stderr" ? 2 : "inherit", "pipe", "pipe"],
    detached: process.platform !== "win32",
    env: { ...process.env, MEMKIT_RUN_REPORT_FD: "3" },
  });
  const stderr = new Tail();
  let oomReported = false;
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    process.stderr.write(chunk);
    stderr.push(chunk);
    if (isV8OutOfMemoryReport(stderr.recent(chunk.length + 200))) oomReported = true;
  });
  let report = "";
  const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
  pipe?.setEncoding("utf8");
  pipe?.on("data", (chunk: string) => {
    report += chunk;
  });
  let killedByUs = false;
  const group = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  };
  // The script is in its own process group, so Ctrl-C reaches only us: pass it on, as a shell would.
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  };
  const signals = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, f] of signals) process.on(s, f);
  const stopWatch = watch(
    options,
    () => readRss(child.pid),
    kill,
    sawRss,
    () => {
      killedByUs = true;
      group();
    },
  );
  return new Promise<Ending>((done) => {
    child.once("error", (error) => {
      stderr.push(String(error));
    });
    child.once("exit", (code, signal) => {
      stopWatch();
      for (const [s, f] of signals) process.off(s, f);
      // What the script left running in its group goes with it (and so the pipes close).
      group();
      // "close" comes once the pipes are drained: the report and the stderr tail are complete.
      child.once("close", () => {
        const { threw, started } = readReport(report);
        const oom = diedOfV8OutOfMemory(oomReported, code, signal);
        done({ code, signal, threw, oom, stderr: stderr.lines(), started: started || killedByUs });
      });
    });
  });
}

function runInWorker(
  path: string,
  options: ScriptOptions,
  kill: (why: "timeout" | "rss") => void,
  sawRss: (bytes: number) => void,
): Promise<Ending> {
  const limit = options.memoryLimitMb;
  const worker = new Worker(path, {
    argv: [...options.args],
    stdout: options.stdout === "stderr",
    ...(limit === undefined
      ? {}
      : { resourceLimits: { maxOldGenerationSizeMb: limit, maxYoungGenerationSizeMb: Math.max(4, limit >> 3) } }),
  });
  if (options.stdout === "stderr") worker.stdout.pipe(process.stderr);
  let threw: string | undefined;
  let oom = false;
  worker.on("error", (error: Error & { code?: string }) => {
    if (error.code === "ERR_WORKER_OUT_OF_MEMORY") oom = true;
    else {
      threw = `${error.name}: ${error.message}`;
      process.stderr.write(`${error.stack ?? threw}\n`);
    }
  });
  const stopWatch = watch(
    options,
    () => undefined,
    kill,
    sawRss,
    () => void worker.terminate(),
  );
  return new Promise<Ending>((done) => {
    worker.once("exit", (code) => {
      stopWatch();
      done({ code, signal: null, threw, oom, stderr: "", started: true });
    });
  });
}

/** The timeout and resident-memory watch of a running script; returns the function that stops it. */
function watch(
  options: ScriptOptions,
  rss: () => number | undefined,
  kill: (why: "timeout" | "rss") => void,
  sawRss: (bytes: number) => void,
  stop: () => void,
): () => void {
  const end = (why: "timeout" | "rss") => {
    kill(why);
    stop();
  };
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => end("timeout"), options.timeoutMs);
  const start = rss();
  const limit = options.memoryLimitMb;
  const poll = setInterval(() => {
    const now = rss();
    if (now === undefined) return;
    sawRss(now);
    if (limit !== undefined && start !== undefined && now - start > rssAllowance(limit)) end("rss");
  }, 20);
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    clearInterval(poll);
  };
}

function readRss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE;
  } catch {
    return undefined;
  }
}

/** What the preload reported: whether the script started, and its last uncaught error as "Name: message". */
function readReport(text: string): { started: boolean; threw: string | undefined } {
  let started = false;
  let threw: string | undefined;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const report = JSON.parse(line) as { started?: boolean; name?: string; message?: string };
      if (report.started === true) started = true;
      else threw = `${report.name}: ${report.message}`;
    } catch {
      // A torn line from a script killed mid-write: ignore it.
    }
  }
  return { started, threw };
}
