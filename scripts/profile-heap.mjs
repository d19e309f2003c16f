#!/usr/bin/env node
/**
 * Profiles one heap-benchmark workload replayed against memkit's TLSF (Heap.fixed, zero: "none") or
 * the AssemblyScript TLSF (`--as`) and prints the functions with the most self time, and the CPU time
 * per event. Needs the bench build: `npm run build && npx tsc -p tsconfig.bench.json`.
 *
 *   node scripts/profile-heap.mjs t1            # t1 (cc1 trace), w1, w2, w3 or a1
 *   node scripts/profile-heap.mjs w1 --as
 *   node scripts/profile-heap.mjs w1 --typescript  # memkit with engine: "typescript" (not its WebAssembly engine)
 *   node scripts/profile-heap.mjs t1 --node-flag=--max-inlined-bytecode-size-cumulative=8000
 *   node scripts/profile-heap.mjs t1 --time      # no profiler: the CPU time per event only
 *
 * The time of one workload alone is optimistic: in the benchmark every contender's heap shares the
 * strategy's code and V8's type feedback, which costs memkit about 10-25% (measured while tuning).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../dist-bench/", import.meta.url);
const args = process.argv.slice(2);
const workload = args.find((a) => !a.startsWith("--")) ?? "t1";
const useAs = args.includes("--as");
const useTypeScript = args.includes("--typescript");

async function drive() {
  const { Heap } = await import(new URL("src/heap/index.js", root).href);
  const workloads = await import(new URL("bench/heap/workloads.js", root).href);
  const traces = await import(new URL("test/helpers/trace.js", root).href);
  const trace =
    workload === "t1" ? traces.withSurvivorsFreed(traces.loadTrace(traces.CC1_TRACE)) : workloads[workload]();
  let target;
  if (useAs) {
    const { assemblyScriptTarget } = await import(new URL("bench/heap/contenders.js", root).href);
    target = assemblyScriptTarget().target;
  } else {
    const heap = Heap.fixed(64 << 20, { zero: "none", ...(useTypeScript ? { engine: "typescript" } : {}) });
    target = {
      malloc: (n) => heap.malloc(n),
      free: (p) => heap.free(p),
      realloc: (p, n) => heap.realloc(p, n),
      touch: (p) => {
        heap.u8[p] = 1;
      },
    };
  }
  const table = new Float64Array(trace.ids);
  for (let i = 0; i < 50; i++) traces.replay(trace, target, table);
  const reps = 200;
  const start = process.cpuUsage();
  for (let i = 0; i < reps; i++) traces.replay(trace, target, table);
  const cpu = process.cpuUsage(start);
  console.log(
    `${workload} ${useAs ? "AssemblyScript" : useTypeScript ? "memkit (engine: typescript)" : "memkit"}: ${(((cpu.user + cpu.system) * 1e3) / (reps * trace.events)).toFixed(1)} ns CPU per event`,
  );
}

function top(file, count = 15) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(7)} ms  ${key}`);
  }
}

if (process.env.MEMKIT_PROFILE_CHILD === "1" || args.includes("--time")) {
  await drive();
} else {
  const dir = mkdtempSync(join(tmpdir(), "memkit-profile-"));
  const flags = args.filter((a) => a.startsWith("--node-flag=")).map((a) => a.slice("--node-flag=".length));
  const child = spawnSync(
    process.execPath,
    [
      ...flags,
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      "--cpu-prof-interval=50",
      new URL(import.meta.url).pathname,
      ...args,
    ],
    { stdio: "inherit", env: { ...process.env, MEMKIT_PROFILE_CHILD: "1" } },
  );
  if (child.status !== 0) process.exit(child.status ?? 1);
  const [file] = readdirSync(dir);
  top(join(dir, file));
}
