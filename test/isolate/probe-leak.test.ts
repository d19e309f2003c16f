import { probeLeak } from "memkit/isolate";
import { describe, expect, it } from "vitest";

describe("probeLeak", () => {
  it("tells a function that keeps what it allocates from one that does not", async () => {
    const leaky = await probeLeak(
      () => {
        const g = globalThis as { kept?: number[][] };
        g.kept ??= [];
        g.kept.push(new Array(2000).fill(1.5));
      },
      { iterations: 12, mode: "worker" },
    );
    expect(leaky.leaks).toBe(true);
    expect(leaky.samples).toHaveLength(13);
    const clean = await probeLeak(() => new Array(2000).fill(1.5).length, { iterations: 12, mode: "worker" });
    // 2000 doubles kept per iteration is ~16 KB; a worker's heap also moves by a few hundred
    // bytes per iteration from code and feedback, so compare the two slopes.
    expect(leaky.bytesPerIteration).toBeGreaterThan(10_000);
    expect(clean.bytesPerIteration).toBeLessThan(leaky.bytesPerIteration / 4);
  });
});
