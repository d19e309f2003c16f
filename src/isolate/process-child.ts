import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CallOutcome, type IsolatedChild, PendingCalls, Tail } from "./child.js";
import type { ChildMessage, RunMessage } from "./protocol.js";

const entry = fileURLToPath(new URL("./child-process.js", import.meta.url));
const PAGE = 4096;

/** Options both runtimes take. */
export interface ChildOptions {
  readonly memoryLimitMb: number | undefined;
  readonly execArgv: readonly string[];
  /** Forward the child's stdout/stderr to ours ("inherit") or drop them ("ignore"). */
  readonly output: "inherit" | "ignore";
}

/** A fresh Node process, talking over an IPC channel with structured-clone serialization. */
export class ProcessChild implements IsolatedChild {
  readonly mode = "process" as const;
  readonly ready: Promise<void>;
  calls = 0;
  exited = false;
  private readonly child: ChildProcess;
  private readonly stderr = new Tail();
  private readonly pending = new PendingCalls();

  constructor(options: ChildOptions) {
    const execArgv = [...options.execArgv];
    if (options.memoryLimitMb !== undefined) execArgv.push(`--max-old-space-size=${options.memoryLimitMb}`);
    this.child = fork(entry, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", options.output === "inherit" ? "inherit" : "ignore", "pipe", "ipc"],
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr.push(chunk);
      if (options.output === "inherit") process.stderr.write(chunk);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type === "ready") resolve();
        else this.pending.answer(message);
      };
      this.child.on("message", onMessage);
      this.child.once("exit", (code, signal) => {
        this.exited = true;
        const text = this.stderr.lines();
        const exit = {
          code,
          signal,
          stderr: text,
          outOfMemory: /heap out of memory|Reached heap limit|Allocation failed - JavaScript heap/i.test(text),
        };
        reject(exit);
        this.pending.ended(exit);
      });
    });
    // Nobody may be waiting on `ready` when a spare dies: that is not an unhandled rejection.
    this.ready.catch(() => {});
    this.unref();
  }

  call(message: RunMessage): Promise<CallOutcome> {
    this.calls++;
    // send() throws synchronously (DataCloneError) when the arguments cannot be serialized.
    return this.pending.start(message.id, () => this.child.send(message));
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }

  ref(): void {
    this.child.ref();
    this.child.channel?.ref();
    (this.child.stderr as { ref?: () => void } | null)?.ref?.();
  }

  unref(): void {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stderr as { unref?: () => void } | null)?.unref?.();
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
