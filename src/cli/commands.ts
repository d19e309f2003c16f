import type { Command } from "./command.js";
import { benchCommand } from "./commands/bench.js";
import { demoCommand } from "./commands/demo.js";
import { runCommand } from "./commands/run.js";
import { sweepCommand } from "./commands/sweep.js";

/** Every subcommand, in `--help` order. A module adds its command with one import and one entry. */
export const commands: readonly Command[] = [demoCommand, runCommand, sweepCommand, benchCommand];
