import type { Io } from "./io.js";

/** Parsed arguments handed to a command. */
export interface CommandArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

/** One option of a command: what `parseArgs` needs, plus what `--help` prints about it. */
export interface CommandOption {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /**
   * One line for `--help`: what it does. Optional in the type only so a command can be added
   * before its help is written; test/cli/help.test.ts fails for any option without one.
   */
  readonly description?: string;
  /** The placeholder for the value in `--help`, e.g. `N` or `MB`. @defaultValue "value" */
  readonly valueName?: string;
  /** The default, as `--help` shows it (`(default: 5)`); omit when there is none. */
  readonly defaultValue?: string;
}

/** One exit status a command can end with, for the `Exit status:` part of its `--help`. */
export interface ExitStatus {
  readonly code: number;
  readonly meaning: string;
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
  /** Its options; `--help` is added for every command, `--json` where `reports` is set. */
  readonly options: Readonly<Record<string, CommandOption>>;
  /** True when the command reports results and so accepts `--json`. */
  readonly reports: boolean;
  readonly allowPositionals: boolean;
  /**
   * The exit statuses besides 0 (success) and 2 (wrong usage), which every command has; shown
   * in `--help` so scripts can rely on them.
   */
  readonly exitCodes?: readonly ExitStatus[];
  /** Runs the command; the resolved number is the exit status. */
  run(args: CommandArgs, io: Io): Promise<number>;
}

/** Exit status for wrong usage (unknown command or flag), as most CLIs use. */
export const EXIT_USAGE = 2;
