import fc from "fast-check";
import { SharedOnceCell } from "memkit/once";
import { describe, expect, it } from "vitest";
import { fuzzParameters } from "../helpers/fuzz-parameters.js";

// The portable codec (what SharedOnceCell uses where node:v8 is missing, e.g. in browsers) must
// read back what structured clone would give, for every type it documents. Seeded; longer runs
// with MEMKIT_FUZZ_RUNS=100000.
const { numRuns: runs, seed } = fuzzParameters(300, 1212);

const values = fc.anything({
  maxDepth: 3,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: false,
  withBoxedValues: false,
  withObjectString: false,
});

function roundTrip(value: unknown): unknown {
  const cell = new SharedOnceCell<unknown>({ codec: "portable", capacity: 1 << 20 });
  cell.getOrInitSync(() => value);
  return SharedOnceCell.attach<unknown>(cell.buffer).get();
}

describe("SharedOnceCell portable codec", () => {
  it("reads back what structuredClone gives, for generated values", () => {
    fc.assert(
      fc.property(values, (value) => {
        expect(roundTrip(value)).toStrictEqual(structuredClone(value));
      }),
      { numRuns: runs, seed },
    );
  });

  it("keeps -0, NaN, sparse arrays, shared references, typed-array views and errors", () => {
    const shared = { n: 1 };
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const value = { zero: -0, nan: Number.NaN, list: [shared, shared], view: new Uint16Array(bytes.buffer, 2, 2) };
    const copy = roundTrip(value) as typeof value;
    expect(Object.is(copy.zero, -0)).toBe(true);
    expect(copy.nan).toBeNaN();
    expect(copy.list[0]).toBe(copy.list[1]);
    expect([...copy.view]).toEqual([...value.view]);
    const error = roundTrip(Object.assign(new RangeError("bad"), { code: "E_X" })) as Error & { code: string };
    expect([error.name, error.message, error.code]).toEqual(["RangeError", "bad", "E_X"]);
  });
});
