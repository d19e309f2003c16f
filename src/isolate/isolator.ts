import { availableParallelism } from "node:os";
import { InvalidArgumentError } from "../internal/errors.js";
import { checkSize } from "../internal/validate.js";
import type { CallOutcome, ChildOptions, IsolatedChild, StartFailure } from "./child.js";
import { IsolateAbortedError, IsolateSerializationError } from "./errors.js";
import { forkModeFor } from "./fork/fallback.js";
import type {
  CallOptions,
  CallStats,
  IsolateMode,
  IsolatorOptions,
  ModuleTask,
  ReusePolicy,
} from "./isolator-options.js";
import { rssAllowance } from "./oom-signals.js";
import { addClosureHint, type KillReason, type Settled, settle, startError } from "./outcome.js";
import type { Task } from "./protocol.js";
import { type ChildFactory, runtimeFor, runtimeNames } from "./runtimes.js";
import { ScratchFiles } from "./scratch.js";
import { findUnserializable } from "./serializable.js";
import { toTask } from "./task.js";

export type { CallOptions, CallStats, IsolateMode, IsolatorOptions, ModuleTask, ReusePolicy };

const FILE_THRESHOLD = 1 << 20;
// Starting a child costs as much CPU as thousands of trivial calls (measured on 2 cores: a
// process ~100 ms with its watchdog thread and warm-up, a worker ~30 ms; a trivial call ~0.1 ms),
// so recycling every 100 calls cut reuse throughput to a fraction of a plain pool's.
const DEFAULT_MAX_CALLS = 10_000;
// A child's replacement starts when the child has served this share of `maxCalls`.
const PREBOOT_AT = 0.75;
const MIB = 1024 * 1024;

const everyChild = new Set<IsolatedChild>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of everyChild) child.kill();
  });
}

function reusePolicy(option: IsolatorOptions["reuse"]): Required<ReusePolicy> | undefined {
  const reuse = option === true ? {} : option === false ? undefined : option;
  if (reuse === undefined) return undefined;
  return {
    maxCalls: checkSize(reuse.maxCalls ?? DEFAULT_MAX_CALLS, "reuse.maxCalls", 1, 2 ** 31 - 1),
    maxRssGrowthMb: reuse.maxRssGrowthMb ?? Number.POSITIVE_INFINITY,
    maxHeapGrowthMb: reuse.maxHeapGrowthMb ?? Number.POSITIVE_INFINITY,
  };
}

function childOptions(options: IsolatorOptions, limitMb: number | undefined): ChildOptions {
  const { env, execArgv = [] } = options;
  if (!Array.isArray(execArgv) || execArgv.some((flag) => typeof flag !== "string"))
    throw new InvalidArgumentError("execArgv must be an array of strings");
  if (env !== undefined && (typeof env !== "object" || env === null))
    throw new InvalidArgumentError(`env must be an object of strings, got ${env === null ? "null" : typeof env}`);
  return {
    memoryLimitMb: limitMb,
    execArgv,
    env: env === undefined ? undefined : { ...env },
    output: options.output ?? "inherit",
  };
}

/**
 * Runs functions in fresh isolated processes or workers, keeping spares started so the fresh
 * start costs the caller nothing. Spares never keep the caller's event loop alive and die with
 * the caller, even if it is killed with SIGKILL. Supports `await using`.
 *
 * @example
 * ```ts
 * await using isolator = new Isolator({ mode: "process", spares: 2, memoryLimitMb: 256 });
 * const sum = await isolator.run((a: number, b: number) => a + b, { args: [1, 2] });
 * ```
 */
export class Isolator {
  readonly #factory: ChildFactory;
  readonly #spares: number;
  readonly #reuse: Required<ReusePolicy> | undefined;
  readonly #limitMb: number | undefined;
  readonly #maxConcurrency: number;
  readonly #idleTimeoutMs: number;
  readonly #childOptions: ChildOptions;
  #idle: IsolatedChild[] = [];
  readonly #idleSince = new WeakMap<IsolatedChild, number>();
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  // Children past their reuse limit that serve on until a fresh child is ready to take over.
  readonly #due = new WeakSet<IsolatedChild>();
  readonly #prebooted = new WeakSet<IsolatedChild>();
  #active = 0;
  #queue: (() => void)[] = [];
  #closed = false;
  #replenishing = false;
  #replacing = false;
  readonly #scratch = new ScratchFiles();
  #nextId = 1;
  readonly #baseline = new WeakMap<IsolatedChild, { rss: number | undefined; heap: number | undefined }>();

  /**
   * @param options Mode, spares, reuse policy, limits, environment.
   * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for an unknown mode or a bad env/execArgv.
   * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for an out-of-range number.
   * @throws {IsolateForkUnavailableError} ERR_MEMKIT_ISOLATE_FORK_UNAVAILABLE for `mode: "fork"` where it cannot run (unless `fallback: "process"`).
   */
  constructor(options: IsolatorOptions = {}) {
    const mode = forkModeFor(options.mode ?? "process", options.fallback);
    const factory = runtimeFor(mode);
    if (factory === undefined)
      throw new InvalidArgumentError(`mode must be one of ${runtimeNames().join(", ")}; got ${String(mode)}`);
    this.#factory = factory;
    this.#spares = checkSize(options.spares ?? 1, "spares", 0, 64);
    this.#limitMb =
      options.memoryLimitMb === undefined ? undefined : checkSize(options.memoryLimitMb, "memoryLimitMb", 8, 1 << 20);
    // More children busy at once than cores only adds context switches (measured: 4 reused
    // processes on 2 cores ran at 0.6x the calls/s of 2).
    const concurrency = options.maxConcurrency ?? Math.max(2, availableParallelism());
    this.#maxConcurrency = checkSize(concurrency, "maxConcurrency", 1, 1024);
    const idle = options.idleTimeoutMs ?? Number.POSITIVE_INFINITY;
    this.#idleTimeoutMs = idle === Number.POSITIVE_INFINITY ? idle : checkSize(idle, "idleTimeoutMs", 1, 2 ** 31 - 1);
    this.#reuse = reusePolicy(options.reuse);
    this.#childOptions = childOptions(options, this.#limitMb);
    installExitHook();
    this.#replenish();
  }

  #spawn(): IsolatedChild {
    const child = this.#factory(this.#childOptions);
    everyChild.add(child);
    child.ready.then(
      () => {
        this.#baseline.set(child, { rss: child.rssBytes(), heap: undefined });
        if (this.#idle.includes(child)) this.#idleSince.set(child, performance.now());
      },
      () => everyChild.delete(child),
    );
    return child;
  }

  #park(child: IsolatedChild, front: boolean): void {
    child.unref();
    this.#idleSince.set(child, performance.now());
    if (front) this.#idle.unshift(child);
    else this.#idle.push(child);
    this.#watchIdle();
  }

  #replenish(): void {
    this.#idle = this.#idle.filter((c) => !c.exited);
    while (!this.#closed && this.#idle.length < this.#spares) this.#park(this.#spawn(), false);
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

  /**
   * One replacement for a child past its reuse limit, unless one is already starting: started
   * off the caller's path like a spare, and exactly one (topping up the spares here would start a
   * second whenever the reused children happen to be busy).
   */
  #replaceSoon(): void {
    if (this.#replacing) return;
    this.#replacing = true;
    setImmediate(() => {
      this.#replacing = false;
      // A fresh child already waiting (a spare, ready or starting) is the replacement.
      if (!this.#closed && !this.#idle.some((c) => c.calls === 0 && !c.exited)) this.#park(this.#spawn(), false);
    }).unref();
  }

  /** Stops idle children that waited longer than `idleTimeoutMs`. */
  #watchIdle(): void {
    if (this.#idleTimer !== undefined || this.#idleTimeoutMs === Number.POSITIVE_INFINITY) return;
    this.#idleTimer = setInterval(
      () => {
        const now = performance.now();
        // Idle time counts from when the child was ready: a slow start is not idleness.
        const expired = (c: IsolatedChild) => c.isReady && now - (this.#idleSince.get(c) ?? now) >= this.#idleTimeoutMs;
        for (const child of this.#idle.filter(expired)) this.#discard(child);
        this.#idle = this.#idle.filter((c) => !expired(c));
        if (this.#idle.length === 0) {
          clearInterval(this.#idleTimer);
          this.#idleTimer = undefined;
        }
      },
      Math.max(50, this.#idleTimeoutMs / 4),
    );
    this.#idleTimer.unref();
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

  /** A ready child: an idle one when there is one, else a new one (one retry if it fails to start). */
  async #take(signal: AbortSignal | undefined): Promise<IsolatedChild> {
    for (let attempt = 0; ; attempt++) {
      this.#idle = this.#idle.filter((c) => !c.exited);
      // The replacement spare starts when this call ends (#afterCall): on a small machine a
      // process starting beside the call would steal its CPU (measured: 2.4 -> 7 ms per call).
      const child = this.#takeIdle() ?? this.#spawn();
      // Reused children stay, so the spares must be topped up when one is taken: else the next
      // concurrent call (or a recycle) waits for a cold start. It starts off this call's path.
      if (this.#reuse !== undefined && this.#idle.length < this.#spares) this.#replenishSoon();
      // A caller is waiting now: the child must keep the event loop alive until it answers.
      child.ref();
      try {
        await child.ready;
      } catch (failure) {
        if (attempt < 1) continue;
        throw startError(failure as StartFailure);
      }
      if (signal?.aborted) {
        this.#park(child, true);
        throw new IsolateAbortedError("not-run", signal.reason);
      }
      return child;
    }
  }

  /**
   * The idle child to use: a ready one that is not past its reuse limit, else a ready one, else
   * any. When a started child takes over from one past its limit, that one retires now.
   */
  #takeIdle(): IsolatedChild | undefined {
    let index = this.#idle.findIndex((c) => c.isReady && !this.#due.has(c));
    if (index !== -1) {
      const [child] = this.#idle.splice(index, 1);
      const retiring = this.#idle.findIndex((c) => this.#due.has(c));
      const [old] = retiring !== -1 && child?.calls === 0 ? this.#idle.splice(retiring, 1) : [];
      if (old !== undefined) this.#discard(old);
      return child;
    }
    index = this.#idle.findIndex((c) => c.isReady);
    return this.#idle.splice(index === -1 ? 0 : index, 1)[0];
  }

  /**
   * Runs `target` (a self-contained function, or a module export) in a fresh isolated context.
   *
   * @param target The function, sent as source text, or `{ module, export }`.
   * @param options Arguments, timeout, signal.
   * @returns The function's result.
   * @throws {IsolateOutOfMemoryError} ERR_MEMKIT_ISOLATE_OUT_OF_MEMORY, {IsolateCrashedError} ERR_MEMKIT_ISOLATE_CRASHED,
   *   {IsolateExitedError} ERR_MEMKIT_ISOLATE_EXITED, {IsolateTimeoutError} ERR_MEMKIT_TIMEOUT, {IsolateAbortedError}
   *   ERR_MEMKIT_ABORTED, {IsolateSerializationError} ERR_MEMKIT_NOT_SERIALIZABLE, {IsolateStartError}
   *   ERR_MEMKIT_ISOLATE_START_FAILED, {IsolateLoadError} ERR_MEMKIT_ISOLATE_LOAD_FAILED,
   *   {IsolateInvalidFunctionError} ERR_MEMKIT_ISOLATE_INVALID_FUNCTION, or what the function threw.
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
   * @throws The same errors as `run`.
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
    // Resident memory is read (from /proc) only when a limit or the figures need it.
    const watch = this.#watch(child, timeoutMs, signal, limitMb, limitMb !== undefined || statsRequested);
    const scratch = child.mode === "process" || child.mode === "fork" ? this.#scratch.tryTake() : undefined;
    let outcome: CallOutcome;
    try {
      const id = this.#nextId++;
      outcome = await child.call({
        type: "run",
        id,
        task,
        args,
        fileThreshold: FILE_THRESHOLD,
        stats: wantStats,
        scratch,
      });
    } catch (error) {
      // The arguments could not be sent: the function never ran and the child is untouched.
      if (scratch !== undefined) this.#scratch.give(scratch);
      this.#park(child, true);
      const found = findUnserializable(args, "args") ?? { path: "args", detail: String(error) };
      throw new IsolateSerializationError("arguments", found.path, found.detail);
    } finally {
      watch.stop();
    }
    let settled: Settled;
    try {
      settled = settle((p, n) => this.#scratch.read(p, n), outcome, watch.killed(), limitMb, watch.peakRss() / MIB);
    } finally {
      // With no child kept alive, no watchdog could remove the file if we were killed: drop it now.
      if (scratch !== undefined) this.#scratch.give(scratch, this.#spares === 0 && this.#reuse === undefined);
    }
    const dead = watch.killed() !== undefined || outcome.type === "exit";
    this.#afterCall(child, dead, settled.ok ? settled.stats?.heapUsedBytes : undefined);
    if (!settled.ok) {
      if (task.kind === "source" && outcome.type === "threw") addClosureHint(settled.error);
      throw settled.error;
    }
    const stats = settled.stats;
    return {
      value: settled.value,
      stats: {
        wallMs: performance.now() - started,
        cpuMs: stats?.cpuMs ?? 0,
        peakRssBytes: Math.max(stats?.peakRssBytes ?? 0, watch.peakRss()),
        heapUsedBytes: stats?.heapUsedBytes ?? 0,
      },
    };
  }

  /** Starts the timeout, abort and resident-memory watchers of one call. */
  #watch(
    child: IsolatedChild,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    limitMb: number | undefined,
    measure: boolean,
  ) {
    const rssStart = measure ? child.rssBytes() : undefined;
    let peakRss = rssStart ?? 0;
    let killed: KillReason;
    const stop = (reason: NonNullable<KillReason>) => {
      if (killed !== undefined) return;
      killed = reason;
      child.kill();
    };
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => stop({ kind: "timeout", timeoutMs }), timeoutMs);
    const onAbort = () => stop({ kind: "abort", reason: signal?.reason });
    signal?.addEventListener("abort", onAbort, { once: true });
    const rssTimer =
      rssStart === undefined
        ? undefined
        : setInterval(() => {
            const rss = child.rssBytes() ?? 0;
            if (rss > peakRss) peakRss = rss;
            if (limitMb !== undefined && rss - rssStart > rssAllowance(limitMb)) stop({ kind: "rss", limitMb });
          }, 20);
    return {
      stop() {
        if (timer !== undefined) clearTimeout(timer);
        if (rssTimer !== undefined) clearInterval(rssTimer);
        signal?.removeEventListener("abort", onAbort);
      },
      killed: () => killed,
      peakRss: () => peakRss,
    };
  }

  /** Fresh mode discards the child; reuse mode keeps it while the policy allows. */
  #afterCall(child: IsolatedChild, dead: boolean, heapUsed: number | undefined): void {
    const reuse = this.#reuse;
    if (dead || reuse === undefined || this.#closed) {
      this.#discard(child);
      this.#replenishSoon();
      return;
    }
    if (this.#due.has(child) || this.#pastLimit(child, reuse, heapUsed)) {
      this.#due.add(child);
      // Retire only when a started child can take over, so no call waits for a cold start.
      const successor = this.#idle.find((c) => c.isReady && c.calls === 0 && !c.exited);
      if (successor !== undefined) {
        this.#idle = this.#idle.filter((c) => c !== successor);
        this.#idle.unshift(successor);
        this.#discard(child);
        return;
      }
      this.#replaceSoon();
    } else if (child.calls >= Math.ceil(reuse.maxCalls * PREBOOT_AT) && !this.#prebooted.has(child)) {
      // Start the replacement ahead of the limit: a start takes as long as hundreds of calls, and
      // until it is ready the old child serves past its limit.
      this.#prebooted.add(child);
      this.#replaceSoon();
    }
    this.#park(child, true);
  }

  #pastLimit(child: IsolatedChild, reuse: Required<ReusePolicy>, heapUsed: number | undefined): boolean {
    if (child.calls >= reuse.maxCalls) return true;
    const baseline = this.#baseline.get(child) ?? { rss: undefined, heap: undefined };
    if (baseline.heap === undefined && heapUsed !== undefined)
      this.#baseline.set(child, { ...baseline, heap: heapUsed });
    const rss = reuse.maxRssGrowthMb === Number.POSITIVE_INFINITY ? undefined : child.rssBytes();
    const rssGrowth = rss !== undefined && baseline.rss !== undefined ? (rss - baseline.rss) / MIB : 0;
    const heapGrowth = heapUsed !== undefined && baseline.heap !== undefined ? (heapUsed - baseline.heap) / MIB : 0;
    return rssGrowth > reuse.maxRssGrowthMb || heapGrowth > reuse.maxHeapGrowthMb;
  }

  /**
   * Resolves when every idle child has started and can take a call at once (a spare that died
   * while starting is replaced and waited for too).
   *
   * @returns When the spares are ready.
   * @example
   * ```ts
   * const isolator = new Isolator({ spares: 2 });
   * await isolator.warm(); // the next two calls start without a cold start
   * ```
   */
  async warm(): Promise<void> {
    // Let a replacement scheduled by the last call (#replenishSoon) be started first.
    await new Promise((resolve) => setImmediate(resolve));
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
   * Stops the idle children (with their process groups) and refuses new calls; calls in flight
   * finish, and their children are stopped when they do.
   *
   * @returns When the idle children were told to stop.
   * @example
   * ```ts
   * await isolator.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const child of this.#idle) this.#discard(child);
    this.#idle = [];
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#scratch.clear();
  }

  /**
   * `await using isolator = new Isolator()` closes it at the end of the scope.
   *
   * @returns When closed.
   * @example
   * ```ts
   * { await using isolator = new Isolator(); await isolator.run(() => 1); } // closed here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
