/**
 * The same replays with one contender per process: memkit's TLSF (its WebAssembly engine and, with
 * `engine: "typescript"`, its TypeScript path) and AssemblyScript's TLSF, each timed alone by
 * scripts/profile-heap.mjs --time (CPU ns per event, median of 3 processes).
 *
 * Why beside the in-process table: there every contender shares V8's type feedback with the others,
 * and memkit's heaps each have their own engine instance, so with four memkit heaps in one process
 * the call into WebAssembly sees four targets and V8 cannot inline it (measured: A1 1.3-1.4x
 * AssemblyScript in process, 0.9-1.4x alone). A program with one heap runs like the isolated row;
 * one with many heaps, like the in-process one. Both are reported.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { Contender } from "../harness.js";

const script = new URL("../../../scripts/profile-heap.mjs", import.meta.url);

/** The contenders, named as the in-process table names their counterparts. */
export const ISOLATED = {
  engine: "memkit tlsf, Heap.fixed (zero: none), one per process",
  typescript: "memkit tlsf, Heap.fixed, engine: typescript (zero: none), one per process",
  as: "AssemblyScript TLSF (wasm, -O3 --noAssert), one per process",
} as const;

function cpuNsPerEvent(workload: string, flag: string | undefined): number {
  const args = [script.pathname, workload, "--time", ...(flag === undefined ? [] : [flag])];
  const run = spawnSync(process.execPath, args, { encoding: "utf8" });
  const found = /([\d.]+) ns CPU per event/.exec(run.stdout);
  if (run.status !== 0 || found === null) throw new Error(`profile-heap ${args.join(" ")} failed: ${run.stderr}`);
  return Number(found[1]);
}

function median3(measure: () => number): { p50_ns: number; p99_ns: number } {
  const runs = [measure(), measure(), measure()].sort((a, b) => a - b);
  return { p50_ns: runs[1] as number, p99_ns: runs[2] as number };
}

/**
 * One group per workload key (`w1`, `w2`, `w3`, `t1`, `a1`): `p50_ns` is the median of three
 * processes, `p99_ns` the slowest. Empty where the profile script is not next to the bench build.
 */
export function isolatedContenders(workload: string): Contender[] {
  if (!existsSync(script)) return [];
  return [
    { name: ISOLATED.engine, measured: median3(() => cpuNsPerEvent(workload, undefined)) },
    { name: ISOLATED.typescript, measured: median3(() => cpuNsPerEvent(workload, "--typescript")) },
    { name: ISOLATED.as, measured: median3(() => cpuNsPerEvent(workload, "--as")) },
  ];
}
