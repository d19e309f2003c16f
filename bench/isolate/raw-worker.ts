/** Baseline worker for cold Worker per call and raw transfer: doubles, or returns 64 MiB transferred. */
import { parentPort } from "node:worker_threads";

parentPort?.on("message", (message: { kind: "double"; x: number } | { kind: "big" }) => {
  if (message.kind === "double") parentPort?.postMessage(message.x * 2);
  else {
    const big = new Float64Array(8 * 1024 * 1024).fill(1.5);
    parentPort?.postMessage(big, [big.buffer]);
  }
});
parentPort?.postMessage("ready");
