// Shared by the portable examples: a tiny assertion that works in Node, Deno, Bun and browsers.

/** Throws naming `what` when `condition` is false, so a broken example can never pass silently. */
export function check(condition, what) {
  if (!condition) throw new Error(`example check failed: ${what}`);
}

/** Runs `fn` and returns the `code` of what it threw, or "did not throw". */
export function codeOf(fn) {
  try {
    fn();
  } catch (error) {
    return error?.code ?? String(error);
  }
  return "did not throw";
}
