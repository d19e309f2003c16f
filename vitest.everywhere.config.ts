import { defineConfig } from "vitest/config";

/**
 * memkit outside plain Node: bundles (`npm run test:bundle`), headless Chromium (`test:browser`),
 * Deno and Bun (`test:runtimes`). Not part of `npm test`: they need esbuild output, a browser or
 * other runtimes, and CI runs each as its own script.
 */
export default defineConfig({
  test: {
    include: ["test/everywhere/**/*.test.ts"],
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
