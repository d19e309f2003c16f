/**
 * Whether a test that needs an external tool (chromium, deno, bun) may run. Locally a missing tool
 * skips the test and says so; in CI (`CI=true`), where `.ci/run` installs every tool, a missing one
 * is a failure, so a broken install can never turn into a green run that tested nothing.
 */
export function toolOrSkip(tool: string, found: string | undefined, install: string): string | undefined {
  if (found !== undefined) return found;
  const message = `${tool} not found: install it (${install}) to run these tests`;
  if (process.env.CI === "true") throw new Error(`${message}; CI must have it (.ci/run installs it)`);
  process.stdout.write(`\nSKIPPED: ${message}\n`);
  return undefined;
}
