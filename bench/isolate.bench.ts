/**
 * `npm run bench -- isolate`: the same trivial function through a direct call, memkit (fresh
 * process/worker with a ready spare, fresh back to back, and reuse mode with its default
 * recycling), cold fork and cold Worker per call, and warm piscina / tinypool pools; then 64 MiB
 * results per mode vs pipe + v8.serialize.
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { Isolator } from "memkit/isolate";
import { Piscina } from "piscina";
import { Tinypool } from "tinypool";
import { type Contender, runBenchmark } from "./harness.js";
import { forkGroups } from "./isolate/fork.js";
import { coldFork, cpuWithChildren, percentile, throughput, timeCalls } from "./isolate/manual.js";
import double from "./isolate/pool-task.js";

const here = (name: string) => fileURLToPath(new URL(`./isolate/${name}`, import.meta.url));
const SAMPLES = 40;
const SUSTAINED = 3000;
const ms = (x: number) => x * 1e6;

function row(name: string, sorted: number[], extra: Record<string, number | string> = {}): Contender {
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  return {
    name,
    measured: { p50_ns: ms(p50), p99_ns: ms(p99) },
    extra: () => ({ ...extra, "p99/p50": Number((p99 / p50).toFixed(2)) }),
  };
}

async function coldWorker(): Promise<unknown> {
  const worker = new Worker(here("raw-worker.js"));
  await once(worker, "message");
  worker.postMessage({ kind: "double", x: 21 });
  const [value] = await once(worker, "message");
  await worker.terminate();
  return value;
}

/** Sustained calls: calls/s one at a time and with 4 in flight; the row's latency is from the 4-in-flight run. */
async function sustained(name: string, total: number, call: () => Promise<unknown>): Promise<Contender> {
  const seq = await throughput(total, 1, call);
  const four = await throughput(total, 4, call);
  return row(name, four.sorted, {
    "calls/s seq": Math.round(seq.perSecond),
    "calls/s x4": Math.round(four.perSecond),
  });
}

const fn = (x: number) => x * 2;
const latency: Contender[] = [row("direct call", await timeCalls(SAMPLES * 10, async () => double(21)))];
const backToBack: Contender[] = [];

for (const mode of ["process", "worker"] as const) {
  const fresh = new Isolator({ mode, output: "ignore" });
  const call = () => fresh.run(fn, { args: [21] });
  // A ready spare: started, and settled for a moment (the previous child's exit handled).
  const settle = async () => {
    await fresh.warm();
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  latency.push(row(`memkit ${mode}, fresh per call, ready spare`, await timeCalls(SAMPLES, call, settle)));
  await fresh.warm();
  backToBack.push(await sustained(`memkit ${mode}, fresh per call, back to back`, 60, call));
  await fresh.close();
}
backToBack.push(await sustained("cold child_process.fork per call", 10, coldFork));
backToBack.push(await sustained("cold Worker per call", 10, coldWorker));

// Sustained calls. The machine is shared, so its load drifts during a run: every contender is
// measured in several short rounds, interleaved, and the median round is reported.
const ROUNDS = 15;
const PER_ROUND = SUSTAINED / ROUNDS;
const piscina = new Piscina({ filename: here("pool-task.js"), minThreads: 2, maxThreads: 2 });
const tinyThreads = new Tinypool({ filename: here("pool-task.js"), minThreads: 2, maxThreads: 2 });
const tinyProcesses = new Tinypool({
  filename: here("pool-task.js"),
  runtime: "child_process",
  minThreads: 2,
  maxThreads: 2,
});
const isolators = [
  // Default settings (reuse: true recycles each child after 10 000 calls), and recycling every 100.
  ["memkit process, reuse (defaults)", new Isolator({ mode: "process", output: "ignore", reuse: true })],
  [
    "memkit process, reuse, maxCalls 100",
    new Isolator({ mode: "process", output: "ignore", reuse: { maxCalls: 100 } }),
  ],
  ["memkit worker, reuse (defaults)", new Isolator({ mode: "worker", output: "ignore", reuse: true })],
  ["memkit worker, reuse, maxCalls 100", new Isolator({ mode: "worker", output: "ignore", reuse: { maxCalls: 100 } })],
] as const;
type Call = () => Promise<unknown>;
// After its round, a contender finishes what it started (a recycled child's replacement still
// starting), so that work is charged to it and does not slow the next contender down.
const done = async () => {};
const contenders: [string, Call, Call][] = [
  ...isolators.map(
    ([name, isolator]) => [name, () => isolator.run(fn, { args: [21] }), () => isolator.warm()] as [string, Call, Call],
  ),
  ["piscina warm (2 threads)", () => piscina.run(21), done],
  ["tinypool warm (2 threads)", () => tinyThreads.run(21), done],
  ["tinypool warm (2 child processes)", () => tinyProcesses.run(21), done],
];
interface Round {
  seq: number[];
  four: number[];
  times: number[];
  /** CPU (caller and children) over every round, µs. */
  cpu: number;
}
const rounds = new Map<string, Round>();
for (const [name, call] of contenders) {
  for (let i = 0; i < 50; i++) await call();
  rounds.set(name, { seq: [], four: [], times: [], cpu: 0 });
}
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, call, finish] of contenders) {
    const entry = rounds.get(name) as Round;
    const cpu = cpuWithChildren();
    entry.seq.push((await throughput(PER_ROUND, 1, call)).perSecond);
    await finish();
    const four = await throughput(PER_ROUND, 4, call);
    await finish();
    entry.cpu += cpuWithChildren() - cpu;
    entry.four.push(four.perSecond);
    entry.times.push(...four.sorted);
  }
}
const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
const reuseRows: Contender[] = contenders.map(([name]) => {
  const { seq, four, times, cpu } = rounds.get(name) as Round;
  // CPU per call (caller and children, both runs) does not depend on how loaded the machine is.
  return row(
    name,
    times.sort((a, b) => a - b),
    {
      "calls/s seq": Math.round(median(seq)),
      "calls/s x4": Math.round(median(four)),
      "CPU µs/call": Math.round(cpu / (ROUNDS * PER_ROUND * 2)),
    },
  );
});
for (const [, isolator] of isolators) await isolator.close();
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
  { name: "one trivial call on a ready spare: latency (p50/p99 of 40 calls)", contenders: latency },
  {
    name: "fresh per call, back to back (no time to re-warm): calls/s, latency of the 4-in-flight run",
    contenders: backToBack,
  },
  {
    name: `sustained trivial calls (${ROUNDS} interleaved rounds of ${PER_ROUND}): median calls/s sequential and 4 in flight, latency of the 4-in-flight runs`,
    contenders: reuseRows,
  },
  { name: "64 MiB Float64Array result, per call", contenders: transfers },
  ...(await forkGroups()),
]);
