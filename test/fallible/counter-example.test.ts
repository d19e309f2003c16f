import { AllocError, sweepAllocations } from "memkit/fallible";
import { describe, expect, it } from "vitest";
import { Counter } from "../../examples/counter.js";

// The example imports the published entry point, so this test does too (the built package).
describe("the counter example under an allocation sweep", () => {
  const pairs: [number, number][] = [
    [1, 10],
    [2, 20],
    [1, 11],
    [3, 30],
    [1, 12],
    [2, 21],
    [4, 40],
    [1, 13],
    [1, 14],
    [5, 50],
  ];

  it("after every injected failure it holds exactly the pairs pushed successfully", async () => {
    const report = await sweepAllocations(
      (alloc) => {
        const counter = new Counter(alloc);
        const model = new Map<number, number[]>();
        let failures = 0;
        for (const [key, value] of pairs) {
          const pushed = counter.pushKeyValue(key, value);
          if (pushed.ok) model.set(key, [...(model.get(key) ?? []), value]);
          else {
            expect(pushed.error).toBeInstanceOf(Error);
            expect((pushed.error as AllocError).kind).toBe("injected");
            failures++;
          }
          const expected = [...model].sort((a, b) => a[0] - b[0]);
          if (JSON.stringify(counter.toJSON()) !== JSON.stringify(expected)) {
            counter.free();
            throw new Error(`counter diverged after pushing ${key}:${value}`);
          }
        }
        counter.free();
        if (failures > 0) throw new AllocError("injected", 0, 0, `${failures} push(es) failed and were reported`);
        return model.size;
      },
      { maxAllocations: 200 },
    );
    expect(report.allocations).toBeGreaterThan(5);
    expect(report.runs.filter((r) => r.outcome !== "alloc-error" && r.outcome !== "same-result")).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
