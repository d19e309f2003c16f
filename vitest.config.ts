import { defineConfig } from "vitest/config";

// `npm test` is the fast suite. Soak-sized runs live in `*.soak.test.ts` and run with
// `npm run test:soak` (vitest.soak.config.ts); long fuzz runs are switched on by environment variables.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.soak.test.ts", "test/everywhere/**", "**/node_modules/**"],
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    // Worker/process tests spawn real children; two cores, so keep parallelism modest.
    pool: "forks",
    execArgv: ["--expose-gc"],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
