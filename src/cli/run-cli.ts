import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Command, EXIT_USAGE } from "./command.js";
import { commands } from "./commands.js";
import { commandHelp, commonOptions, mainHelp } from "./help.js";
import type { Io } from "./io.js";

function packageVersion(): string {
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

function usageError(io: Io, message: string, hint: string): number {
  io.err(`memkit: ${message} (${hint})`);
  return EXIT_USAGE;
}

/**
 * `parseArgs`'s error, said our way: its own texts are long, and one of them ends with an
 * unbalanced quote. The quoted name is taken from its message; the code says which kind it is.
 */
export function describeParseError(error: unknown): string {
  const { code, message = "" } = error as { code?: string; message?: string };
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${quoted}'; an argument that starts with '-' goes after '--'`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument '${quoted}': this command takes no arguments`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted;
      return /argument missing/.test(message) ? `option '${flag}' needs a value` : `option '${flag}' takes no value`;
    }
    default:
      return (message.split("\n")[0] ?? "").replace(/\.$/, "");
  }
}

/** Parses `argv` for `command`; `undefined` with the error printed when it is wrong usage. */
function parseFor(command: Command, argv: readonly string[], io: Io) {
  const all = { ...command.options, ...commonOptions(command) };
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, { type, short, multiple }] of Object.entries(all)) {
    options[name] = { type, ...(short === undefined ? {} : { short }), ...(multiple ? { multiple } : {}) };
  }
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: command.allowPositionals, strict: true });
  } catch (error) {
    usageError(io, describeParseError(error), `run 'memkit help ${command.name}'`);
    return undefined;
  }
}

/**
 * Runs the command line with `argv` (without node and script) and resolves with the exit status.
 * Separated from `main.ts` so tests drive it in-process with their own Io.
 */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || (first === "help" && rest.length === 0)) {
    io.out(mainHelp(io));
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === "-v" || first === "--version") {
    io.out(packageVersion());
    return 0;
  }
  if (first === "help") {
    const [topic, ...extra] = rest;
    const command = commands.find((c) => c.name === topic);
    if (command === undefined || extra.length > 0) {
      return usageError(io, `no command named '${rest.join(" ")}'`, "run 'memkit --help' for the list");
    }
    io.out(commandHelp(command));
    return 0;
  }
  if (first.startsWith("-")) return usageError(io, `unknown option '${first}'`, "run 'memkit --help'");
  const command = commands.find((c) => c.name === first);
  if (command === undefined) {
    return usageError(io, `unknown command '${first}'`, "run 'memkit --help' for the list");
  }
  const parsed = parseFor(command, rest, io);
  if (parsed === undefined) return EXIT_USAGE;
  if (parsed.values.help === true) {
    io.out(commandHelp(command));
    return 0;
  }
  return command.run({ values: parsed.values, positionals: parsed.positionals }, io);
}
