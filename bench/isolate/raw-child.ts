/**
 * Baseline child for cold fork and for "pipe + v8.serialize" transfer: answers each message over
 * advanced-serialization IPC (which is v8.serialize over the pipe).
 */
process.on("message", (message: { kind: "double"; x: number } | { kind: "big" }) => {
  if (message.kind === "double") process.send?.(message.x * 2);
  else process.send?.(new Float64Array(8 * 1024 * 1024).fill(1.5));
});
process.send?.("ready");
