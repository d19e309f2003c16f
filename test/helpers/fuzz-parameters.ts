/**
 * fast-check settings for a property test: a short seeded run in `npm test` (the same cases every
 * time, so CI cannot go red by chance), longer and elsewhere on demand:
 * `MEMKIT_FUZZ_RUNS=100000 MEMKIT_FUZZ_SEED=7 npx vitest run --testTimeout=0 test/heap/model.property.test.ts`.
 * fast-check prints the seed and path of a failure; keep it as a regression case.
 */
export function fuzzParameters(shortRuns: number, defaultSeed: number): { numRuns: number; seed: number } {
  const runs = process.env.MEMKIT_FUZZ_RUNS;
  const seed = process.env.MEMKIT_FUZZ_SEED;
  return {
    numRuns: runs === undefined || runs === "" ? shortRuns : Number(runs),
    seed: seed === undefined || seed === "" ? defaultSeed : Number(seed),
  };
}
