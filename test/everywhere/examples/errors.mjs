// The README example of `memkit` (errors), runnable everywhere: Node, Deno, Bun, a bundle, a page.
import { isMemkitError, reviveError, serializeError } from "memkit";
import { check } from "./check.mjs";

export default async function errorsExample() {
  const wire = structuredClone(serializeError(Object.assign(new Error("boom"), { code: "E_BOOM", retries: 3 })));
  const error = reviveError(wire);
  check(error instanceof Error && error.message === "boom", "the revived error keeps its message");
  check(error.code === "E_BOOM" && error.retries === 3, "code and fields survive structuredClone");
  check(!isMemkitError(error), "a foreign error is not a memkit error");
  return { code: error.code, retries: error.retries };
}
