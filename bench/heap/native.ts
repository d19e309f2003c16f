/**
 * The native references for memkit/heap: the C replayer (glibc-replay.c, built with gcc -O2) run with
 * glibc's malloc, and with jemalloc and mimalloc put in its place by LD_PRELOAD of the Debian libraries.
 * Each one is skipped with a printed reason when gcc or its library is missing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Trace } from "../../test/helpers/trace.js";
import { type WorkCount, workOf } from "./same-work.js";
import { encodeTrace } from "./workloads.js";

/** A native allocator the replayer can run with. */
export interface NativeAllocator {
  /** `glibc`, `jemalloc` or `mimalloc`: what the replayer must report it found. */
  readonly name: string;
  readonly label: string;
  /** Extra environment: LD_PRELOAD, and the allocator's switch to keep its memory during a run. */
  readonly env: Readonly<Record<string, string>>;
}

/** One allocator's figures for one workload (median and slowest of 11 timed replays after a warm-up). */
export interface NativeResult {
  readonly p50_ns: number;
  readonly p99_ns: number;
  /** glibc: peak arena+mmapped / peak live. Others: peak resident growth / peak live. */
  readonly footprint: number;
  /** Minor page faults per timed replay. */
  readonly faults: number;
  /** Median CPU time per event (the process's own CPU clock). */
  readonly cpu_ns: number;
}

const source = fileURLToPath(new URL("../../../bench/heap/glibc-replay.c", import.meta.url));
const libDirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"];

/** Compiles the C replayer with gcc, or returns undefined (and says why) when gcc is missing. */
export function buildNativeReplayer(): string | undefined {
  if (spawnSync("gcc", ["--version"]).status !== 0) {
    console.log("gcc not found: the glibc, jemalloc and mimalloc baselines are skipped (apt-get install gcc)");
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "memkit-bench-"));
  const binary = join(dir, "native-replay");
  execFileSync("gcc", ["-O2", "-o", binary, source]);
  return binary;
}

function findLibrary(file: string, pkg: string): string | undefined {
  const found = libDirs.map((dir) => join(dir, file)).find((path) => existsSync(path));
  if (found === undefined) console.log(`${file} not found: skipped (apt-get install ${pkg} to include it)`);
  return found;
}

/**
 * glibc always, then jemalloc and mimalloc when their libraries are installed. Every allocator keeps
 * its memory for the whole run, as memkit's heaps do: glibc through mallopt in the replayer, jemalloc
 * with decay off (it would purge dirty pages after 10 s), mimalloc with decommit off.
 */
export function nativeAllocators(): NativeAllocator[] {
  const list: NativeAllocator[] = [{ name: "glibc", label: "glibc malloc (C, gcc -O2)", env: {} }];
  const je = findLibrary("libjemalloc.so.2", "libjemalloc2");
  if (je !== undefined) {
    const env = { LD_PRELOAD: je, MALLOC_CONF: "dirty_decay_ms:-1,muzzy_decay_ms:-1" };
    list.push({ name: "jemalloc", label: "jemalloc 5 (C replayer, LD_PRELOAD)", env });
  }
  const mi = findLibrary("libmimalloc.so.2", "libmimalloc2.0");
  if (mi !== undefined) {
    const env = { LD_PRELOAD: mi, MIMALLOC_ALLOW_DECOMMIT: "0" };
    list.push({ name: "mimalloc", label: "mimalloc 2 (C replayer, LD_PRELOAD)", env });
  }
  return list;
}

/** Writes `trace` once where the replayer reads it. */
export function traceFile(trace: Trace): string {
  const file = join(mkdtempSync(join(tmpdir(), "memkit-trace-")), "trace.bin");
  writeFileSync(file, encodeTrace(trace));
  return file;
}

/**
 * Replays a trace file with `allocator` in a fresh process (its own heap, untouched by V8). Throws when
 * the preload did not take (the replayer names the malloc it found) or when the replayer's calls and
 * sizes differ from the trace's (see same-work.ts).
 */
export function runNative(binary: string, file: string, trace: Trace, allocator: NativeAllocator): NativeResult {
  const out = execFileSync(binary, [file], { env: { ...process.env, ...allocator.env } })
    .toString()
    .trim();
  const [found, p50, p99, footprint, ...rest] = out.split(" ");
  if (found !== allocator.name) throw new Error(`replayer ran with ${found}, expected ${allocator.name}`);
  const [mallocs, frees, reallocs, touches, bytes, faults, cpu] = rest.map(Number);
  const done: WorkCount = {
    mallocs: mallocs ?? 0,
    frees: frees ?? 0,
    reallocs: reallocs ?? 0,
    touches: touches ?? 0,
    bytes: bytes ?? 0,
  };
  const expected = workOf(trace);
  if (JSON.stringify(done) !== JSON.stringify(expected)) {
    throw new Error(
      `${allocator.name} replayer did other work: ${JSON.stringify(done)} vs ${JSON.stringify(expected)}`,
    );
  }
  return {
    p50_ns: Number(p50),
    p99_ns: Number(p99),
    footprint: Number(footprint),
    faults: faults ?? Number.NaN,
    cpu_ns: cpu ?? Number.NaN,
  };
}
