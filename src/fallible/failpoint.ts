import { InvalidArgumentError } from "../internal/errors.js";
import { checkFunction } from "../internal/validate.js";
import { FailpointError, FailpointUnsupportedError } from "./errors.js";
import { currentSeed, ensureEnv, install, makePoint, type Point, points, reseed } from "./failpoint-registry.js";
import type { FailpointAction } from "./failpoint-spec.js";

/** What a failpoint that fired `return(value)` hands back. */
export interface FailpointHit {
  readonly value: unknown;
}

/**
 * Configures (or reconfigures) the failpoint `name`, like the `fail` crate's `cfg` (a spec) and
 * `cfg_callback` (a function run on every hit). A paused caller of the old configuration resumes.
 *
 * @param name The failpoint's name, as passed to `failpoint()`.
 * @param spec The action chain, e.g. `"20%3*throw(msg)->off"`, `"return(5)"`, `"sleep(10)"`, or a callback.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT for a spec that does not parse (nothing changes).
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT for an empty name or one with ";" or "=".
 * @example
 * ```ts
 * configureFailpoint("cache.load", "1*return(null)");
 * configureFailpoint("cache.evict", () => evictions++);
 * ```
 */
export function configureFailpoint(name: string, spec: string | (() => void)): void {
  ensureEnv();
  install([[name, makePoint(name, spec)]]);
}

/**
 * Switches the failpoint `name` off (a paused caller resumes).
 * @param name The failpoint.
 * @example
 * ```ts
 * removeFailpoint("cache.load");
 * ```
 */
export function removeFailpoint(name: string): void {
  install([[name, undefined]]);
}

/**
 * The configured failpoints and their specs.
 * @returns name -> spec (`"<callback>"` for a callback).
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT when MEMKIT_FAILPOINTS is malformed.
 * @example
 * ```ts
 * console.log(listFailpoints());
 * ```
 */
export function listFailpoints(): Record<string, string> {
  ensureEnv();
  return Object.fromEntries([...points].map(([name, p]) => [name, p.spec]));
}

/**
 * The seed behind every failpoint probability: from `setFailpointSeed`, `MEMKIT_FAILPOINTS_SEED`,
 * or drawn at random on first use. Print it with a failing run; set it to replay the run.
 * @returns A whole number in 0..2^32-1.
 * @example
 * ```ts
 * console.error(`failpoint seed: ${failpointSeed()}`);
 * ```
 */
export function failpointSeed(): number {
  return currentSeed();
}

/**
 * Seeds every failpoint's generator: each failpoint draws from its own stream derived from the seed
 * and its name, so the same seed replays the same choices however failpoints interleave.
 * @param seed A whole number in 0..2^32-1.
 * @throws {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for anything else.
 * @example
 * ```ts
 * setFailpointSeed(1234);
 * ```
 */
export function setFailpointSeed(seed: number): void {
  reseed(seed);
}

/** The action to take now, as the fail crate picks it: the first whose chance and count allow. */
function evaluate(point: Point): FailpointAction | undefined {
  const { actions, remaining } = point;
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i] as FailpointAction;
    if (action.probability < 1 && point.random() >= action.probability) continue;
    const left = remaining[i] as number;
    if (left === 0) continue;
    remaining[i] = left - 1;
    return action.kind === "off" ? undefined : action;
  }
  return undefined;
}

function returnValue(raw: string | undefined): FailpointHit {
  if (raw === undefined || raw === "") return { value: undefined };
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { value: raw };
  }
}

function print(name: string, message: string | undefined): void {
  const text = `failpoint ${name}: ${message ?? "hit"}`;
  const stderr = (globalThis as { process?: { stderr?: { write?: (s: string) => void } } }).process?.stderr;
  if (stderr?.write !== undefined) stderr.write(`${text}\n`);
  else console.error(text);
}

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // The fail crate's `delay`: spin, keeping the thread busy.
  }
}

function blockingSleep(ms: number): void {
  try {
    // Wait on memory nobody will ever notify.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  } catch {
    busyWait(ms); // a browser's main thread may not block: spin instead
  }
}

/** A miss: fine for any string; anything else is a caller's mistake that would never fire. */
function checkName(name: unknown): undefined {
  if (typeof name !== "string") throw new InvalidArgumentError(`A failpoint name must be a string, got ${typeof name}`);
  return undefined;
}

/**
 * Shared start of both forms: the configured point and the action it takes on this call, or
 * undefined when nothing fires (no such failpoint, a callback ran, an `off` or a missed term).
 */
function fire(name: string): { point: Point; action: FailpointAction } | undefined {
  ensureEnv();
  const point = points.size === 0 ? undefined : points.get(name);
  if (point === undefined) return checkName(name);
  if (point.callback !== undefined) {
    point.callback();
    return undefined;
  }
  const action = evaluate(point);
  return action === undefined ? undefined : { point, action };
}

/** Shared by both forms: what to do for every task that needs no waiting. */
function perform(name: string, action: FailpointAction): FailpointHit | undefined {
  if (action.kind === "throw") throw new FailpointError(name, action.argument ?? "");
  if (action.kind === "print") print(name, action.argument);
  if (action.kind === "delay") busyWait(Number(action.argument));
  if (action.kind === "return") return returnValue(action.argument);
  return undefined;
}

/**
 * A named point in your code where a failure can be injected by configuration: does nothing (one
 * Map lookup when any failpoint is configured, less when none is) until configured. `sleep` blocks
 * the thread, `yield` does nothing (there is nothing to yield to synchronously), and `pause`
 * throws `FailpointUnsupportedError`: use `failpointAsync` where those matter.
 *
 * @param name The failpoint's name.
 * @returns `{ value }` when a `return(value)` action fires, so the caller can return early.
 * @throws {FailpointError} ERR_MEMKIT_FAILPOINT when a `throw(msg)`/`panic(msg)` action fires.
 * @throws {FailpointUnsupportedError} ERR_MEMKIT_UNSUPPORTED for `pause`.
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT when `name` is not a string.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT while MEMKIT_FAILPOINTS is malformed.
 * @example
 * ```ts
 * function readConfig() {
 *   const hit = failpoint("config.read");
 *   if (hit) return hit.value;
 *   return fs.readFileSync(path, "utf8");
 * }
 * ```
 */
export function failpoint(name: string): FailpointHit | undefined {
  const fired = fire(name);
  if (fired === undefined) return undefined;
  const { action } = fired;
  if (action.kind === "yield") return undefined;
  if (action.kind === "pause") throw new FailpointUnsupportedError(name, "pause");
  if (action.kind === "sleep") {
    blockingSleep(Number(action.argument));
    return undefined;
  }
  return perform(name, action);
}

/**
 * The async form of `failpoint`: `sleep(ms)` waits without blocking the event loop, `yield` gives
 * the event loop one turn, and `pause` waits until the failpoint is reconfigured or removed.
 *
 * @param name The failpoint's name.
 * @returns `{ value }` when a `return(value)` action fires.
 * @throws {FailpointError} ERR_MEMKIT_FAILPOINT when a `throw(msg)` action fires.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT while MEMKIT_FAILPOINTS is malformed.
 * @example
 * ```ts
 * const hit = await failpointAsync("db.query");
 * ```
 */
export async function failpointAsync(name: string): Promise<FailpointHit | undefined> {
  const fired = fire(name);
  if (fired === undefined) return undefined;
  const { point, action } = fired;
  if (action.kind === "pause") {
    await point.replaced;
    return undefined;
  }
  if (action.kind === "sleep" || action.kind === "yield") {
    await new Promise((resolve) => setTimeout(resolve, action.kind === "sleep" ? Number(action.argument) : 0));
    return undefined;
  }
  return perform(name, action);
}

/** A temporary failpoint configuration, undone by `restore()` or at the end of a `using` scope. */
export interface FailpointScope {
  /** Puts the previous configuration back (idempotent). */
  restore(): void;
  /** Same as `restore`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Applies `config` until the scope is disposed, then puts back exactly what was configured
 * before (for tests: `using scope = failpointScope({...})`). All or nothing: a bad spec applies none.
 *
 * @param config name -> spec (or callback).
 * @returns The scope.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT for a bad spec (nothing is applied).
 * @example
 * ```ts
 * using _ = failpointScope({ "net.send": "throw(link down)" });
 * ```
 */
export function failpointScope(config: Record<string, string | (() => void)>): FailpointScope {
  ensureEnv();
  if (typeof config !== "object" || config === null || Array.isArray(config))
    throw new InvalidArgumentError(`failpointScope needs an object of name -> spec, got ${String(config)}`);
  const next = Object.entries(config).map(([name, spec]) => [name, makePoint(name, spec)] as const);
  const saved = new Map(points);
  install(next);
  let done = false;
  const restore = () => {
    if (done) return;
    done = true;
    install([...points.keys()].filter((name) => !saved.has(name)).map((name) => [name, undefined] as const));
    for (const [name, point] of saved) if (points.get(name) !== point) install([[name, point]]);
  };
  return { restore, [Symbol.dispose]: restore };
}

/**
 * Runs `fn` with `config` applied and restores the previous configuration afterwards, whether
 * `fn` returns, throws or rejects.
 *
 * @param config name -> spec.
 * @param fn The code to run.
 * @returns What `fn` returns.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT for a bad spec (fn does not run).
 * @example
 * ```ts
 * await withFailpoints({ "db.write": "throw" }, () => save(record));
 * ```
 */
export function withFailpoints<T>(config: Record<string, string | (() => void)>, fn: () => T): T {
  checkFunction(fn, "withFailpoints fn");
  const scope = failpointScope(config);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scope.restore();
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => scope.restore()) as T;
  scope.restore();
  return result;
}
