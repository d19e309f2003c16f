import { Worker } from "node:worker_threads";
import { type CallOutcome, type ChildOptions, type IsolatedChild, PendingCalls, type StartFailure } from "./child.js";
import type { ChildMessage, RunMessage } from "./protocol.js";

const entry = new URL("./child-worker.js", import.meta.url);

/**
 * A fresh `worker_threads` Worker with its own V8 heap limit. Cheaper than a process, but it
 * shares the process: a native crash or `process.abort()` there takes the caller down too, and
 * processes it starts are the caller's children (no process group to kill).
 */
export class WorkerChild implements IsolatedChild {
  readonly mode = "worker" as const;
  readonly ready: Promise<void>;
  isReady = false;
  calls = 0;
  exited = false;
  private readonly worker: Worker | undefined;
  // The id of the call whose function the worker entered, written by the worker itself.
  private readonly entered = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new PendingCalls((id) => Atomics.load(this.entered, 0) === id);
  private outOfMemory = false;

  constructor(options: ChildOptions) {
    let worker: Worker | undefined;
    let refused: unknown;
    try {
      worker = new Worker(entry, {
        execArgv: [...options.execArgv],
        workerData: { entered: this.entered },
        ...(options.env === undefined ? {} : { env: options.env as NodeJS.ProcessEnv }),
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
    } catch (error) {
      // A bad execArgv flag or resource limit is refused here, synchronously.
      refused = error;
    }
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      if (worker === undefined) {
        this.exited = true;
        reject({ phase: "spawn", code: null, signal: null, stderr: "", cause: refused } satisfies StartFailure);
        this.pending.ended({ code: null, signal: null, stderr: "", outOfMemory: undefined });
        return;
      }
      let bootError: unknown;
      worker.on("message", (message: ChildMessage) => {
        if (message.type === "ready") {
          this.isReady = true;
          resolve();
        } else this.pending.answer(message);
      });
      worker.on("error", (error: Error & { code?: string }) => {
        if (error.code === "ERR_WORKER_OUT_OF_MEMORY") this.outOfMemory = true;
        else if (!this.isReady) bootError = error;
      });
      worker.once("exit", (code) => {
        this.exited = true;
        if (!this.isReady) {
          reject({ phase: "boot", code, signal: null, stderr: "", cause: bootError } satisfies StartFailure);
        }
        this.pending.ended({ code, signal: null, stderr: "", outOfMemory: this.outOfMemory ? "heap" : undefined });
      });
    });
    this.ready.catch(() => {});
    this.unref();
  }

  call(message: RunMessage): Promise<CallOutcome> {
    this.calls++;
    return this.pending.start(message.id, () => this.worker?.postMessage(message));
  }

  kill(): void {
    if (!this.exited) void this.worker?.terminate();
  }

  ref(): void {
    this.worker?.ref();
  }

  unref(): void {
    this.worker?.unref();
  }

  rssBytes(): number | undefined {
    return undefined;
  }
}
