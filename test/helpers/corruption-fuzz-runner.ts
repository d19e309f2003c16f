/**
 * Runs corruption-fuzz cases in a worker thread, so a case that never ends is seen and named: the
 * worker counts every operation it starts in a SharedArrayBuffer; when the count stands still for
 * `hangMs`, the worker is terminated, the case recorded as a hang, and a new worker goes on with the
 * next seed.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type CaseResult, corruptionCase, LAYOUT_FOR_WORKER, OP_NAMES, WORKER_FUNCTIONS } from "./corruption-fuzz.js";

/** Options of a fuzz run. */
export interface FuzzRunOptions {
  /** Time without progress after which a case counts as hung. @defaultValue 3000 */
  readonly hangMs?: number;
  /** False for a control run without stray writes. @defaultValue true */
  readonly corrupt?: boolean;
  /** The heap module the worker imports. @defaultValue the build of "memkit/heap" */
  readonly heapUrl?: string;
  /** Called with each case's result as it arrives. */
  readonly onResult?: (result: CaseResult) => void;
}

/**
 * The worker's source: the case functions as text (they use no imports), then a loop over the seeds.
 * `__name` is defined in case the test transform wraps functions to keep their names.
 */
function workerSource(): string {
  return [
    `"use strict";`,
    `const { parentPort, workerData } = require("node:worker_threads");`,
    `const __name = (f) => f;`,
    `const LAYOUT = ${JSON.stringify(LAYOUT_FOR_WORKER)};`,
    `const OP_NAMES = ${JSON.stringify(OP_NAMES)};`,
    ...WORKER_FUNCTIONS.map((f) => f.toString()),
    `const corruptionCase = ${corruptionCase.toString()};`,
    `import(workerData.heapUrl).then((lib) => {`,
    `  const progress = new Int32Array(workerData.progress);`,
    `  const note = (what, text) => parentPort.postMessage({ note: what, text });`,
    `  for (const seed of workerData.seeds) parentPort.postMessage({ result: corruptionCase(lib, seed, progress, note, workerData.corrupt) });`,
    `});`,
  ].join("\n");
}

function heapUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("memkit/heap")).href;
}

/** Runs every seed; resolves with one result per seed, in order. */
export async function runCorruptionFuzz(seeds: readonly number[], options: FuzzRunOptions = {}): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const source = workerSource();
  const url = options.heapUrl ?? heapUrl();
  const hangMs = options.hangMs ?? 3000;
  while (results.length < seeds.length) {
    const batch = seeds.slice(results.length);
    const progress = new Int32Array(new SharedArrayBuffer(8));
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(source, {
        eval: true,
        workerData: { heapUrl: url, progress: progress.buffer, seeds: batch, corrupt: options.corrupt ?? true },
      });
      let done = 0;
      let seen = -1;
      let still = Date.now();
      let config = "";
      let corruption: string[] = [];
      const timer = setInterval(() => {
        const now = Atomics.load(progress, 0);
        if (now !== seen) {
          seen = now;
          still = Date.now();
          return;
        }
        if (Date.now() - still < hangMs) return;
        clearInterval(timer);
        const op = OP_NAMES[Atomics.load(progress, 1)] ?? "?";
        const hung: CaseResult = {
          seed: batch[done] as number,
          config,
          corruption,
          trail: corruption.map((text) => `WRITE ${text}`),
          codes: {},
          failure: { kind: "hang", op, detail: `no progress for ${hangMs} ms inside ${op}` },
        };
        results.push(hung);
        options.onResult?.(hung);
        void worker.terminate().then(() => resolve());
      }, 50);
      worker.on("message", (message: { result?: CaseResult; note?: string; text?: string }) => {
        if (message.note === "config") config = message.text ?? "";
        if (message.note === "corruption") corruption.push(message.text ?? "");
        const result = message.result;
        if (result === undefined) return;
        config = "";
        corruption = [];
        results.push(result);
        options.onResult?.(result);
        done++;
        if (done === batch.length) {
          clearInterval(timer);
          void worker.terminate().then(() => resolve());
        }
      });
      worker.on("error", (error) => {
        clearInterval(timer);
        reject(error);
      });
    });
  }
  return results;
}
