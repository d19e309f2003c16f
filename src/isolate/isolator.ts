import { availableParallelism } from "node:os";
import { InvalidArgumentError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import type { IsolatedChild } from "./child.js";
import {
  IsolateAbortedError,
  IsolateCrashedError,
  IsolateOutOfMemoryError,
  IsolateSerializationError,
  IsolateTimeoutError,
} from "./errors.js";
import { functionSource } from "./function-source.js";
import { type KillReason, settle } from "./outcome.js";
import { type ChildOptions, ProcessChild } from "./process-child.js";
import type { Task } from "./protocol.js";
import { ScratchFiles } from "./scratch.js";
import { findUnserializable } from "./serializable.js";
import { WorkerChild } from "./worker-child.js";

/** Where isolated code runs: a fresh Node process (default) or a fresh worker thread. */
export type IsolateMode = "process" | "worker";

/** When a child may serve another call instead of being discarded. */
export interface ReusePolicy {
  /** Recycle after this many calls. @defaultValue 100 */
  readonly maxCalls?: number;
  /** Recycle when resident memory grew by more than this since the child started (process mode). */
  readonly maxRssGrowthMb?: number;
  /** Recycle when the V8 heap in use grew by more than this since the first call. */
  readonly maxHeapGrowthMb?: number;
}

/** Options of an `Isolator` (fixed for its children, which are started ahead of time). */
export interface IsolatorOptions {
  /** @defaultValue "process" */
  readonly mode?: IsolateMode;
  /** Children kept started and idle, so a call does not wait for a cold start. @defaultValue 1 */
  readonly spares?: number;
  /** Reuse children across calls (trading freshness for throughput); off by default: one call per child. */
  readonly reuse?: ReusePolicy | boolean;
  /**
   * Memory the function may use, in MiB. It sets the child's V8 heap limit
   * (`--max-old-space-size`, or the worker's `resourceLimits`), and in process mode the parent also
   * watches the child's resident memory, native buffers included: a call may grow it by this limit
   * plus headroom for V8's young generation and code (half the limit, at least 32 MiB) before the
   * child is killed with `IsolateOutOfMemoryError` (`kind: "rss"`).
   */
  readonly memoryLimitMb?: number;
  /** Calls running at once; more wait in a queue. @defaultValue 2 x available cores */
  readonly maxConcurrency?: number;
  /** Forward the isolated code's stdout/stderr ("inherit") or drop them ("ignore"). @defaultValue "inherit" */
  readonly output?: "inherit" | "ignore";
  /** Extra Node flags for the children. @defaultValue [] */
  readonly execArgv?: readonly string[];
}

/** Options of one call. */
export interface CallOptions<A extends readonly unknown[] = readonly unknown[]> {
  /** Arguments, sent by structured clone. */
  readonly args?: A;
  /** Stop the call (and kill its child) after this many milliseconds, CPU-bound code included. */
  readonly timeoutMs?: number;
  /** Stop the call (and kill its child) when this signal aborts. */
  readonly signal?: AbortSignal;
}

/** A module export to run instead of a function's source: `{ module: new URL("./task.js", import.meta.url), export: "run" }`. */
export interface ModuleTask {
  readonly module: string | URL;
  /** @defaultValue "default" */
  readonly export?: string;
}

/** Figures about one call, from `runWithStats`. */
export interface CallStats {
  /** Wall time seen by the caller, from taking a child to the settled result. */
  readonly wallMs: number;
  /** CPU time the isolated side used for the call (whole process in process mode; in worker mode, the process's). */
  readonly cpuMs: number;
  /** Peak resident memory of the isolated process (process mode: that child; worker mode: the whole process). */
  readonly peakRssBytes: number;
  /** V8 heap in use in the isolated context when the call ended. */
  readonly heapUsedBytes: number;
}

const FILE_THRESHOLD = 1 << 20;

/** Bytes a call may grow the child's resident memory by under `memoryLimitMb` (see its doc). */
function rssAllowance(limitMb: number): number {
  return (limitMb + Math.max(32, limitMb / 2)) * 1024 * 1024;
}
const MIB = 1024 * 1024;
const everyChild = new Set<IsolatedChild>();
let exitHookInstalled = false;

function toTask(target: unknown): Task {
  if (typeof target === "function") return { kind: "source", source: functionSource(target) };
  if (typeof target === "object" && target !== null && "module" in target) {
    const { module, export: exportName = "default" } = target as ModuleTask;
    const url = module instanceof URL ? module.href : String(module);
    return { kind: "module", url, exportName };
  }
  return { kind: "source", source: functionSource(target) };
}

/**
 * Runs functions in fresh isolated processes or workers, keeping spares started so the fresh
 * start costs the caller nothing. Spares never keep the caller's event loop alive and die with
 * the caller, even if it is killed with SIGKILL.
 *
 * @example
 * ```ts
 * const isolator = new Isolator({ mode: "process", spares: 2, memoryLimitMb: 256 });
 * const sum = await isolator.run((a: number, b: number) => a + b, { args: [1, 2] });
 * ```
 */
export class Isolator {
  readonly #mode: IsolateMode;
  readonly #spares: number;
  readonly #reuse: Required<ReusePolicy> | undefined;
  readonly #limitMb: number | undefined;
  readonly #maxConcurrency: number;
  readonly #childOptions: ChildOptions;
  #idle: IsolatedChild[] = [];
  #active = 0;
  #queue: (() => void)[] = [];
  #closed = false;
  #replenishing = false;
  readonly #scratch = new ScratchFiles();
  #nextId = 1;
  readonly #baseline = new WeakMap<IsolatedChild, { rss: number | undefined; heap: number | undefined }>();

  /**
   * @param options Mode, spares, reuse policy, limits.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for an unknown mode.
   */
  constructor(options: IsolatorOptions = {}) {
    const mode = options.mode ?? "process";
    if (mode !== "process" && mode !== "worker")
      throw new InvalidArgumentError(`mode must be "process" or "worker", got ${String(mode)}`);
    this.#mode = mode;
    this.#spares = checkSize(options.spares ?? 1, "spares", 0, 64);
    this.#limitMb =
      options.memoryLimitMb === undefined ? undefined : checkSize(options.memoryLimitMb, "memoryLimitMb", 8, 1 << 20);
    this.#maxConcurrency = checkSize(options.maxConcurrency ?? availableParallelism() * 2, "maxConcurrency", 1, 1024);
    const reuse = options.reuse === true ? {} : options.reuse === false ? undefined : options.reuse;
    this.#reuse =
      reuse === undefined
        ? undefined
        : {
            maxCalls: checkSize(reuse.maxCalls ?? 100, "reuse.maxCalls", 1, 2 ** 31 - 1),
            maxRssGrowthMb: reuse.maxRssGrowthMb ?? Number.POSITIVE_INFINITY,
            maxHeapGrowthMb: reuse.maxHeapGrowthMb ?? Number.POSITIVE_INFINITY,
          };
    this.#childOptions = {
      memoryLimitMb: this.#limitMb,
      execArgv: options.execArgv ?? [],
      output: options.output ?? "inherit",
    };
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once("exit", () => {
        for (const child of everyChild) child.kill();
      });
    }
    this.#replenish();
  }

  #spawn(): IsolatedChild {
    const child = this.#mode === "process" ? new ProcessChild(this.#childOptions) : new WorkerChild(this.#childOptions);
    everyChild.add(child);
    child.ready.then(
      () => this.#baseline.set(child, { rss: child.rssBytes(), heap: undefined }),
      () => everyChild.delete(child),
    );
    return child;
  }

  #replenish(): void {
    this.#idle = this.#idle.filter((c) => !c.exited);
    while (!this.#closed && this.#idle.length < this.#spares) this.#idle.push(this.#spawn());
  }

  /**
   * Starting a process blocks the event loop for milliseconds (fork + exec) and then competes
   * for CPU while it boots, so a replacement spare is started after the call's result was
   * delivered, never on the caller's critical path.
   */
  #replenishSoon(): void {
    if (this.#replenishing) return;
    this.#replenishing = true;
    setImmediate(() => {
      this.#replenishing = false;
      this.#replenish();
    }).unref();
  }

  #discard(child: IsolatedChild): void {
    child.kill();
    everyChild.delete(child);
  }

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.#maxConcurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener("abort", onAbort);
        this.#active++;
        resolve();
      };
      const onAbort = () => {
        this.#queue = this.#queue.filter((entry) => entry !== go);
        reject(new IsolateAbortedError("not-run", signal?.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(go);
    });
  }

  #release(): void {
    this.#active--;
    this.#queue.shift()?.();
  }

  /** A ready child: a started spare when there is one, else a new one (one retry if it dies starting). */
  async #take(signal: AbortSignal | undefined): Promise<IsolatedChild> {
    for (let attempt = 0; ; attempt++) {
      this.#idle = this.#idle.filter((c) => !c.exited);
      // The replacement spare starts when this call ends (#afterCall): on a small machine a
      // process starting beside the call would steal its CPU (measured: 2.4 -> 7 ms per call).
      const child = this.#idle.shift() ?? this.#spawn();
      // A caller is waiting now: the child must keep the event loop alive until it answers.
      child.ref();
      try {
        await child.ready;
      } catch (exit) {
        if (attempt < 1) continue;
        const {
          code = null,
          signal: sig = null,
          stderr = "",
        } = (exit ?? {}) as { code?: number | null; signal?: string | null; stderr?: string };
        throw new IsolateCrashedError(code, sig, stderr);
      }
      if (signal?.aborted) {
        child.unref();
        this.#idle.push(child);
        throw new IsolateAbortedError("not-run", signal.reason);
      }
      return child;
    }
  }

  /**
   * Runs `target` (a self-contained function, or a module export) in a fresh isolated context.
   *
   * @param target The function, sent as source text, or `{ module, export }`.
   * @param options Arguments, timeout, signal.
   * @returns The function's result.
   * @throws {IsolateOutOfMemoryError} ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY, {IsolateCrashedError} ERR_MEMKIT_ISOLATE_CRASHED,
   *   {IsolateExitedError} ERR_MEMKIT_ISOLATE_EXITED, {IsolateTimeoutError} ERR_MEMKIT_TIMEOUT, {IsolateAbortedError}
   *   ERR_MEMKIT_ABORTED, {IsolateSerializationError} ERR_MEMKIT_NOT_SERIALIZABLE, or what the function threw.
   * @example
   * ```ts
   * await isolator.run(() => 6 * 7); // 42
   * ```
   */
  async run<R, A extends readonly unknown[] = readonly unknown[]>(
    target: ((...args: A) => R | Promise<R>) | ModuleTask,
    options: CallOptions<A> = {},
  ): Promise<Awaited<R>> {
    return (await this.#run(target, options, false)).value as Awaited<R>;
  }

  /**
   * Like `run`, and also reports the call's wall time, CPU time, peak resident memory and heap.
   *
   * @param target The function or module export.
   * @param options Arguments, timeout, signal.
   * @returns `{ value, stats }`.
   * @example
   * ```ts
   * const { stats } = await isolator.runWithStats(() => new Array(1e6).fill(1).length);
   * console.log(stats.peakRssBytes);
   * ```
   */
  async runWithStats<R, A extends readonly unknown[] = readonly unknown[]>(
    target: ((...args: A) => R | Promise<R>) | ModuleTask,
    options: CallOptions<A> = {},
  ): Promise<{ value: Awaited<R>; stats: CallStats }> {
    return (await this.#run(target, options, true)) as { value: Awaited<R>; stats: CallStats };
  }

  async #run(
    target: unknown,
    options: CallOptions<readonly unknown[]>,
    statsRequested: boolean,
  ): Promise<{ value: unknown; stats: CallStats }> {
    const task = toTask(target);
    const timeoutMs =
      options.timeoutMs === undefined ? undefined : checkSize(options.timeoutMs, "timeoutMs", 0, 2 ** 31 - 1);
    const { signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new InvalidArgumentError("signal must be an AbortSignal");
    if (signal?.aborted) throw new IsolateAbortedError("not-run", signal.reason);
    if (this.#closed) throw new InvalidArgumentError("This isolator was closed");
    await this.#acquire(signal);
    try {
      const child = await this.#take(signal);
      return await this.#call(child, task, options.args ?? [], timeoutMs, signal, statsRequested);
    } finally {
      this.#release();
    }
  }

  async #call(
    child: IsolatedChild,
    task: Task,
    args: readonly unknown[],
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    statsRequested: boolean,
  ): Promise<{ value: unknown; stats: CallStats }> {
    const wantStats =
      statsRequested || (this.#reuse !== undefined && this.#reuse.maxHeapGrowthMb !== Number.POSITIVE_INFINITY);
    const started = performance.now();
    const limitMb = this.#limitMb;
    const rssStart = child.rssBytes();
    let peakRss = rssStart ?? 0;
    let killed: KillReason;
    const stop = (reason: NonNullable<KillReason>) => {
      if (killed !== undefined) return;
      killed = reason;
      child.kill();
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              stop({
                kind: "timeout",
                error: new IsolateTimeoutError(`The isolated call ran past ${timeoutMs} ms and was stopped`, timeoutMs),
              }),
            timeoutMs,
          );
    const onAbort = () => stop({ kind: "abort", error: new IsolateAbortedError("may-have-run", signal?.reason) });
    signal?.addEventListener("abort", onAbort, { once: true });
    const watch =
      rssStart === undefined
        ? undefined
        : setInterval(() => {
            const rss = child.rssBytes() ?? 0;
            if (rss > peakRss) peakRss = rss;
            if (limitMb !== undefined && rss - rssStart > rssAllowance(limitMb)) {
              stop({ kind: "rss", error: new IsolateOutOfMemoryError("rss", limitMb, peakRss / MIB, "") });
            }
          }, 20);
    child.ref();
    const scratch = child.mode === "process" ? this.#scratch.take() : undefined;
    let outcome: Awaited<ReturnType<IsolatedChild["call"]>>;
    try {
      outcome = await child.call({
        type: "run",
        id: this.#nextId++,
        task,
        args,
        fileThreshold: FILE_THRESHOLD,
        stats: wantStats,
        scratch,
      });
    } catch (error) {
      // The arguments could not be sent: the function never ran and the child is untouched.
      if (scratch !== undefined) this.#scratch.give(scratch);
      this.#idle.push(child);
      child.unref();
      const found = findUnserializable(args, "args") ?? { path: "args", detail: String(error) };
      throw new IsolateSerializationError("arguments", found.path, found.detail);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (watch !== undefined) clearInterval(watch);
      signal?.removeEventListener("abort", onAbort);
    }
    let settled: ReturnType<typeof settle>;
    try {
      settled = settle((path, length) => this.#scratch.read(path, length), outcome, killed, limitMb, peakRss / MIB);
    } finally {
      if (scratch !== undefined) this.#scratch.give(scratch);
    }
    this.#afterCall(
      child,
      killed !== undefined || outcome.type === "exit",
      settled.ok ? settled.stats?.heapUsedBytes : undefined,
    );
    if (!settled.ok) throw settled.error;
    const stats = settled.stats;
    return {
      value: settled.value,
      stats: {
        wallMs: performance.now() - started,
        cpuMs: stats?.cpuMs ?? 0,
        peakRssBytes: Math.max(stats?.peakRssBytes ?? 0, peakRss),
        heapUsedBytes: stats?.heapUsedBytes ?? 0,
      },
    };
  }

  /** Fresh mode discards the child; reuse mode keeps it while the policy allows. */
  #afterCall(child: IsolatedChild, dead: boolean, heapUsed: number | undefined): void {
    const reuse = this.#reuse;
    if (dead || reuse === undefined || this.#closed || child.calls >= reuse.maxCalls) {
      this.#discard(child);
      this.#replenishSoon();
      return;
    }
    const baseline = this.#baseline.get(child) ?? { rss: undefined, heap: undefined };
    if (baseline.heap === undefined && heapUsed !== undefined)
      this.#baseline.set(child, { ...baseline, heap: heapUsed });
    const rss = child.rssBytes();
    const rssGrowth = rss !== undefined && baseline.rss !== undefined ? (rss - baseline.rss) / MIB : 0;
    const heapGrowth = heapUsed !== undefined && baseline.heap !== undefined ? (heapUsed - baseline.heap) / MIB : 0;
    if (rssGrowth > reuse.maxRssGrowthMb || heapGrowth > reuse.maxHeapGrowthMb) {
      this.#discard(child);
      this.#replenishSoon();
      return;
    }
    child.unref();
    this.#idle.unshift(child);
  }

  /**
   * Resolves when every spare has started and can take a call at once (a spare that died while
   * starting is replaced and waited for too).
   *
   * @example
   * ```ts
   * const isolator = new Isolator({ spares: 2 });
   * await isolator.warm(); // the next two calls start without a cold start
   * ```
   */
  async warm(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      this.#replenish();
      const waiting = [...this.#idle];
      // Someone awaits these now: keep the event loop alive until they are up.
      for (const child of waiting) child.ref();
      const results = await Promise.allSettled(waiting.map((child) => child.ready));
      for (const child of waiting) child.unref();
      if (results.every((r) => r.status === "fulfilled")) return;
    }
  }

  /**
   * Stops the spares and refuses new calls; calls in flight finish.
   *
   * @example
   * ```ts
   * await isolator.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#idle) this.#discard(child);
    this.#idle = [];
    this.#scratch.clear();
  }
}
