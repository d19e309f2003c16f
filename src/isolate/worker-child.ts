import { Worker } from "node:worker_threads";
import { type CallOutcome, type IsolatedChild, PendingCalls } from "./child.js";
import type { ChildOptions } from "./process-child.js";
import type { ChildMessage, RunMessage } from "./protocol.js";

const entry = new URL("./child-worker.js", import.meta.url);

/**
 * A fresh `worker_threads` Worker with its own V8 heap limit. Cheaper than a process, but it
 * shares the process: a native crash or `process.abort()` there takes the caller down too.
 */
export class WorkerChild implements IsolatedChild {
  readonly mode = "worker" as const;
  readonly ready: Promise<void>;
  calls = 0;
  exited = false;
  private readonly worker: Worker;
  private readonly pending = new PendingCalls();
  private outOfMemory = false;

  constructor(options: ChildOptions) {
    this.worker = new Worker(entry, {
      execArgv: [...options.execArgv],
      stdout: options.output === "ignore",
      stderr: options.output === "ignore",
      ...(options.memoryLimitMb === undefined
        ? {}
        : {
            resourceLimits: {
              maxOldGenerationSizeMb: options.memoryLimitMb,
              maxYoungGenerationSizeMb: Math.max(4, options.memoryLimitMb >> 3),
            },
          }),
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on("message", (message: ChildMessage) => {
        if (message.type === "ready") resolve();
        else this.pending.answer(message);
      });
      this.worker.on("error", (error: Error & { code?: string }) => {
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY") this.outOfMemory = true;
      });
      this.worker.once("exit", (code) => {
        this.exited = true;
        const exit = { code, signal: null, stderr: "", outOfMemory: this.outOfMemory };
        reject(exit);
        this.pending.ended(exit);
      });
    });
    this.ready.catch(() => {});
    this.unref();
  }

  call(message: RunMessage): Promise<CallOutcome> {
    this.calls++;
    return this.pending.start(message.id, () => this.worker.postMessage(message));
  }

  kill(): void {
    if (!this.exited) void this.worker.terminate();
  }

  ref(): void {
    this.worker.ref();
  }

  unref(): void {
    this.worker.unref();
  }

  rssBytes(): number | undefined {
    return undefined;
  }
}
