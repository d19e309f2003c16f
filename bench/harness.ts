/**
 * Shared benchmark harness: every `bench/<module>.bench.ts` describes groups of contenders
 * (memkit first, then the baselines its issue names); the harness measures them all in one run
 * with mitata, prints one comparison table per group and writes `bench/results/<module>.json`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { measure } from "mitata";
import { formatNs, renderTable } from "../src/cli/table.js";

/** One contender: `fn` performs `ops` operations per call (or `measured` comes from elsewhere). */
export interface Contender {
  readonly name: string;
  /** The work; omit it when `measured` carries figures taken outside mitata (a C baseline). */
  readonly fn?: () => unknown;
  /** Times per operation measured elsewhere in the same run, in ns. */
  readonly measured?: { readonly p50_ns: number; readonly p99_ns: number };
  /** Fewer samples for very slow contenders (at least 5). @defaultValue 12 */
  readonly samples?: number;
  /** Operations one call of `fn` performs; results are reported per operation. Default 1. */
  readonly ops?: number;
  /** Extra figures to report beside the time (memory ratios, bytes...). */
  readonly extra?: () => Record<string, number | string>;
}

/** Contenders compared against each other; the first is the reference for ratios. */
export interface Group {
  readonly name: string;
  readonly contenders: readonly Contender[];
}

/** One row of the JSON report. */
export interface ResultRow {
  readonly group: string;
  readonly name: string;
  readonly p50_ns: number;
  readonly p99_ns: number;
  readonly avg_ns: number;
  /** p50 of this contender divided by the p50 of the group's first contender. */
  readonly ratio: number;
  readonly [key: string]: number | string;
}

/** The environment line printed with every table and saved in the JSON. */
export function environment(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown cpu";
  return `node ${process.version} ${process.platform}-${process.arch}, ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

function fmtExtra(value: number | string | undefined): string {
  if (value === undefined) return "";
  return typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : value;
}

async function measureGroup(group: Group): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const contender of group.contenders) {
    const ops = contender.ops ?? 1;
    let times = contender.measured ?? { p50_ns: Number.NaN, p99_ns: Number.NaN };
    let avg = times.p50_ns;
    if (contender.fn !== undefined) {
      // Default GC handling: one collection before sampling, none inside, so GC cost a contender causes is counted.
      const samples = contender.samples ?? 12;
      const stats = await measure(contender.fn, { min_cpu_time: samples < 12 ? 0 : 300e6, min_samples: samples });
      times = { p50_ns: stats.p50 / ops, p99_ns: stats.p99 / ops };
      avg = stats.avg / ops;
    }
    rows.push({
      group: group.name,
      name: contender.name,
      ...times,
      avg_ns: avg,
      ratio: 1,
      ...(contender.extra?.() ?? {}),
    });
  }
  const base = rows[0]?.p50_ns ?? Number.NaN;
  return rows.map((row) => ({ ...row, ratio: row.p50_ns / base }));
}

/** Prints one group's rows as a table: ns per op and the ratio to the first contender. */
export function printGroup(name: string, rows: readonly ResultRow[]): void {
  const extraKeys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter(
    (k) => !["group", "name", "p50_ns", "p99_ns", "avg_ns", "ratio"].includes(k),
  );
  const columns = [
    { title: "contender" },
    { title: "p50/op", right: true },
    { title: "p99/op", right: true },
    { title: "x first", right: true },
    ...extraKeys.map((title) => ({ title, right: true })),
  ];
  const table = rows.map((r) => [
    r.name,
    formatNs(r.p50_ns),
    formatNs(r.p99_ns),
    `${r.ratio.toFixed(2)}x`,
    ...extraKeys.map((k) => fmtExtra(r[k])),
  ]);
  console.log(`\n${name}`);
  console.log(renderTable(columns, table));
}

/** Writes `bench/results/<module>.json`. */
export function writeResults(module: string, rows: readonly ResultRow[], notes: Record<string, unknown> = {}): string {
  const dir = new URL("../../bench/results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${module}.json`, dir);
  const report = { module, environment: environment(), date: new Date().toISOString(), results: rows, ...notes };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file.pathname;
}

/**
 * Measures every group, prints a table per group and writes the JSON report.
 * @returns The rows, for benchmarks that add derived figures.
 */
export async function runBenchmark(
  module: string,
  groups: readonly Group[],
  notes: Record<string, unknown> = {},
): Promise<ResultRow[]> {
  console.log(`memkit bench ${module} — ${environment()}`);
  const all: ResultRow[] = [];
  for (const group of groups) {
    const rows = await measureGroup(group);
    printGroup(group.name, rows);
    all.push(...rows);
  }
  const file = writeResults(module, all, notes);
  console.log(`\nwrote ${file}`);
  return all;
}
