import type { ParseArgsConfig } from "node:util";
import type { Io } from "./io.js";

/** Parsed arguments handed to a command. */
export interface CommandArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * One `memkit <name>` subcommand. Each lives in its own file under `src/cli/commands/` and is
 * listed once in `src/cli/commands.ts`.
 */
export interface Command {
  readonly name: string;
  /** One line for `memkit --help`. */
  readonly summary: string;
  /** Usage line(s) for `memkit <name> --help`. */
  readonly usage: string;
  /** `parseArgs` options; `--help` is added for every command, `--json` where `reports` is set. */
  readonly options: NonNullable<ParseArgsConfig["options"]>;
  /** True when the command reports results and so accepts `--json`. */
  readonly reports: boolean;
  readonly allowPositionals: boolean;
  /** Runs the command; the resolved number is the exit status. */
  run(args: CommandArgs, io: Io): Promise<number>;
}

/** Exit status for wrong usage (unknown command or flag), as most CLIs use. */
export const EXIT_USAGE = 2;
