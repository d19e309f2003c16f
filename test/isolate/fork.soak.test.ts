import { Isolator } from "memkit/isolate";
import { afterAll, describe, expect, it } from "vitest";
import { mixedCalls } from "./mixed-calls.js";

const linux = process.platform === "linux" && process.arch === "x64";
const isolators: Isolator[] = [];
afterAll(async () => {
  await Promise.all(isolators.map((i) => i.close()));
});

describe.runIf(linux)("fork mode soak", () => {
  it("1000 concurrent mixed calls all settle correctly; no zombies; fds back to baseline", async () => {
    const isolator = new Isolator({ mode: "fork", output: "ignore", maxConcurrency: 16 });
    isolators.push(isolator);
    await mixedCalls(isolator, 1000);
  });

  it("2000 sequential calls each run in a child of their own, async ones included", async () => {
    const isolator = new Isolator({ mode: "fork", output: "ignore" });
    isolators.push(isolator);
    const pids = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const pid = await isolator.run(
        async (n: number) => {
          if (n % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 1));
          return process.pid;
        },
        { args: [i] },
      );
      pids.add(pid);
    }
    // Pids may be reused by the OS over 2000 calls, but never by two calls in a row.
    expect(pids.size).toBeGreaterThan(1000);
  });
});
