import { describe, expect, it } from "vitest";
import { robustSlope } from "../../src/isolate/robust-slope.js";

describe("robustSlope", () => {
  it("is the exact slope of a straight line", () => {
    expect(robustSlope([5, 8, 11, 14, 17])).toBe(3);
    expect(robustSlope([4, 4, 4])).toBe(0);
  });

  it("ignores a transient spike that least squares follows (samples from a CI run of probeLeak)", () => {
    // Deltas seen in a worker keeping 16 KB per iteration: a JIT tier-up allocates ~380 KB and
    // gives it back over the next two samples. Least squares said 8,336 B/iteration.
    const deltas = [14576, 16192, 16048, 16048, 16048, 16264, 16200, 383336, -201944, -125256, 16664, 16048];
    const samples = [1_000_000];
    for (const d of deltas) samples.push((samples.at(-1) as number) + d);
    const slope = robustSlope(samples);
    expect(slope).toBeGreaterThan(15_000);
    expect(slope).toBeLessThan(17_000);
  });

  it("uses split halves past 1024 samples and still finds the slope", () => {
    const samples = Array.from({ length: 3000 }, (_, i) => 100 + 7 * i + (i % 97 === 0 ? 1e6 : 0));
    expect(robustSlope(samples)).toBe(7);
  });

  it("is 0 for fewer than two samples", () => {
    expect(robustSlope([])).toBe(0);
    expect(robustSlope([3])).toBe(0);
  });
});
