/**
 * The speed targets of the heap hardening issue, read off one benchmark run: memkit's TLSF
 * (Heap.fixed, zero: "none") against the AssemblyScript TLSF and glibc, default zeroing against none,
 * and memkit's high-water / peak live bytes.
 */
import { renderTable } from "../../src/cli/table.js";
import type { ResultRow } from "../harness.js";
import { ISOLATED } from "./isolated.js";

const TLSF = "memkit tlsf, Heap.fixed (zero: none)";
const CREATE_NONE = "memkit tlsf, Heap.create (zero: none)";
const CREATE_DEFAULT = "memkit tlsf, Heap.create (zero: alloc, default)";
const SCRIPT = "memkit tlsf, Heap.fixed, engine: typescript (zero: none)";

/** "cpu ratio (wall ratio)": CPU time holds up under load, wall-clock p50 is what mitata measured. */
function ratio(rows: readonly ResultRow[], a: string, b: string): string {
  const x = rows.find((r) => r.name === a);
  const y = rows.find((r) => r.name.startsWith(b));
  if (x === undefined || y === undefined) return "-";
  const wall = `${(x.p50_ns / y.p50_ns).toFixed(2)}x`;
  const cx = x["cpu/op"];
  const cy = y["cpu/op"];
  return typeof cx === "number" && typeof cy === "number" ? `${(cx / cy).toFixed(2)}x (${wall})` : wall;
}

/** p50 over p50 of two rows found by name (the isolated rows carry CPU time as their p50). */
function aloneRatio(a: ResultRow | undefined, b: ResultRow | undefined): string {
  return a === undefined || b === undefined ? "-" : `${(a.p50_ns / b.p50_ns).toFixed(2)}x`;
}

/** Prints one line per workload: each ratio is p50 over p50 from the same run (lower is better for memkit). */
export function printTargets(all: readonly ResultRow[]): void {
  const groups = [...new Set(all.map((r) => r.group))].filter((g) => all.some((r) => r.group === g && r.name === TLSF));
  const table = groups.map((group) => {
    const rows = all.filter((r) => r.group === group);
    const key = group.split(" ")[0] ?? group;
    const alone = all.filter((r) => r.group.startsWith(`${key} alone`));
    const glibc = rows.find((r) => r.name.startsWith("glibc"));
    const aloneEngine = alone.find((r) => r.name === ISOLATED.engine);
    const highWater = rows.find((r) => r.name === TLSF)?.["high-water/peak"];
    return [
      key,
      aloneRatio(
        aloneEngine,
        alone.find((r) => r.name === ISOLATED.as),
      ),
      aloneRatio(
        alone.find((r) => r.name === ISOLATED.typescript),
        alone.find((r) => r.name === ISOLATED.as),
      ),
      // glibc's replayer is a process of its own in every run: its CPU time per event.
      glibc === undefined || aloneEngine === undefined || typeof glibc["cpu/op"] !== "number"
        ? "-"
        : `${(aloneEngine.p50_ns / glibc["cpu/op"]).toFixed(2)}x`,
      ratio(rows, TLSF, "AssemblyScript"),
      ratio(rows, TLSF, "glibc"),
      ratio(rows, CREATE_DEFAULT, CREATE_NONE),
      ratio(rows, SCRIPT, "AssemblyScript"),
      typeof highWater === "number" ? highWater.toFixed(3) : "-",
    ];
  });
  console.log(
    "\nissue 10 targets (tlsf = Heap.fixed zero: none, its WebAssembly engine; typescript = the same with engine: typescript): tlsf/AS <= 1, tlsf/glibc <= 2 on T1, default/none <= 1.15, high-water/peak <= 1.10",
  );
  console.log(
    'each in-process ratio: CPU time per op, then (wall-clock p50), from the same run; "alone": one contender per process (heap/isolated.ts), CPU time',
  );
  const columns = [
    { title: "workload" },
    { title: "alone: tlsf / AS", right: true },
    { title: "alone: typescript / AS", right: true },
    { title: "alone: tlsf / glibc", right: true },
    { title: "tlsf / AssemblyScript", right: true },
    { title: "tlsf / glibc", right: true },
    { title: "zero alloc / none", right: true },
    { title: "typescript / AS", right: true },
    { title: "high-water/peak", right: true },
  ];
  console.log(renderTable(columns, table));
}
