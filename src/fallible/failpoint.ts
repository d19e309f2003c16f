import { FailpointError } from "./errors.js";
import { type FailpointAction, parseFailpointSpec } from "./failpoint-spec.js";

/** What a failpoint that fired `return(value)` hands back. */
export interface FailpointHit {
  readonly value: unknown;
}

interface Point {
  readonly spec: string;
  readonly actions: FailpointAction[];
  /** Index of the current step, and how often it fired. */
  step: number;
  fired: number;
}

const points = new Map<string, Point>();
let envLoaded = false;

function loadEnv(): void {
  envLoaded = true;
  const spec = process.env.MEMKIT_FAILPOINTS;
  if (spec === undefined || spec.trim() === "") return;
  for (const entry of spec
    .split(";")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf("=");
    if (eq <= 0)
      throw new FailpointError(
        "MEMKIT_FAILPOINTS",
        `MEMKIT_FAILPOINTS entry ${JSON.stringify(entry)} is not name=spec`,
      );
    configureFailpoint(entry.slice(0, eq).trim(), entry.slice(eq + 1).trim());
  }
}

/**
 * Configures (or reconfigures) the failpoint `name`.
 *
 * @param name The failpoint's name, as passed to `failpoint()`.
 * @param spec The action chain, e.g. `"20%3*throw(msg)->off"`, `"return(5)"`, `"sleep(10)"`.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT for a spec that does not parse.
 * @example
 * ```ts
 * configureFailpoint("cache.load", "1*return(null)");
 * ```
 */
export function configureFailpoint(name: string, spec: string): void {
  if (!envLoaded) loadEnv();
  points.set(name, { spec, actions: parseFailpointSpec(spec), step: 0, fired: 0 });
}

/**
 * Switches the failpoint `name` off.
 * @param name The failpoint.
 * @example
 * ```ts
 * removeFailpoint("cache.load");
 * ```
 */
export function removeFailpoint(name: string): void {
  points.delete(name);
}

/**
 * The configured failpoints and their specs.
 * @returns name -> spec.
 * @example
 * ```ts
 * console.log(listFailpoints());
 * ```
 */
export function listFailpoints(): Record<string, string> {
  if (!envLoaded) loadEnv();
  return Object.fromEntries([...points].map(([name, p]) => [name, p.spec]));
}

/** The step to perform now, advancing the chain; undefined when nothing fires. */
function evaluate(name: string): FailpointAction | undefined {
  const point = points.get(name);
  if (point === undefined) return undefined;
  const action = point.actions[point.step];
  if (action === undefined || action.kind === "off") return undefined;
  if (action.probability < 1 && Math.random() >= action.probability) return undefined;
  point.fired++;
  if (point.fired >= action.count) {
    point.step++;
    point.fired = 0;
  }
  return action;
}

function perform(name: string, action: FailpointAction): FailpointHit | undefined {
  if (action.kind === "throw") throw new FailpointError(name, action.argument ?? "");
  if (action.kind === "print") process.stderr.write(`failpoint ${name}: ${action.argument ?? "hit"}\n`);
  if (action.kind === "return") {
    const raw = action.argument;
    let value: unknown = raw;
    if (raw === undefined || raw === "") value = undefined;
    else {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    return { value };
  }
  return undefined;
}

/**
 * A named point in your code where a failure can be injected by configuration: does nothing (and
 * costs one Map lookup when any failpoint is configured, less when none is) until configured.
 *
 * @param name The failpoint's name.
 * @returns `{ value }` when a `return(value)` action fires, so the caller can return early.
 * @throws {FailpointError} ERR_MEMKIT_FAILPOINT when a `throw(msg)` action fires.
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
  if (!envLoaded) loadEnv();
  if (points.size === 0) return undefined;
  const action = evaluate(name);
  if (action === undefined) return undefined;
  if (action.kind === "sleep") {
    // A synchronous failpoint must block to delay: wait on memory nobody will ever notify.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(action.argument));
    return undefined;
  }
  return perform(name, action);
}

/**
 * The async form of `failpoint`: `sleep(ms)` waits without blocking the event loop.
 *
 * @param name The failpoint's name.
 * @returns `{ value }` when a `return(value)` action fires.
 * @throws {FailpointError} ERR_MEMKIT_FAILPOINT when a `throw(msg)` action fires.
 * @example
 * ```ts
 * const hit = await failpointAsync("db.query");
 * ```
 */
export async function failpointAsync(name: string): Promise<FailpointHit | undefined> {
  if (!envLoaded) loadEnv();
  if (points.size === 0) return undefined;
  const action = evaluate(name);
  if (action === undefined) return undefined;
  if (action.kind === "sleep") {
    await new Promise((resolve) => setTimeout(resolve, Number(action.argument)));
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
 * before (for tests: `using scope = failpointScope({...})`).
 *
 * @param config name -> spec.
 * @returns The scope.
 * @throws {InvalidFailpointError} ERR_MEMKIT_INVALID_FAILPOINT for a bad spec (nothing is applied).
 * @example
 * ```ts
 * using _ = failpointScope({ "net.send": "throw(link down)" });
 * ```
 */
export function failpointScope(config: Record<string, string>): FailpointScope {
  if (!envLoaded) loadEnv();
  for (const spec of Object.values(config)) parseFailpointSpec(spec);
  const saved = new Map(points);
  for (const [name, spec] of Object.entries(config)) configureFailpoint(name, spec);
  let done = false;
  const restore = () => {
    if (done) return;
    done = true;
    points.clear();
    for (const [name, point] of saved) points.set(name, point);
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
 * @example
 * ```ts
 * await withFailpoints({ "db.write": "throw" }, () => save(record));
 * ```
 */
export function withFailpoints<T>(config: Record<string, string>, fn: () => T): T {
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
