import { isMemkitError } from "../../internal/errors.js";
import { executionOf, Isolator } from "../../isolate/index.js";
import { formatBytes } from "../table.js";
import type { DemoSection } from "./section.js";

function describe(error: unknown): string {
  if (!isMemkitError(error)) return String(error);
  const { kind, signal, exitCode } = error as { kind?: string; signal?: string; exitCode?: number };
  return `${error.code}${kind ? ` (${kind})` : ""}${signal ? ` (${signal})` : ""}${typeof exitCode === "number" ? ` (exit ${exitCode})` : ""}`;
}

/** `memkit demo isolate`: a leak, a crash and an OOM contained, the caller untouched. */
export const isolateSection: DemoSection = {
  name: "isolate",
  title: "run code where its leaks, crashes and OOM kills cannot touch you",
  async run(io) {
    const isolator = new Isolator({ spares: 1, output: "ignore", memoryLimitMb: 96 });
    try {
      const before = process.memoryUsage().rss;
      const { value, stats } = await isolator.runWithStats(() => {
        const g = globalThis as { hoard?: Buffer[] };
        g.hoard = Array.from({ length: 20 }, () => Buffer.alloc(4 << 20, 1));
        return g.hoard.length * 4;
      });
      const growth = process.memoryUsage().rss - before;
      io.out(
        `leak contained: the child kept ${value} MiB (peak ${formatBytes(stats.peakRssBytes)}); our RSS changed by ${formatBytes(Math.max(0, growth))}`,
      );
      const crash = await isolator.run(() => process.abort()).catch((e: unknown) => e);
      io.out(`crash contained: process.abort() -> ${describe(crash)}`);
      const oom = await isolator
        .run(() => {
          const keep: number[][] = [];
          for (;;) keep.push(new Array(100_000).fill(1.5));
        })
        .catch((e: unknown) => e);
      io.out(`OOM turned into an error: -> ${describe(oom)}`);
      const thrown = await isolator
        .run(() => {
          throw Object.assign(new RangeError("bad input"), { code: "E_INPUT", field: "size" });
        })
        .catch((e: unknown) => e as RangeError & { code: string; field: string });
      io.out(`a throw comes back as itself: ${thrown.name} ${thrown.code} field=${thrown.field}`);
      const secret = "s3cret";
      const closure = await isolator.run(() => secret.length).catch((e: unknown) => e);
      io.out(`a closure is refused before any child starts: -> ${describe(closure)}, ${executionOf(closure)}`);
      const missing = await isolator.run({ module: "./no-such-task.mjs" }).catch((e: unknown) => e);
      io.out(`a module that does not load: -> ${describe(missing)}, ${executionOf(missing)} (safe to retry)`);
      await isolator.warm();
      const t = performance.now();
      await isolator.run(() => 42);
      io.out(`a call on a ready spare took ${(performance.now() - t).toFixed(1)} ms`);
      if (process.platform === "linux") {
        // Fork mode (issue 15): each call is a fresh copy-on-write fork of a warm template process.
        const forked = new Isolator({ mode: "fork", output: "ignore", fallback: "process" });
        await forked.warm();
        const f = performance.now();
        for (let i = 0; i < 50; i++) await forked.run((n: number) => n + 1, { args: [i] });
        io.out(`fork mode: 50 fresh processes, back to back, in ${(performance.now() - f).toFixed(0)} ms`);
        await forked.close();
      }
    } finally {
      await isolator.close();
    }
  },
};
