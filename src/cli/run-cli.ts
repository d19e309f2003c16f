import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Command, EXIT_USAGE } from "./command.js";
import { commands } from "./commands.js";
import { type Io, paint } from "./io.js";

function packageVersion(): string {
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

function mainHelp(io: Io): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `${paint(io, "bold", "memkit")} — deliberate memory discipline for Node.js`,
    "",
    "Usage: memkit <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     Show help (also: memkit <command> --help)",
    "  -v, --version  Print the version",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const flags = Object.entries(command.options).map(
    ([name, o]) => `  --${name}${o.type === "string" ? " <value>" : ""}`,
  );
  if (command.reports) flags.push("  --json  Print the result as JSON");
  flags.push("  -h, --help");
  return [`Usage: ${command.usage}`, "", command.summary, "", "Options:", ...flags].join("\n");
}

function usageError(io: Io, message: string, hint: string): number {
  io.err(`memkit: ${message} (${hint})`);
  return EXIT_USAGE;
}

/**
 * Runs the command line with `argv` (without node and script) and resolves with the exit status.
 * Separated from `main.ts` so tests drive it in-process with their own Io.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    io.out(mainHelp(io));
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === "-v" || first === "--version") {
    io.out(packageVersion());
    return 0;
  }
  const command = commands.find((c) => c.name === first);
  if (command === undefined) {
    return usageError(io, `unknown command '${first}'`, "run 'memkit --help' for the list");
  }
  const options = { ...command.options, help: { type: "boolean" as const, short: "h" } };
  if (command.reports) Object.assign(options, { json: { type: "boolean" } });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options, allowPositionals: command.allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    return usageError(io, message, `run 'memkit ${command.name} --help'`);
  }
  if (parsed.values.help === true) {
    io.out(commandHelp(command));
    return 0;
  }
  return command.run({ values: parsed.values, positionals: parsed.positionals }, io);
}
