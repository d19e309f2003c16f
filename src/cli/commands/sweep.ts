import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatSweepReport, type Scenario, type SweepOptions, sweepAllocations } from "../../fallible/index.js";
import type { Command } from "../command.js";
import { paint } from "../io.js";
import { progressLine } from "../progress.js";

type Exported = Scenario<unknown> | { scenario: Scenario<unknown>; options?: SweepOptions<unknown> };

/** `memkit sweep <module>[#export]`: an exhaustive allocation-failure sweep of a scenario. */
export const sweepCommand: Command = {
  name: "sweep",
  summary: "Fail each allocation of a scenario in turn and report the sites that do not handle it",
  usage:
    "memkit sweep <module>[#export] [--max N] [--seed N] [--json]   (the export: (allocator) => result, or { scenario, options }; --seed replays a run's random choices)",
  options: {
    max: {
      type: "string",
      valueName: "N",
      description: "Sweep at most the first N allocations",
      defaultValue: "10000",
    },
    seed: {
      type: "string",
      valueName: "N",
      description: "Seed of the run's random choices (injection and failpoint probabilities); the report prints it",
      defaultValue: "drawn at random",
    },
  },
  exitCodes: [{ code: 1, meaning: "an allocation site does not handle failure (the report names it)" }],
  reports: true,
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const [target] = positionals;
    if (target === undefined || positionals.length > 1) {
      io.err("memkit sweep: give one module, e.g. memkit sweep ./scenarios.js#buildIndex (run 'memkit sweep --help')");
      return 2;
    }
    const max = values.max === undefined ? undefined : Number(values.max);
    if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
      io.err(`memkit sweep: --max must be a positive whole number, got ${String(values.max)}`);
      return 2;
    }
    const seedText = values.seed;
    if (
      seedText !== undefined &&
      !(typeof seedText === "string" && /^\d+$/.test(seedText) && Number(seedText) < 2 ** 32)
    ) {
      io.err(`memkit sweep: --seed must be a whole number from 0 to 4294967295, got ${String(seedText)}`);
      return 2;
    }
    const hash = target.lastIndexOf("#");
    const file = hash > 0 ? target.slice(0, hash) : target;
    const name = hash > 0 ? target.slice(hash + 1) : "default";
    let exported: Exported | undefined;
    try {
      exported = ((await import(pathToFileURL(resolve(file)).href)) as Record<string, Exported | undefined>)[name];
    } catch (error) {
      io.err(`memkit sweep: cannot import ${file}: ${error instanceof Error ? error.message : String(error)}`);
      return 2;
    }
    const scenario = typeof exported === "function" ? exported : exported?.scenario;
    if (typeof scenario !== "function") {
      io.err(`memkit sweep: ${file} has no export ${JSON.stringify(name)} that is a scenario function or { scenario }`);
      return 2;
    }
    const progress = progressLine(io);
    const options = {
      ...(typeof exported === "object" ? exported.options : {}),
      ...(max === undefined ? {} : { maxAllocations: max }),
      ...(seedText === undefined ? {} : { seed: Number(seedText) }),
      onProgress: (done: number, total: number) => progress.update(`sweeping: run ${done} of ${total}`),
    };
    let report: Awaited<ReturnType<typeof sweepAllocations>>;
    try {
      report = await sweepAllocations(scenario, options);
    } catch (error) {
      progress.done();
      const code = (error as { code?: unknown }).code;
      if (code !== "ERR_MEMKIT_INVALID_ARGUMENT" && code !== "ERR_MEMKIT_INVALID_SIZE") throw error;
      io.err(`memkit sweep: ${(error as Error).message}`);
      return 2;
    }
    progress.done();
    if (values.json === true) io.out(JSON.stringify(report, null, 2));
    else {
      const text = formatSweepReport(report);
      io.out(report.ok ? text : paint(io, "red", text));
    }
    return report.ok ? 0 : 1;
  },
};
