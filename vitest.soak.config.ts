import { defineConfig } from "vitest/config";

/** Soak-sized runs (`npm run test:soak`): thousands of real processes, calls or authentications. */
export default defineConfig({
  test: {
    include: ["test/**/*.soak.test.ts"],
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    pool: "forks",
    execArgv: ["--expose-gc"],
    maxWorkers: 2,
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});
