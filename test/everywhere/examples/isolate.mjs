// The README example of `memkit/isolate`, runnable in Node, Deno and Bun (not in a browser).
import { executionOf, Isolator, isolate } from "memkit/isolate";
import { check } from "./check.mjs";

export default async function isolateExample({ mode = "process" } = {}) {
  const n = await isolate((size) => new Array(size).fill(1).length, { args: [1e6], memoryLimitMb: 256, mode });
  check(n === 1e6, `the function ran in a child and returned ${n}`);

  let crash;
  try {
    await isolate(() => process.abort(), { mode: "process" });
  } catch (error) {
    crash = { code: error.code, signal: error.signal, execution: executionOf(error) };
  }
  check(crash?.code === "ERR_MEMKIT_ISOLATE_CRASHED", `an abort is a typed crash, got ${JSON.stringify(crash)}`);

  const pool = new Isolator({ mode: "worker", spares: 1, reuse: { maxCalls: 100, maxHeapGrowthMb: 64 } });
  try {
    const square = await pool.run(
      { module: new URL("./isolate-task.mjs", import.meta.url), export: "square" },
      { args: [12] },
    );
    check(square === 144, `the module form ran, got ${square}`);
  } finally {
    await pool.close();
  }
  return { n, crash: crash.code };
}
