/**
 * The corruption fuzzer (issue 10): stray writes anywhere in a heap's memory, then random calls; every
 * call must end normally or throw a coded memkit error, never hang, never return a pointer outside the
 * block region or overlapping a held block. See test/helpers/corruption-fuzz.ts.
 *
 * Environment:
 * - On by default in `npm test`: a short seeded run (150 cases) plus the regression seeds.
 * - MEMKIT_FUZZ_RUNS=N runs N cases instead of the short run (long runs: 100000); MEMKIT_FUZZ_SEED=S
 *   starts at seed S. A failure prints its seed: add it to REGRESSION_SEEDS.
 * - MEMKIT_FUZZ_CONTROL=1 runs the same cases without stray writes (the fuzzer's own false alarms).
 * - MEMKIT_FUZZ_RESULTS=file writes every case's result there as JSON, to sort failures into classes.
 * - MEMKIT_FUZZ_TRAIL=N keeps the last N calls of each case (default 60) in those results.
 * - Seeds from 400000 on also write back stale copies of live headers (added later: seeds below keep
 *   the exact cases they had, so every regression seed still finds what it found).
 * A failure prints its seed, the heap's configuration and the corruption written.
 */
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CaseResult } from "../helpers/corruption-fuzz.js";
import { runCorruptionFuzz } from "../helpers/corruption-fuzz-runner.js";

const env = process.env;
const runs = Number(env.MEMKIT_FUZZ_RUNS ?? 150);
const first = Number(env.MEMKIT_FUZZ_SEED ?? 1);
const control = env.MEMKIT_FUZZ_CONTROL === "1";

/**
 * Seeds that broke the unhardened heap, one or two per failure class (see the hardening issue's
 * fuzzer findings): arena sizes >= 2^31, attach on random and truncated memory, overflow into the next
 * header, forged merges, poisoned control words, pool head and links, arena top, walks that never end,
 * the lock word of a shared heap, usableSize trusting a size word. They stay as regression cases.
 */
const REGRESSION_SEEDS = [
  1, 6, 19, 30, 31, 35, 90, 101, 112, 148, 153, 173, 243, 351, 525, 537, 591, 595, 625, 836, 847, 1134, 1221, 1756,
  1986,
  // Found against the hardened heap: huge debug-mode requests wrapping 32-bit size arithmetic (74, 2125),
  // a snapshot of a heap whose end word was lowered (395), arena/pool marks lowered into live blocks (1686, 2833).
  74, 395, 1686, 2125, 2833,
  // Forged merges naming a stale free header inside a block, and a restore of a damaged snapshot (all or nothing).
  11348, 16254, 18204,
  // A pool slot's stale header and encoded link written back after the slot was live again: only the
  // occupancy map, kept out of the slots, tells the replay from the real header (34613).
  34613,
  // An arena mark inside a block grown in place over it, with a stale header left at the mark: reset(mark)
  // dropped the top into the live block (118530).
  118530,
  // From 400000 on, stale copies of live headers are written back too: an arena block's old, larger header
  // over the block now at its address made realloc keep it in place over its neighbours (501854).
  501854,
  // The same after a reset: the old header of the block after it, left in memory, vouched for the copy (415987).
  415987,
  // TLSF: a freed block's stale header and links written back over the block, live again, with a free
  // block linking to it: only its right neighbour's L flag and its back pointer tell (117759, 600908).
  // Still failing, not listed: 114857, 205120, 212789 (the copy also covers those words, or the cache),
  // and stale live headers of another size from 400000 on (see the README's "Not covered").
  117759, 600908,
];

function describeFailure(r: CaseResult): string {
  const f = r.failure;
  const trail = r.trail.slice(-12).join("\n    ");
  return `seed ${r.seed}: ${f?.kind} in ${f?.op}: ${f?.detail}\n  heap: ${r.config}\n  corruption: ${r.corruption.join("; ")}\n  last calls:\n    ${trail}`;
}

// Always on: the fuzzer itself works (its worker has every function it needs, its model raises no
// error of its own), whatever the heap under it does.
describe("corruption fuzzer harness", () => {
  it("runs 40 seeded cases to an outcome without tripping over itself", async () => {
    // Seeds 10..49 do not hang the unhardened heap, so this stays fast before and after hardening.
    const seeds = Array.from({ length: 40 }, (_, i) => 10 + i);
    const results = await runCorruptionFuzz(seeds);
    expect(results.map((r) => r.seed)).toEqual(seeds);
    expect(results.filter((r) => r.failure?.op === "harness").map(describeFailure)).toEqual([]);
  }, 120_000);
});

describe("corruption fuzzer", () => {
  it(
    `holds the invariant over ${runs} seeded cases from seed ${first}${control ? " (control: no stray writes)" : ""}`,
    async () => {
      const seeds = Array.from({ length: runs }, (_, i) => first + i);
      const results = await runCorruptionFuzz(seeds, { corrupt: !control });
      if (env.MEMKIT_FUZZ_RESULTS) writeFileSync(env.MEMKIT_FUZZ_RESULTS, JSON.stringify(results, null, 1));
      const failures = results.filter((r) => r.failure !== undefined);
      expect(results).toHaveLength(runs);
      // The failures themselves, so the report shows each seed with what went wrong.
      expect(failures.slice(0, 20).map(describeFailure)).toEqual([]);
    },
    runs * 1000 + 30_000,
  );

  it("holds the invariant on the seeds that broke the unhardened heap", async () => {
    const results = await runCorruptionFuzz(REGRESSION_SEEDS, { corrupt: !control });
    expect(results.filter((r) => r.failure !== undefined).map(describeFailure)).toEqual([]);
  }, 120_000);
});
