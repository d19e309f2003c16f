import { once as eventOnce } from "node:events";
import { Worker } from "node:worker_threads";
import { isMemkitError } from "../../internal/errors.js";
import { AsyncOnceCell, Lazy, leak, leaked, OnceCell, SharedOnceCell } from "../../once/index.js";
import type { DemoSection } from "./section.js";

const moduleUrl = new URL("../../once/index.js", import.meta.url).href;

// Each worker races for the cell; the initializer counts its runs in shared memory.
const workerSource = `
const { workerData, parentPort } = require("node:worker_threads");
import(${JSON.stringify(moduleUrl)}).then(({ SharedOnceCell }) => {
  const cell = SharedOnceCell.attach(workerData);
  const value = cell.getOrInitSync(() => new Map([["built by", require("node:worker_threads").threadId]]));
  parentPort.postMessage(value.get("built by"));
});`;

/** `memkit demo once`: failure policies, one init for many callers, once across workers. */
export const onceSection: DemoSection = {
  name: "once",
  title: "one-time initialization with explicit failure policies",
  async run(io) {
    const lazy = new Lazy<number>(() => {
      throw new Error("config file missing");
    });
    const codes: string[] = [];
    for (let i = 0; i < 2; i++) {
      try {
        lazy.value;
      } catch (error) {
        codes.push(isMemkitError(error) ? error.code : (error as Error).message);
      }
    }
    io.out(`Lazy (poison): first access -> "${codes[0]}", second -> ${codes[1]}`);
    const cell = new OnceCell<string>();
    const retried = cell.getOrTryInit(() => {
      throw new Error("not yet");
    });
    io.out(`OnceCell: failed init leaves it empty (ok: ${retried.ok}); next call -> ${cell.getOrInit(() => "ready")}`);
    const lost = cell.trySet("late");
    io.out(
      `OnceCell.trySet("late"): ok ${lost.ok}, handed back ${JSON.stringify(lost.value)} (Rust's set -> Err(value))`,
    );
    const asyncCell = new AsyncOnceCell<number>();
    let calls = 0;
    await Promise.all(Array.from({ length: 1000 }, () => asyncCell.getOrInit(async () => ++calls)));
    io.out(`AsyncOnceCell: 1000 concurrent callers -> ${calls} initializer call`);
    const shared = new SharedOnceCell<Map<string, number>>();
    const workers = Array.from(
      { length: 3 },
      () => new Worker(workerSource, { eval: true, workerData: shared.buffer }),
    );
    const builders = await Promise.all(workers.map(async (w) => ((await eventOnce(w, "message")) as [number])[0]));
    await Promise.all(workers.map((w) => w.terminate()));
    io.out(
      `SharedOnceCell: 3 workers raced; initializer ran ${shared.initCount} time (in thread ${builders[0]}), all read the same value: ${new Set(builders).size === 1}`,
    );
    const handle = leak(() => "callback for native code", "demo callback");
    io.out(
      `leak(): ${leaked().length} value(s) pinned on purpose, e.g. "${handle.label}" at ${handle.site.replace(/^at /, "")}`,
    );
    handle.release();
  },
};
