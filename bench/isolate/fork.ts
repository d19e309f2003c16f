/**
 * Fork mode's groups in `npm run bench -- isolate`: fresh-per-call calls back to back through
 * fork mode, process mode, worker mode, `child_process.fork` per call, tinypool with
 * `isolateWorkers`, and a C fork + pipe + waitpid loop; a task module that takes 200 ms to
 * import; and what one fork costs as the template (or the C process) holds 0 / 100 / 500 MiB.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Isolator } from "memkit/isolate";
import { Tinypool } from "tinypool";
import type { Contender, Group } from "../harness.js";
import { coldFork, percentile, throughput } from "./manual.js";

const here = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
// Source files tsc does not copy (a C program, a plain module): read from the repository.
const source = (name: string) => fileURLToPath(new URL(`../../../bench/isolate/${name}`, import.meta.url));
const FORK_CALLS = 400;
const SLOW_CALLS = 40;
const fn = (x: number) => x * 2;

function row(
  name: string,
  sorted: number[],
  perSecond: number,
  extra: Record<string, number | string> = {},
): Contender {
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  return {
    name,
    measured: { p50_ns: p50 * 1e6, p99_ns: p99 * 1e6 },
    extra: () => ({ "calls/s seq": Math.round(perSecond), ...extra }),
  };
}

/** utime + stime + cutime + cstime of a process, in ms (clock ticks of 10 ms). */
function cpuOf(pid: string): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) * 10;
}

/**
 * CPU used so far by this process, its reaped children and its live children (fork templates
 * with the children they reaped, spares): the cost of a call whatever else loads the machine.
 * A child that exits in between moves from "live" into this process's reaped total, so
 * differences stay right.
 */
function cpuNow(): number {
  let total = cpuOf("self");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
      if (ppid === process.pid) total += cpuOf(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

async function sequential(name: string, calls: number, call: () => Promise<unknown>, extra = {}): Promise<Contender> {
  await call();
  const cpu = cpuNow();
  const { perSecond, sorted } = await throughput(calls, 1, call);
  const cpuMs = (cpuNow() - cpu) / calls;
  return row(name, sorted, perSecond, { "cpu ms/call": Number(cpuMs.toFixed(2)), ...extra });
}

/** The C reference: null when no C compiler is installed. */
function cReference(): ((calls: number, mb: number) => number[]) | null {
  const binary = join(mkdtempSync(join(tmpdir(), "memkit-fork-ref-")), "fork-ref");
  try {
    execFileSync(process.env.CC ?? "gcc", ["-O2", "-o", binary, source("fork-ref.c")], { stdio: "ignore" });
  } catch {
    return null;
  }
  return (calls, mb) =>
    execFileSync(binary, [String(calls), String(mb)], { encoding: "utf8", maxBuffer: 1 << 24 })
      .trim()
      .split("\n")
      .map((ns) => Number(ns) / 1e6)
      .sort((a, b) => a - b);
}

function cRow(name: string, sorted: number[]): Contender {
  const total = sorted.reduce((a, b) => a + b, 0);
  return row(name, sorted, sorted.length / (total / 1000));
}

/** A module task whose calls run once the template has preloaded it (calls until they are fast). */
async function preloaded(isolator: Isolator, module: URL): Promise<() => Promise<unknown>> {
  const call = () => isolator.run({ module, export: "noop" }, { args: [21] });
  const started = performance.now();
  await call();
  // The template that preloads the module starts in the background after the first call.
  while (performance.now() - started < 60_000) {
    const t = performance.now();
    await call();
    if (performance.now() - t < 50) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return call;
}

async function backToBack(reference: ReturnType<typeof cReference>): Promise<Group> {
  const contenders: Contender[] = [];
  const forked = new Isolator({ mode: "fork", output: "ignore" });
  await forked.warm();
  contenders.push(await sequential("memkit fork, fresh per call", FORK_CALLS, () => forked.run(fn, { args: [21] })));
  const four = await throughput(FORK_CALLS, 4, () => forked.run(fn, { args: [21] }));
  contenders.push(row("memkit fork, fresh per call, 4 in flight", four.sorted, four.perSecond));
  await forked.close();
  for (const mode of ["process", "worker"] as const) {
    const fresh = new Isolator({ mode, output: "ignore" });
    await fresh.warm();
    contenders.push(
      await sequential(`memkit ${mode}, fresh per call`, SLOW_CALLS, () => fresh.run(fn, { args: [21] })),
    );
    await fresh.close();
  }
  contenders.push(await sequential("child_process.fork per call", SLOW_CALLS / 2, coldFork));
  const tiny = new Tinypool({ filename: here("pool-task.js"), isolateWorkers: true, minThreads: 1, maxThreads: 1 });
  contenders.push(await sequential("tinypool isolateWorkers (new worker per task)", SLOW_CALLS, () => tiny.run(21)));
  await tiny.destroy();
  if (reference !== null) contenders.push(cRow("C fork + pipe + waitpid", reference(2000, 0)));
  return {
    name: `fresh process per call, back to back (fork: ${FORK_CALLS} calls; others: ${SLOW_CALLS})`,
    contenders,
  };
}

async function slowImport(): Promise<Group> {
  const module = new URL(`${pathUrl("hold.mjs")}?importMs=200`);
  const forked = new Isolator({ mode: "fork", output: "ignore" });
  const call = await preloaded(forked, module);
  const fast = await sequential("memkit fork, module preloaded by the template", FORK_CALLS / 2, call);
  const plain = await sequential("memkit fork, trivial function (no module)", FORK_CALLS / 2, () =>
    forked.run(fn, { args: [21] }),
  );
  await forked.close();
  const processMode = new Isolator({ mode: "process", output: "ignore" });
  await processMode.warm();
  const slow = await sequential("memkit process, fresh per call (imports it each call)", 10, () =>
    processMode.run({ module, export: "noop" }, { args: [21] }),
  );
  await processMode.close();
  return { name: "a task module that takes 200 ms to import", contenders: [fast, plain, slow] };
}

function pathUrl(name: string): string {
  return new URL(`../../../bench/isolate/${name}`, import.meta.url).href;
}

async function templateSize(reference: ReturnType<typeof cReference>): Promise<Group> {
  const contenders: Contender[] = [];
  for (const mb of [0, 100, 500]) {
    const forked = new Isolator({ mode: "fork", output: "ignore" });
    const call = await preloaded(forked, new URL(`${pathUrl("hold.mjs")}?mb=${mb}`));
    contenders.push(await sequential(`memkit fork, template holding ${mb} MiB`, 100, call));
    await forked.close();
    if (reference !== null) contenders.push(cRow(`C fork, process holding ${mb} MiB`, reference(200, mb)));
  }
  return { name: "one fork as the forked process grows (page tables are copied)", contenders };
}

/**
 * The fork-mode groups, measured now (all in this run, so ratios compare like with like).
 *
 * @returns The groups, for `runBenchmark`; none where fork mode cannot run.
 */
export async function forkGroups(): Promise<Group[]> {
  if (process.platform !== "linux") return [];
  const reference = cReference();
  if (!existsSync(source("hold.mjs"))) return [];
  return [await backToBack(reference), await slowImport(), await templateSize(reference)];
}
