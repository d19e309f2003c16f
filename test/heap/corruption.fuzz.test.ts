/**
 * The corruption fuzzer (issue 10): stray writes anywhere in a heap's memory, then random calls; every
 * call must end normally or throw a coded memkit error, never hang, never return a pointer outside the
 * block region or overlapping a held block. See test/helpers/corruption-fuzz.ts.
 *
 * Environment:
 * - MEMKIT_CORRUPTION_FUZZ=1 turns it on (the heap does not hold the invariant yet; the hardening
 *   branch removes this gate).
 * - MEMKIT_FUZZ_RUNS=N runs N cases instead of the short run; MEMKIT_FUZZ_SEED=S starts at seed S.
 * - MEMKIT_FUZZ_CONTROL=1 runs the same cases without stray writes (the fuzzer's own false alarms).
 * - MEMKIT_FUZZ_RESULTS=file writes every case's result there as JSON, to sort failures into classes.
 * A failure prints its seed, the heap's configuration and the corruption written.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult } from "../helpers/corruption-fuzz.js";
import { runCorruptionFuzz } from "../helpers/corruption-fuzz-runner.js";

const env = process.env;
const enabled = env.MEMKIT_CORRUPTION_FUZZ === "1";
const runs = Number(env.MEMKIT_FUZZ_RUNS ?? 150);
const first = Number(env.MEMKIT_FUZZ_SEED ?? 1);
const control = env.MEMKIT_FUZZ_CONTROL === "1";

function describeFailure(r: CaseResult): string {
  const f = r.failure;
  return `seed ${r.seed}: ${f?.kind} in ${f?.op}: ${f?.detail}\n  heap: ${r.config}\n  corruption: ${r.corruption.join("; ")}`;
}

describe.skipIf(!enabled)("corruption fuzzer", () => {
  it(
    `holds the invariant over ${runs} seeded cases from seed ${first}${control ? " (control: no stray writes)" : ""}`,
    async () => {
      const seeds = Array.from({ length: runs }, (_, i) => first + i);
      const results = await runCorruptionFuzz(seeds, { corrupt: !control });
      if (env.MEMKIT_FUZZ_RESULTS) writeFileSync(env.MEMKIT_FUZZ_RESULTS, JSON.stringify(results, null, 1));
      const failures = results.filter((r) => r.failure !== undefined);
      for (const failure of failures.slice(0, 20)) console.log(describeFailure(failure));
      expect(results).toHaveLength(runs);
      expect(failures.map((r) => r.seed)).toEqual([]);
    },
    runs * 1000 + 30_000,
  );
});
