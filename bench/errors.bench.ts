/**
 * A benchmark of the shared error helpers: serializing an error for a trip across a boundary
 * vs `structuredClone` (which loses class, code and fields). Also the harness's own smoke test.
 */
import { reviveError, serializeError } from "../src/internal/serialize-error.js";
import { runBenchmark } from "./harness.js";

const error = Object.assign(new Error("boom", { cause: new TypeError("inner") }), { code: "E_X", retries: 3 });

await runBenchmark("errors", [
  {
    name: "error round trip (serialize + clone + revive)",
    contenders: [
      { name: "memkit serializeError/reviveError", fn: () => reviveError(structuredClone(serializeError(error))) },
      { name: "structuredClone (loses class/code)", fn: () => structuredClone(error) },
    ],
  },
]);
