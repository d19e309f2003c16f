import type { Command, CommandOption, ExitStatus } from "./command.js";
import { EXIT_USAGE } from "./command.js";
import { commands } from "./commands.js";
import { type Io, paint } from "./io.js";

/** The options every command accepts besides its own: `--json` where it reports, and `--help`. */
export function commonOptions(command: Command): Record<string, CommandOption> {
  return {
    ...(command.reports ? { json: { type: "boolean", description: "Print the result as JSON" } } : {}),
    help: { type: "boolean", short: "h", description: "Show this help" },
  };
}

/** Lines of `  label  text`, with the labels padded to one column. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`.trimEnd());
}

function optionRow(name: string, option: CommandOption): [string, string] {
  const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}`;
  const value = option.type === "string" ? ` <${option.valueName ?? "value"}>` : "";
  const text = option.description ?? "";
  const fallback = option.defaultValue === undefined ? "" : ` (default: ${option.defaultValue})`;
  return [`${flag}${value}`, `${text}${fallback}`.trim()];
}

/** `memkit --help`: the commands and the global options. */
export function mainHelp(io: Io): string {
  return [
    `${paint(io, "bold", "memkit")} — deliberate memory discipline for Node.js`,
    "",
    "Usage: memkit <command> [options]",
    "",
    "Commands:",
    ...columns(commands.map((c) => [c.name, c.summary])),
    "",
    "Options:",
    ...columns([
      ["-h, --help", "Show this help (memkit help <command>, or memkit <command> --help, for one command)"],
      ["-v, --version", "Print the version"],
    ]),
  ].join("\n");
}

/** Every exit status of `command`, 0 and 2 included, in numeric order. */
export function exitStatuses(command: Command): ExitStatus[] {
  const all = [
    { code: 0, meaning: "success" },
    ...(command.exitCodes ?? []),
    { code: EXIT_USAGE, meaning: "wrong usage: unknown option, missing or bad value" },
  ];
  return all.sort((a, b) => a.code - b.code);
}

/** `memkit <command> --help` and `memkit help <command>`: usage, options with defaults, exit statuses. */
export function commandHelp(command: Command): string {
  const options = { ...command.options, ...commonOptions(command) };
  return [
    `Usage: ${command.usage}`,
    "",
    command.summary,
    "",
    "Options:",
    ...columns(Object.entries(options).map(([name, option]) => optionRow(name, option))),
    "",
    "Exit status:",
    ...columns(exitStatuses(command).map(({ code, meaning }) => [String(code), meaning])),
  ].join("\n");
}
