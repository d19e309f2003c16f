import type { Io } from "../io.js";

/** One row of a quick in-process benchmark: a contender and its median time per operation. */
export interface QuickResult {
  readonly name: string;
  readonly nsPerOp: number;
  /** Median time relative to the group's first entry (the memkit contender). */
  readonly ratio: number;
}

/** A quick benchmark a module ships for `memkit bench <module>` (the full ones live in bench/). */
export interface QuickBench {
  readonly module: string;
  readonly title: string;
  run(io: Io, rounds: number): QuickResult[] | Promise<QuickResult[]>;
}

/**
 * Times `fn` (which performs `ops` operations) `rounds` times and returns the median ns per op.
 * Medians, not means: these machines are shared and noisy.
 */
export function medianNsPerOp(fn: () => void, ops: number, rounds: number): number {
  fn(); // warm-up so the JIT has compiled the hot path before timing
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / ops);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] ?? Number.NaN;
}

/** Like `medianNsPerOp` for async work: `fn` performs `ops` operations per call. */
export async function medianNsPerOpAsync(
  fn: () => Promise<unknown>,
  ops: number,
  rounds: number,
  before?: () => Promise<unknown>,
): Promise<number> {
  await before?.();
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await before?.();
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / ops);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1] ?? Number.NaN;
}

/** Adds ratios relative to the first contender. */
export function withRatios(rows: readonly { name: string; nsPerOp: number }[]): QuickResult[] {
  const base = rows[0]?.nsPerOp ?? Number.NaN;
  return rows.map((row) => ({ ...row, ratio: row.nsPerOp / base }));
}
