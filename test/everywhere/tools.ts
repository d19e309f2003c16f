import { spawnSync } from "node:child_process";

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

/**
 * Where Chromium is: `MEMKIT_CHROMIUM` when set (and only it), else the first of Debian's
 * `chromium` and the usual names that answers `--version`; `undefined` when none does.
 */
export function findChromium(): string | undefined {
  const chosen = process.env.MEMKIT_CHROMIUM;
  const candidates = chosen ? [chosen] : ["/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"];
  return candidates.find((candidate) => {
    const probe = spawnSync(candidate, ["--version"], { encoding: "utf8", timeout: 30_000 });
    return probe.status === 0;
  });
}
