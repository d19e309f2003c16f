import { Heap } from "../heap/index.js";
import { InvalidArgumentError, isMemkitError } from "../internal/errors.js";
import { freshSeed } from "../internal/random.js";
import { type Allocator, HeapAllocator } from "./allocator.js";
import { deepEqual } from "./deep-equal.js";
import { setFailpointSeed } from "./failpoint.js";
import { FaultInjector } from "./fault-injector.js";
import { isOwnFrame } from "./own-frames.js";
import { checkSweepOptions } from "./sweep-options.js";

/** Code under test: allocates through `allocator` and returns a result (sync or async). */
export type Scenario<R> = (allocator: Allocator) => R | Promise<R>;

/** Options of `sweepAllocations`. */
export interface SweepOptions<R> {
  /** A fresh heap for each run. @defaultValue () => Heap.create({ initialBytes: 64 KiB, maxBytes: 64 MiB }) */
  readonly heap?: () => Heap;
  /** @defaultValue ["transient", "persistent"] */
  readonly modes?: readonly ("transient" | "persistent")[];
  /** Your own invariant, run after every run on the result (or undefined when it failed); throw if broken. */
  readonly check?: (result: R | undefined, allocator: Allocator) => void;
  /** Frees what a successful result owns, so leaks can be told from results. */
  readonly cleanup?: (result: R, allocator: Allocator) => void;
  /** Compares a result with the reference run's. @defaultValue util.isDeepStrictEqual (a built-in deep equality where node:util is missing) */
  readonly equals?: (a: R, b: R) => boolean;
  /** Sweep at most this many allocations. @defaultValue 10000 */
  readonly maxAllocations?: number;
  /** Called after each run with how many runs are done out of how many. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Seeds every random choice of the sweep (failpoint probabilities, re-seeded before each run so
   * each run replays alone). The report carries it. @defaultValue a fresh random seed
   */
  readonly seed?: number;
  /**
   * SQLite's rule: an injected failure outside a benign region must surface as an `AllocError`;
   * a run that returns success anyway swallowed it (`"swallowed"`). `false` accepts such runs as
   * handled. Mark code that degrades on purpose with `benign()` instead.
   * @defaultValue true
   */
  readonly strict?: boolean;
}

/** What went wrong in a run, if anything. */
export type SweepProblem =
  | "unexpected-error"
  | "wrong-result"
  | "leak"
  | "corrupt-heap"
  | "invariant"
  | "swallowed"
  | "benign-escaped";

/** One run with allocation `k` failing. */
export interface SweepRun {
  readonly k: number;
  readonly mode: "transient" | "persistent";
  /**
   * Handled: `"alloc-error"` (the failure surfaced), `"same-result"` (nothing was injected, or
   * `strict: false`), `"benign"` (only benign-region failures, absorbed). Else the problem:
   * `"swallowed"` (success despite a non-benign failure), `"benign-escaped"` (a benign failure made
   * the run fail), and the rest.
   */
  readonly outcome: "same-result" | "alloc-error" | "benign" | SweepProblem;
  readonly detail: string;
  /** Where allocation `k` happens (first stack frame outside memkit). */
  readonly site: string;
}

/** All runs whose failing allocation happens at one site. */
export interface SweepSite {
  readonly site: string;
  readonly runs: number;
  readonly problems: readonly SweepProblem[];
  readonly handled: boolean;
}

/** The result of `sweepAllocations`. */
export interface SweepReport {
  /** Allocations the scenario makes when nothing fails. */
  readonly allocations: number;
  readonly runs: readonly SweepRun[];
  readonly sites: readonly SweepSite[];
  /** True when every run was handled. */
  readonly ok: boolean;
  /** The seed of every random choice in the sweep: pass it as `seed` (or `--seed`) to replay. */
  readonly seed: number;
}

function siteOf(stack: string): string {
  const frame = stack.split("\n").find((line) => line.trim() !== "" && !isOwnFrame(line));
  return (frame ?? stack.split("\n")[0] ?? "(unknown)").replace(/^at /, "").trim();
}

// node:util's deep equality where the runtime has it (reached without a `node:` import, so this
// module still loads in a browser), else a built-in one with the same rules for plain data.
const nodeUtil = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:util") as { isDeepStrictEqual(a: unknown, b: unknown): boolean } | undefined;
const defaultEquals: (a: unknown, b: unknown) => boolean = nodeUtil?.isDeepStrictEqual ?? deepEqual;

const defaultHeap = () => Heap.create({ initialBytes: 64 * 1024, maxBytes: 64 * 1024 * 1024 });

async function runOnce<R>(
  scenario: Scenario<R>,
  allocator: Allocator,
): Promise<{ ok: true; value: R } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await scenario(allocator) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * SQLite-style exhaustive out-of-memory testing: runs `scenario` once to count its allocations,
 * then once per allocation k = 1..N with allocation k failing (transient: only it; persistent: it
 * and all after). After each run it checks, as SQLite's malloc tests do, that a failure surfaced
 * as an `AllocError` (any other exception is a bug; success despite it is "swallowed" unless the
 * failure was inside a `benign()` region, where success is required), that the heap passes
 * `check()`, that no block leaked, and that your invariant holds, and says which allocation sites
 * are not handled. Failpoints are re-seeded with the sweep's seed before each run.
 *
 * @param scenario The code under test.
 * @param options Heap factory, modes, invariant, cleanup, seed, strictness.
 * @returns The report (with its seed); see also `assertSweepClean`.
 * @throws {InvalidArgumentError} ERR_MEMKIT_INVALID_ARGUMENT / {InvalidSizeError} ERR_MEMKIT_INVALID_SIZE for a bad option.
 * @example
 * ```ts
 * const report = await sweepAllocations((alloc) => buildIndex(alloc, words), { cleanup: (index) => index.free() });
 * console.log(formatSweepReport(report));
 * ```
 */
export async function sweepAllocations<R>(scenario: Scenario<R>, options: SweepOptions<R> = {}): Promise<SweepReport> {
  checkSweepOptions(options);
  if (typeof scenario !== "function")
    throw new InvalidArgumentError(`scenario must be a function, got ${typeof scenario}`);
  const seed = options.seed ?? freshSeed();
  const makeHeap = options.heap ?? defaultHeap;
  setFailpointSeed(seed);
  const reference = new FaultInjector(new HeapAllocator(makeHeap()), { recordAllSites: true, seed });
  const first = await runOnce(scenario, reference);
  if (!first.ok) throw first.error;
  const sites = reference.records.map((r) => siteOf(r.stack));
  const allocations = Math.min(reference.count, options.maxAllocations ?? 10_000);
  const runs: SweepRun[] = [];
  const modes = options.modes ?? (["transient", "persistent"] as const);
  for (const mode of modes) {
    for (let k = 1; k <= allocations; k++) {
      setFailpointSeed(seed);
      const run = await sweepRun(scenario, options, first.value, { k, mode, seed, makeHeap });
      runs.push({ ...run, site: sites[k - 1] ?? "(unknown)" });
      options.onProgress?.(runs.length, allocations * modes.length);
    }
  }
  const siteReports = summarize(runs);
  return { allocations, runs, sites: siteReports, ok: siteReports.every((s) => s.handled), seed };
}

const handled = (outcome: SweepRun["outcome"]) =>
  outcome === "same-result" || outcome === "alloc-error" || outcome === "benign";

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

interface RunSetup {
  readonly k: number;
  readonly mode: "transient" | "persistent";
  readonly seed: number;
  readonly makeHeap: () => Heap;
}

/** What the result says, before the heap checks: handled, or which problem. */
function classify<R>(
  result: { ok: true; value: R } | { ok: false; error: unknown },
  injector: FaultInjector,
  expected: R,
  options: SweepOptions<R>,
): Pick<SweepRun, "outcome" | "detail"> {
  const onlyBenign = injector.failures > 0 && injector.benignFailures === injector.failures;
  const equals = options.equals ?? defaultEquals;
  if (!result.ok) {
    // By code, not class: the scenario may use another copy of memkit (e.g. the built package).
    if (!(isMemkitError(result.error) && result.error.code === "ERR_MEMKIT_ALLOC_FAILED"))
      return { outcome: "unexpected-error", detail: describe(result.error) };
    if (onlyBenign) return { outcome: "benign-escaped", detail: "a failure inside a benign region made the run fail" };
    return { outcome: "alloc-error", detail: "" };
  }
  if (!equals(result.value, expected))
    return { outcome: "wrong-result", detail: "returned a different result instead of reporting the failure" };
  if (onlyBenign) return { outcome: "benign", detail: "" };
  if (injector.failures > 0 && options.strict !== false)
    return {
      outcome: "swallowed",
      detail:
        "returned success although an allocation failed outside any benign region (mark degrading code with benign())",
    };
  return { outcome: "same-result", detail: "" };
}

async function sweepRun<R>(
  scenario: Scenario<R>,
  options: SweepOptions<R>,
  expected: R,
  setup: RunSetup,
): Promise<Omit<SweepRun, "site">> {
  const heap = setup.makeHeap();
  const before = heap.stats().liveBlocks;
  const allocator = new FaultInjector(new HeapAllocator(heap), { nth: setup.k, mode: setup.mode, seed: setup.seed });
  const result = await runOnce(scenario, allocator);
  let { outcome, detail } = classify(result, allocator, expected, options);
  try {
    options.check?.(result.ok ? result.value : undefined, allocator);
  } catch (error) {
    // The user's own invariant says more than "swallowed" about what went wrong.
    if (handled(outcome) || outcome === "swallowed") {
      outcome = "invariant";
      detail = error instanceof Error ? error.message : String(error);
    }
  }
  if (result.ok) options.cleanup?.(result.value, allocator);
  try {
    heap.check();
  } catch (error) {
    outcome = "corrupt-heap";
    detail = error instanceof Error ? error.message : String(error);
  }
  // A corrupt heap's stats() throws HeapCorruptionError (its walk validates every header): no leak count then.
  const leaked = outcome === "corrupt-heap" ? 0 : heap.stats().liveBlocks - before;
  if (leaked > 0 && handled(outcome)) {
    outcome = "leak";
    detail = `${leaked} block(s) still allocated after the run`;
  }
  return { k: setup.k, mode: setup.mode, outcome, detail };
}

function summarize(runs: readonly SweepRun[]): SweepSite[] {
  const bySite = new Map<string, { runs: number; problems: Set<SweepProblem> }>();
  for (const run of runs) {
    const entry = bySite.get(run.site) ?? { runs: 0, problems: new Set<SweepProblem>() };
    entry.runs++;
    if (!handled(run.outcome)) entry.problems.add(run.outcome as SweepProblem);
    bySite.set(run.site, entry);
  }
  return [...bySite].map(([site, e]) => ({
    site,
    runs: e.runs,
    problems: [...e.problems],
    handled: e.problems.size === 0,
  }));
}

/**
 * The report as a table: one row per allocation site, handled or with its problems.
 *
 * @param report From `sweepAllocations`.
 * @returns Printable text.
 * @example
 * ```ts
 * console.log(formatSweepReport(report));
 * ```
 */
export function formatSweepReport(report: SweepReport): string {
  const lines = [
    `${report.allocations} allocation(s) swept, ${report.runs.length} run(s), seed ${report.seed}: ${report.ok ? "every site handled" : "UNHANDLED SITES"}`,
  ];
  for (const site of report.sites) {
    lines.push(
      `${site.handled ? "ok  " : "FAIL"}  ${site.runs} run(s)  ${site.problems.join(", ") || "handled"}  ${site.site}`,
    );
  }
  return lines.join("\n");
}

/**
 * Throws an `Error` listing every unhandled site when the sweep found a problem (for test suites).
 *
 * @param report From `sweepAllocations`.
 * @throws {Error} With the formatted report.
 * @example
 * ```ts
 * assertSweepClean(await sweepAllocations(scenario));
 * ```
 */
export function assertSweepClean(report: SweepReport): void {
  if (report.ok) return;
  const details = report.runs
    .filter((r) => !handled(r.outcome))
    .slice(0, 10)
    .map((r) => `  allocation #${r.k} (${r.mode}) at ${r.site}: ${r.outcome} ${r.detail}`);
  throw new Error(`${formatSweepReport(report)}\n${details.join("\n")}`);
}
