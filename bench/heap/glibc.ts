import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Trace } from "../../test/helpers/trace.js";
import { encodeTrace } from "./workloads.js";

/** glibc's figures for one workload: ns per event (median, p99 of 7 replays) and footprint / peak live. */
export interface GlibcResult {
  readonly p50_ns: number;
  readonly p99_ns: number;
  readonly footprint: number;
}

const source = fileURLToPath(new URL("../../../bench/heap/glibc-replay.c", import.meta.url));

/** Compiles the C replayer with gcc, or returns undefined (and says why) when gcc is missing. */
export function buildGlibcReplayer(): string | undefined {
  if (spawnSync("gcc", ["--version"]).status !== 0) {
    console.log("gcc not found: the glibc baseline is skipped (apt-get install gcc to include it)");
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "memkit-bench-"));
  const binary = join(dir, "glibc-replay");
  execFileSync("gcc", ["-O2", "-o", binary, source]);
  return binary;
}

/** Replays `trace` with glibc in a fresh process (its own heap, untouched by V8). */
export function runGlibc(binary: string, trace: Trace): GlibcResult {
  const file = join(mkdtempSync(join(tmpdir(), "memkit-trace-")), "trace.bin");
  writeFileSync(file, encodeTrace(trace));
  const [p50, p99, footprint] = execFileSync(binary, [file]).toString().trim().split(" ").map(Number);
  return { p50_ns: p50 ?? Number.NaN, p99_ns: p99 ?? Number.NaN, footprint: footprint ?? Number.NaN };
}
