import { Lazy, OnceCell } from "../../once/index.js";
import { medianNsPerOp, type QuickBench, withRatios } from "./quick-bench.js";

const OPS = 1_000_000;

/** `memkit bench once`: reading an initialized Lazy / OnceCell vs a plain property read. */
export const onceQuickBench: QuickBench = {
  module: "once",
  title: "read after initialization (ns per read)",
  run(_io, rounds) {
    const lazy = new Lazy(() => 1);
    const cell = new OnceCell<number>();
    cell.set(1);
    const plain = { value: 1 };
    let sink = 0;
    const rows = withRatios([
      {
        name: "Lazy.value",
        nsPerOp: medianNsPerOp(
          () => {
            for (let i = 0; i < OPS; i++) sink += lazy.value;
          },
          OPS,
          rounds,
        ),
      },
      {
        name: "OnceCell.get()",
        nsPerOp: medianNsPerOp(
          () => {
            for (let i = 0; i < OPS; i++) sink += cell.get() ?? 0;
          },
          OPS,
          rounds,
        ),
      },
      {
        name: "plain property read",
        nsPerOp: medianNsPerOp(
          () => {
            for (let i = 0; i < OPS; i++) sink += plain.value;
          },
          OPS,
          rounds,
        ),
      },
    ]);
    if (sink === -1) console.log(sink); // keeps the reads observable so they are not optimised away
    return rows;
  },
};
