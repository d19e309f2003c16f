import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** Times `call` `samples` times, running `prepare` (untimed) before each; returns sorted ms. */
export async function timeCalls(
  samples: number,
  call: () => Promise<unknown>,
  prepare?: () => Promise<unknown>,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (prepare) await prepare();
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

/** Percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

/** Calls per second and each call's latency (sorted ms), with `inFlight` calls kept running, over `total` calls. */
export async function throughput(
  total: number,
  inFlight: number,
  call: () => Promise<unknown>,
): Promise<{ perSecond: number; sorted: number[] }> {
  let started = 0;
  const times: number[] = [];
  const start = performance.now();
  const lane = async () => {
    while (started < total) {
      started++;
      const t = performance.now();
      await call();
      times.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { perSecond: total / ((performance.now() - start) / 1000), sorted: times.sort((a, b) => a - b) };
}

/** Microseconds of CPU used so far by this process and its children (live ones and reaped ones), on Linux. */
export function cpuWithChildren(): number {
  const own = process.cpuUsage();
  let ticks = 0;
  try {
    const { readdirSync, readFileSync } = process.getBuiltinModule("node:fs") as typeof import("node:fs");
    const fields = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const self = fields(readFileSync("/proc/self/stat", "utf8"));
    ticks += Number(self[13]) + Number(self[14]); // cutime + cstime: children already reaped
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const f = fields(readFileSync(`/proc/${entry}/stat`, "utf8"));
        if (Number(f[1]) === process.pid) ticks += Number(f[11]) + Number(f[12]); // utime + stime
      } catch {
        // The process ended while we looked.
      }
    }
  } catch {
    // No /proc: children are not counted.
  }
  return own.user + own.system + ticks * 10_000;
}

/** The plain baseline: a cold `child_process.fork` per call (start, one message each way, kill). */
export async function coldFork(): Promise<unknown> {
  const child = fork(fileURLToPath(new URL("./raw-child.js", import.meta.url)), [], { serialization: "advanced" });
  await once(child, "message");
  child.send({ kind: "double", x: 21 });
  const [value] = await once(child, "message");
  child.kill("SIGKILL");
  return value;
}
