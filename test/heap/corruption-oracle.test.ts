/**
 * The corruption fuzzer's oracle is right (see test/helpers/corruption-fuzz.ts): a heap whose
 * bookkeeping lives outside its memory shrugs off every stray write and must pass; the same heap with
 * one planted bug must fail with that bug's kind.
 */
import { describe, expect, it } from "vitest";
import { runCorruptionFuzz } from "../helpers/corruption-fuzz-runner.js";
import { type FakeBug, fakeHeapUrl } from "../helpers/fake-heap.js";

const seeds = Array.from({ length: 30 }, (_, i) => 100 + i);

async function kinds(bug: FakeBug): Promise<Set<string>> {
  const results = await runCorruptionFuzz(seeds, { heapUrl: fakeHeapUrl(bug) });
  return new Set(results.map((r) => r.failure?.kind ?? "ok"));
}

describe("corruption fuzzer oracle", () => {
  it("passes a correct heap that keeps its metadata out of reach", async () => {
    expect(await kinds("none")).toEqual(new Set(["ok"]));
  });

  it.each([
    ["twice", "overlap"],
    ["past-end", "bad-pointer"],
    ["uncoded", "uncoded-error"],
  ] as const)("names a heap with the bug %s as %s", async (bug, kind) => {
    expect(await kinds(bug)).toContain(kind);
  });

  it("names a heap that never returns as a hang", async () => {
    const results = await runCorruptionFuzz([100], { heapUrl: fakeHeapUrl("hang"), hangMs: 500 });
    expect(results[0]?.failure?.kind).toBe("hang");
  }, 30_000);
});
