/**
 * CPU time per operation, beside mitata's wall-clock figures: on a machine shared with other jobs, a
 * process waits for a core much of the time (wall ~3x CPU at load 12 on 2 cores, measured while this was
 * written), and how long it waits depends on the moment, not on the contender. CPU time
 * (process.cpuUsage: this process's user + system time, all its threads, GC included) does not count
 * the waiting, so ratios from it hold up under load.
 */

/** Median CPU nanoseconds per operation of `fn` (which performs `ops` operations per call). */
export function cpuNsPerOp(fn: () => unknown, ops: number): number {
  fn();
  const start = process.cpuUsage();
  fn();
  const one = cpuNs(process.cpuUsage(start));
  // Samples of at least ~20 ms each, about a second in all, 3 to 7 of them.
  const calls = Math.max(1, Math.ceil(20e6 / Math.max(one, 1)));
  const samples = Math.max(3, Math.min(7, Math.floor(1e9 / Math.max(one * calls, 1))));
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = process.cpuUsage();
    for (let i = 0; i < calls; i++) fn();
    perOp.push(cpuNs(process.cpuUsage(t)) / (calls * ops));
  }
  perOp.sort((a, b) => a - b);
  return perOp[perOp.length >> 1] ?? Number.NaN;
}

function cpuNs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) * 1000;
}
