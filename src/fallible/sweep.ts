import { isDeepStrictEqual } from "node:util";
import { Heap } from "../heap/index.js";
import { isMemkitError } from "../internal/errors.js";
import { type Allocator, HeapAllocator } from "./allocator.js";
import { FaultInjector } from "./fault-injector.js";

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
  /** Compares a result with the reference run's. @defaultValue util.isDeepStrictEqual */
  readonly equals?: (a: R, b: R) => boolean;
  /** Sweep at most this many allocations. @defaultValue 10000 */
  readonly maxAllocations?: number;
  /** Called after each run with how many runs are done out of how many. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What went wrong in a run, if anything. */
export type SweepProblem = "unexpected-error" | "wrong-result" | "leak" | "corrupt-heap" | "invariant";

/** One run with allocation `k` failing. */
export interface SweepRun {
  readonly k: number;
  readonly mode: "transient" | "persistent";
  /** `"same-result"` or `"alloc-error"` when handled; else the problem. */
  readonly outcome: "same-result" | "alloc-error" | SweepProblem;
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
}

function siteOf(stack: string): string {
  const frame = stack
    .split("\n")
    .find((line) => line.trim() !== "" && !/[\\/](fallible|heap)[\\/][\w-]+\.(js|ts)/.test(line));
  return (frame ?? stack.split("\n")[0] ?? "(unknown)").replace(/^at /, "").trim();
}

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
 * and all after). After each run it checks that the scenario either returned the same result or
 * failed with an `AllocError` (any other exception is a bug), that the heap passes `check()`, that
 * no block leaked, and that your invariant holds, and says which allocation sites are not handled.
 *
 * @param scenario The code under test.
 * @param options Heap factory, modes, invariant, cleanup.
 * @returns The report; see also `assertSweepClean`.
 * @example
 * ```ts
 * const report = await sweepAllocations((alloc) => buildIndex(alloc, words), { cleanup: (index) => index.free() });
 * console.log(formatSweepReport(report));
 * ```
 */
export async function sweepAllocations<R>(scenario: Scenario<R>, options: SweepOptions<R> = {}): Promise<SweepReport> {
  const makeHeap = options.heap ?? defaultHeap;
  const equals = options.equals ?? isDeepStrictEqual;
  const reference = new FaultInjector(new HeapAllocator(makeHeap()), { recordAllSites: true });
  const first = await runOnce(scenario, reference);
  if (!first.ok) throw first.error;
  const sites = reference.records.map((r) => siteOf(r.stack));
  const expected = first.value;
  const allocations = Math.min(reference.count, options.maxAllocations ?? 10_000);
  const runs: SweepRun[] = [];
  const modes = options.modes ?? (["transient", "persistent"] as const);
  for (const mode of modes) {
    for (let k = 1; k <= allocations; k++) {
      const heap = makeHeap();
      const before = heap.stats().liveBlocks;
      const allocator = new FaultInjector(new HeapAllocator(heap), { nth: k, mode });
      const result = await runOnce(scenario, allocator);
      let outcome: SweepRun["outcome"] = result.ok ? "same-result" : "alloc-error";
      let detail = "";
      // By code, not class: the scenario may use another copy of memkit (e.g. the built package).
      if (!result.ok && !(isMemkitError(result.error) && result.error.code === "ERR_MEMKIT_ALLOC_FAILED")) {
        outcome = "unexpected-error";
        detail = result.error instanceof Error ? `${result.error.name}: ${result.error.message}` : String(result.error);
      } else if (result.ok && !equals(result.value, expected)) {
        outcome = "wrong-result";
        detail = "returned a different result instead of reporting the failure";
      }
      try {
        options.check?.(result.ok ? result.value : undefined, allocator);
      } catch (error) {
        if (outcome === "same-result" || outcome === "alloc-error") {
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
      if (leaked > 0 && (outcome === "same-result" || outcome === "alloc-error")) {
        outcome = "leak";
        detail = `${leaked} block(s) still allocated after the run`;
      }
      runs.push({ k, mode, outcome, detail, site: sites[k - 1] ?? "(unknown)" });
      options.onProgress?.(runs.length, allocations * modes.length);
    }
  }
  const bySite = new Map<string, { runs: number; problems: Set<SweepProblem> }>();
  for (const run of runs) {
    const entry = bySite.get(run.site) ?? { runs: 0, problems: new Set<SweepProblem>() };
    entry.runs++;
    if (run.outcome !== "same-result" && run.outcome !== "alloc-error") entry.problems.add(run.outcome);
    bySite.set(run.site, entry);
  }
  const siteReports = [...bySite].map(([site, e]) => ({
    site,
    runs: e.runs,
    problems: [...e.problems],
    handled: e.problems.size === 0,
  }));
  return { allocations, runs, sites: siteReports, ok: siteReports.every((s) => s.handled) };
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
    `${report.allocations} allocation(s) swept, ${report.runs.length} run(s): ${report.ok ? "every site handled" : "UNHANDLED SITES"}`,
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
    .filter((r) => r.outcome !== "same-result" && r.outcome !== "alloc-error")
    .slice(0, 10)
    .map((r) => `  allocation #${r.k} (${r.mode}) at ${r.site}: ${r.outcome} ${r.detail}`);
  throw new Error(`${formatSweepReport(report)}\n${details.join("\n")}`);
}
