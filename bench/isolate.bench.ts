/**
 * `npm run bench -- isolate`: the same trivial function through a direct call, memkit (fresh
 * process/worker with a ready spare, and reuse mode), cold fork and cold Worker per call, and warm
 * piscina / tinypool pools; then 64 MiB results per mode vs pipe + v8.serialize.
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Isolator } from "memkit/isolate";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { type Contender, runBenchmark } from "./harness.js";
import { percentile, throughput, timeCalls } from "./isolate/manual.js";
import double from "./isolate/pool-task.js";

const here = (name: string) => fileURLToPath(new URL(`./isolate/${name}`, import.meta.url));
const SAMPLES = 40;
const ms = (x: number) => x * 1e6;

function row(name: string, sorted: number[], extra: Record<string, number | string> = {}): Contender {
  return {
    name,
    measured: { p50_ns: ms(percentile(sorted, 0.5)), p99_ns: ms(percentile(sorted, 0.99)) },
    extra: () => extra,
  };
}

async function coldFork(): Promise<unknown> {
  const child = fork(here("raw-child.js"), [], { serialization: "advanced" });
  await once(child, "message");
  child.send({ kind: "double", x: 21 });
  const [value] = await once(child, "message");
  child.kill("SIGKILL");
  return value;
}

async function coldWorker(): Promise<unknown> {
  const worker = new Worker(here("raw-worker.js"));
  await once(worker, "message");
  worker.postMessage({ kind: "double", x: 21 });
  const [value] = await once(worker, "message");
  await worker.terminate();
  return value;
}

const fn = (x: number) => x * 2;
const rows: Contender[] = [];
const direct = await timeCalls(SAMPLES * 10, async () => double(21));
rows.push(row("direct call", direct));

for (const mode of ["process", "worker"] as const) {
  const fresh = new Isolator({ mode, spares: 1 });
  const sorted = await timeCalls(
    SAMPLES,
    () => fresh.run(fn, { args: [21] }),
    () => fresh.warm(),
  );
  const seq = await throughput(60, 1, () => fresh.run(fn, { args: [21] }));
  const four = await throughput(60, 4, () => fresh.run(fn, { args: [21] }));
  rows.push(
    row(`memkit ${mode}, fresh per call, ready spare`, sorted, {
      "calls/s seq": Math.round(seq),
      "calls/s x4": Math.round(four),
    }),
  );
  await fresh.close();
  const reuse = new Isolator({ mode, spares: 1, reuse: { maxCalls: 1_000_000 } });
  await reuse.run(fn, { args: [21] });
  const reused = await timeCalls(SAMPLES * 5, () => reuse.run(fn, { args: [21] }));
  const reuseSeq = await throughput(2000, 1, () => reuse.run(fn, { args: [21] }));
  const reuseFour = await throughput(2000, 4, () => reuse.run(fn, { args: [21] }));
  rows.push(
    row(`memkit ${mode}, reuse`, reused, { "calls/s seq": Math.round(reuseSeq), "calls/s x4": Math.round(reuseFour) }),
  );
  await reuse.close();
}

rows.push(
  row("cold child_process.fork per call", await timeCalls(10, coldFork), {
    "calls/s seq": Math.round(await throughput(10, 1, coldFork)),
  }),
);
rows.push(
  row("cold Worker per call", await timeCalls(10, coldWorker), {
    "calls/s seq": Math.round(await throughput(10, 1, coldWorker)),
  }),
);

const piscina = new Piscina({ filename: here("pool-task.js"), minThreads: 2, maxThreads: 2 });
const tinyThreads = new Tinypool({ filename: here("pool-task.js"), minThreads: 2, maxThreads: 2 });
const tinyProcesses = new Tinypool({
  filename: here("pool-task.js"),
  runtime: "child_process",
  minThreads: 2,
  maxThreads: 2,
});
for (const [name, pool] of [
  ["piscina warm (threads)", piscina],
  ["tinypool warm (threads)", tinyThreads],
  ["tinypool warm (child_process)", tinyProcesses],
] as const) {
  await pool.run(21);
  const sorted = await timeCalls(SAMPLES * 5, () => pool.run(21));
  const seq = await throughput(2000, 1, () => pool.run(21));
  const four = await throughput(2000, 4, () => pool.run(21));
  rows.push(row(name, sorted, { "calls/s seq": Math.round(seq), "calls/s x4": Math.round(four) }));
}
await piscina.destroy();
await tinyThreads.destroy();
await tinyProcesses.destroy();

// 64 MiB Float64Array results.
// A computed result: the function writes its array (as real work would), so the transfer is not
// charged for the first touch of fresh pages, which costs ~80 ms for 64 MiB on these VMs.
const big = () => new Float64Array(8 * 1024 * 1024).fill(1.5);
const transfers: Contender[] = [];
for (const mode of ["process", "worker"] as const) {
  const isolator = new Isolator({ mode, spares: 1, reuse: { maxCalls: 1_000_000 } });
  await isolator.run(big);
  transfers.push(row(`memkit ${mode} (reuse)`, await timeCalls(10, () => isolator.run(big))));
  await isolator.close();
}
const pipe = fork(here("raw-child.js"), [], { serialization: "advanced" });
await once(pipe, "message");
transfers.push(
  row(
    "pipe + v8.serialize (advanced IPC)",
    await timeCalls(10, async () => {
      pipe.send({ kind: "big" });
      return once(pipe, "message");
    }),
  ),
);
pipe.kill("SIGKILL");
const raw = new Worker(here("raw-worker.js"));
await once(raw, "message");
transfers.push(
  row(
    "raw Worker postMessage + transfer",
    await timeCalls(10, async () => {
      raw.postMessage({ kind: "big" });
      return once(raw, "message");
    }),
  ),
);
await raw.terminate();

await runBenchmark("isolate", [
  { name: "one trivial call: latency (p50/p99 of 40+ calls), calls/s sequential and 4 in flight", contenders: rows },
  { name: "64 MiB Float64Array result, per call", contenders: transfers },
]);
