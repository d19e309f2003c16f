import { type ChildProcess, fork } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type CallOutcome,
  type ChildExit,
  type ChildOptions,
  type IsolatedChild,
  PendingCalls,
  type StartFailure,
  Tail,
} from "./child.js";
import { diedOfV8OutOfMemory, isV8OutOfMemoryReport, oomKillCount } from "./oom-signals.js";
import type { ChildMessage, RunMessage, WatchMessage } from "./protocol.js";
import { forget, onReaperLost, reaperRunning, reapOnDeath } from "./reaper.js";
import { newScratchFile } from "./scratch-names.js";

export type { ChildOptions } from "./child.js";

const entry = fileURLToPath(new URL("./child-process.js", import.meta.url));
const PAGE = 4096;
// Node exits with 9 ("Invalid Argument") when it rejects its own command line (a bad flag).
const NODE_BAD_OPTION = 9;
// After the exit, messages already in the pipe (the child's "entered") are still being read:
// wait for the channel to close, but never longer than this.
const DRAIN_MS = 250;

// Marker files of children still running, removed when this process exits (a killed caller's
// are removed by the children's watchdogs).
const markers = new Set<string>();
let exitHook = false;
function trackMarker(path: string): void {
  markers.add(path);
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const marker of markers) rmSync(marker, { force: true });
  });
}
function dropMarker(path: string): void {
  rmSync(path, { force: true });
  markers.delete(path);
}

/**
 * A fresh Node process, talking over an IPC channel with structured-clone serialization. It is
 * started as the leader of its own process group, so `kill()` ends whatever the function started
 * too (a `sleep 30` it spawned), and the child's watchdog can do the same if the caller dies.
 */
export class ProcessChild implements IsolatedChild {
  readonly mode = "process" as const;
  readonly ready: Promise<void>;
  isReady = false;
  calls = 0;
  exited = false;
  private readonly child: ChildProcess;
  private readonly stderr = new Tail();
  // The child writes the id of the call it enters into this file (one pwrite, no message, no
  // wake-up here); it is read only if the child dies during a call.
  private readonly marker = newScratchFile();
  private readonly pending = new PendingCalls((id) => this.enteredId() === id);
  private oomReported = false;
  private killedByUs = false;
  private readonly oomKillsAtStart = oomKillCount();
  private stopWatchingReaper: (() => void) | undefined;

  constructor(options: ChildOptions) {
    trackMarker(this.marker);
    const reaped = reaperRunning();
    const execArgv = [...options.execArgv];
    if (options.memoryLimitMb !== undefined) execArgv.push(`--max-old-space-size=${options.memoryLimitMb}`);
    this.child = fork(entry, [], {
      execArgv,
      serialization: "advanced",
      // A new process group (setsid), so the whole group can be killed at once.
      detached: process.platform !== "win32",
      env: {
        ...(options.env ?? process.env),
        MEMKIT_ISOLATE_MARKER: this.marker,
        // With the caller's reaper running, the child needs no watchdog thread of its own.
        MEMKIT_ISOLATE_WATCHDOG: reaped ? "0" : "1",
      },
      stdio: ["ignore", options.output === "inherit" ? "inherit" : "ignore", "pipe", "ipc"],
    });
    // (If the reaper went away between the check and now, this child has no watchdog: rare, and
    // it still dies with the caller on a normal exit; close() and timeouts still reach it.)
    if (reaped && this.child.pid !== undefined && reapOnDeath(this.child.pid)) {
      this.stopWatchingReaper = onReaperLost(() => {
        try {
          if (this.child.connected) this.child.send({ type: "watch" } satisfies WatchMessage);
        } catch {
          // The channel closed under us: the child is ending anyway.
        }
      });
    }
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr.push(chunk);
      if (!this.oomReported && isV8OutOfMemoryReport(this.stderr.recent(chunk.length + 200))) this.oomReported = true;
      if (options.output === "inherit") process.stderr.write(chunk);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on("message", (message: ChildMessage) => {
        if (message.type === "ready") {
          this.isReady = true;
          resolve();
        } else this.pending.answer(message);
      });
      // fork() reports a failed spawn (EAGAIN, ENOMEM, a missing binary) as an event, not a throw.
      // Later errors (EPIPE when sending to a child that just died) end in "exit" too.
      this.child.on("error", (error) => {
        if (this.child.pid === undefined && !this.exited) {
          this.exited = true;
          reject({ phase: "spawn", code: null, signal: null, stderr: "", cause: error } satisfies StartFailure);
          this.pending.ended({ code: null, signal: null, stderr: "", outOfMemory: undefined });
          dropMarker(this.marker);
        }
      });
      this.child.once("exit", (code, signal) => {
        this.exited = true;
        // What the child started dies with it, and its group id is no longer ours to kill.
        this.killGroup();
        if (this.child.pid !== undefined) forget(this.child.pid);
        this.stopWatchingReaper?.();
        const stderr = this.stderr.lines();
        if (!this.isReady) {
          const phase = code === NODE_BAD_OPTION ? "spawn" : "boot";
          reject({ phase, code, signal, stderr } satisfies StartFailure);
        }
        const exit: ChildExit = { code, signal, stderr, outOfMemory: this.outOfMemory(code, signal) };
        this.afterDrain(() => {
          this.pending.ended(exit);
          dropMarker(this.marker);
        });
      });
    });
    // Nobody may be waiting on `ready` when a spare dies: that is not an unhandled rejection.
    this.ready.catch(() => {});
    this.unref();
  }

  /** The id of the last call the child entered, from its marker file (0 when none). */
  private enteredId(): number {
    try {
      const fd = openSync(this.marker, "r");
      try {
        const bytes = Buffer.alloc(8);
        return readSync(fd, bytes, 0, 8, 0) === 8 ? bytes.readDoubleLE(0) : 0;
      } finally {
        closeSync(fd);
      }
    } catch {
      return 0;
    }
  }

  private outOfMemory(code: number | null, signal: string | null): ChildExit["outOfMemory"] {
    if (diedOfV8OutOfMemory(this.oomReported, code, signal)) return "heap";
    if (signal !== "SIGKILL" || this.killedByUs || this.oomKillsAtStart === undefined) return undefined;
    return (oomKillCount() ?? 0) > this.oomKillsAtStart ? "system" : undefined;
  }

  /** Runs `then` once every message the child sent before it died has been read. */
  private afterDrain(then: () => void): void {
    if (!this.child.connected) {
      then();
      return;
    }
    const timer = setTimeout(finish, DRAIN_MS);
    const child = this.child;
    function finish() {
      clearTimeout(timer);
      child.off("disconnect", finish);
      then();
    }
    child.once("disconnect", finish);
  }

  call(message: RunMessage): Promise<CallOutcome> {
    this.calls++;
    // send() throws synchronously (DataCloneError) when the arguments cannot be serialized. A
    // child whose channel already closed is dying: the call then settles with its exit (not run).
    return this.pending.start(message.id, () => {
      if (this.child.connected) this.child.send(message);
    });
  }

  kill(): void {
    this.killedByUs = true;
    if (this.exited) return;
    this.killGroup();
    this.child.kill("SIGKILL");
  }

  /** Kills the child's whole group: the child and anything it started that did not leave the group. */
  private killGroup(): void {
    const { pid } = this.child;
    if (pid === undefined || process.platform === "win32") return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // The group is already gone (or the runtime cannot signal groups): kill() ends the child alone.
    }
  }

  ref(): void {
    this.child.ref();
    refStream(this.child.channel, "ref");
    refStream(this.child.stderr, "ref");
  }

  unref(): void {
    this.child.unref();
    refStream(this.child.channel, "unref");
    refStream(this.child.stderr, "unref");
  }

  rssBytes(): number | undefined {
    if (this.exited || this.child.pid === undefined) return undefined;
    try {
      const statm = readFileSync(`/proc/${this.child.pid}/statm`, "utf8").split(" ");
      return Number(statm[1]) * PAGE;
    } catch {
      return undefined;
    }
  }
}

/** Calls `ref()`/`unref()` where the runtime has them (Bun's IPC channel has neither). */
function refStream(target: unknown, how: "ref" | "unref"): void {
  const method = (target as Record<string, unknown> | null | undefined)?.[how];
  if (typeof method === "function") method.call(target);
}
