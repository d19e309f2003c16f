import { Isolator } from "../../isolate/index.js";
import { medianNsPerOpAsync, type QuickBench, withRatios } from "./quick-bench.js";

const CALLS = 50;
const double = (x: number) => x * 2;

/** `memkit bench isolate`: one trivial call, fresh with a ready spare and reused, in both modes. */
export const isolateQuickBench: QuickBench = {
  module: "isolate",
  title: "one trivial call (time per call)",
  async run(_io, rounds) {
    const rows: { name: string; nsPerOp: number }[] = [];
    for (const mode of ["process", "worker"] as const) {
      const fresh = new Isolator({ mode, spares: 1, output: "ignore" });
      const call = () => fresh.run(double, { args: [21] });
      rows.push({
        name: `memkit ${mode}, fresh per call (ready spare)`,
        nsPerOp: await medianNsPerOpAsync(call, 1, rounds, () => fresh.warm()),
      });
      await fresh.close();
      const reuse = new Isolator({ mode, spares: 1, output: "ignore", reuse: { maxCalls: 1_000_000 } });
      const many = async () => {
        for (let i = 0; i < CALLS; i++) await reuse.run(double, { args: [21] });
      };
      rows.push({ name: `memkit ${mode}, reuse`, nsPerOp: await medianNsPerOpAsync(many, CALLS, rounds) });
      await reuse.close();
    }
    rows.push({ name: "direct call", nsPerOp: await medianNsPerOpAsync(async () => double(21), 1, rounds) });
    return withRatios(rows);
  },
};
