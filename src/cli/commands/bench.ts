import { quickBenches } from "../bench/benches.js";
import type { Command } from "../command.js";
import { paint } from "../io.js";
import { progressLine } from "../progress.js";
import { formatNs, renderTable } from "../table.js";

/** `memkit bench [module...]`: quick in-process benchmarks shipped with the package. */
export const benchCommand: Command = {
  name: "bench",
  summary: "Run quick benchmarks of the installed build (full suite: npm run bench)",
  usage: "memkit bench [module...] [--rounds N] [--json]",
  options: {
    rounds: {
      type: "string",
      valueName: "N",
      description: "Rounds per benchmark, 1 to 1000; the median round is reported",
      defaultValue: "5",
    },
  },
  reports: true,
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const rounds = values.rounds === undefined ? 5 : Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) {
      io.err(`memkit bench: --rounds must be a whole number from 1 to 1000, got ${String(values.rounds)}`);
      return 2;
    }
    const unknown = positionals.filter((m) => !quickBenches.some((b) => b.module === m));
    if (unknown.length > 0) {
      const names = quickBenches.map((b) => b.module).join(", ") || "(none yet)";
      io.err(`memkit bench: no benchmark for ${unknown.join(", ")}; available: ${names}`);
      return 2;
    }
    const chosen = positionals.length === 0 ? quickBenches : quickBenches.filter((b) => positionals.includes(b.module));
    const progress = progressLine(io);
    const report = [];
    for (const bench of chosen) {
      progress.update(`benchmarking ${bench.module}...`);
      report.push({ module: bench.module, title: bench.title, results: await bench.run(io, rounds) });
    }
    progress.done();
    if (values.json === true) {
      io.out(JSON.stringify({ rounds, node: process.version, benches: report }, null, 2));
      return 0;
    }
    if (report.length === 0) io.out("no quick benchmarks are registered yet");
    for (const { module, title, results } of report) {
      io.out(paint(io, "bold", `${module}: ${title}`));
      const rows = results.map((r) => [r.name, formatNs(r.nsPerOp), `${r.ratio.toFixed(2)}x`]);
      io.out(
        renderTable(
          [{ title: "contender" }, { title: "median/op", right: true }, { title: "vs memkit", right: true }],
          rows,
        ),
      );
      io.out("");
    }
    return 0;
  },
};
