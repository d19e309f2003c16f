import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/commands.js";
import { commandHelp, exitStatuses } from "../../src/cli/help.js";
import { runCli } from "../../src/cli/run-cli.js";
import { captureIo } from "../helpers/capture-io.js";
import { memkit, memkitBin } from "../helpers/memkit-bin.js";

describe("memkit help", () => {
  it("`memkit help <command>` prints the same help as `memkit <command> --help`", async () => {
    for (const command of commands) {
      const viaHelp = captureIo();
      const viaFlag = captureIo();
      expect(await runCli(["help", command.name], viaHelp)).toBe(0);
      expect(await runCli([command.name, "--help"], viaFlag)).toBe(0);
      expect(viaHelp.stdout).toEqual(viaFlag.stdout);
      expect(viaHelp.stdout.join("\n")).toContain(`Usage: memkit ${command.name}`);
    }
  });

  it("`memkit help` alone is the main help; `memkit help nope` is wrong usage", async () => {
    const io = captureIo();
    expect(await runCli(["help"], io)).toBe(0);
    expect(io.stdout.join("\n")).toContain("Commands:");
    const bad = captureIo();
    expect(await runCli(["help", "nope"], bad)).toBe(2);
    expect(bad.stderr).toHaveLength(1);
  });

  for (const command of commands) {
    it(`every option of '${command.name}' is described in its help`, () => {
      const help = commandHelp(command);
      for (const [name, option] of Object.entries(command.options)) {
        expect(option.description, `--${name}`).toMatch(/\w/);
        const row = help.split("\n").find((line) => new RegExp(`^ +(-\\w, )?--${name}\\b`).test(line)) ?? "";
        expect(row).toContain(option.description);
        if (option.defaultValue !== undefined) expect(row).toContain(`(default: ${option.defaultValue})`);
      }
      expect(help).toMatch(/--help\s+Show this help/);
    });
  }

  it("bench's help gives --rounds its default", () => {
    const bench = commands.find((c) => c.name === "bench");
    expect(bench && commandHelp(bench)).toMatch(/--rounds <N>\s+.+\(default: 5\)/);
  });

  it("every command's help lists its exit statuses, 0 and 2 included", () => {
    for (const command of commands) {
      const help = commandHelp(command);
      expect(help).toContain("Exit status:");
      for (const { code } of exitStatuses(command)) expect(help).toMatch(new RegExp(`^  ${code}  \\S`, "m"));
      expect(exitStatuses(command).map((s) => s.code)).toEqual(expect.arrayContaining([0, 2]));
    }
  });

  it("run's help lists the outcome exit codes 1, 3, 4, 5, 6 and 8", () => {
    const run = commands.find((c) => c.name === "run");
    expect(run && exitStatuses(run).map((s) => s.code)).toEqual(expect.arrayContaining([0, 1, 2, 3, 4, 5, 6, 8]));
  });
});

describe("wrong usage", () => {
  it("`memkit --foo` is an unknown option, not an unknown command", async () => {
    const io = captureIo();
    expect(await runCli(["--foo"], io)).toBe(2);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toContain("unknown option '--foo'");
  });

  it.each([
    [["demo", "--nope"], "unknown option '--nope'"],
    [["bench", "--rounds"], "option '--rounds' needs a value"],
    [["demo", "--help=yes"], "option '--help' takes no value"],
    [["frobnicate"], "unknown command 'frobnicate'"],
  ])("memkit %j: one line, what was wrong, balanced quotes", async (argv, said) => {
    const io = captureIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.stderr).toHaveLength(1);
    const line = io.stderr[0] ?? "";
    expect(line).toContain(said);
    expect(line.split("'").length % 2, `odd number of ' in: ${line}`).toBe(1);
    expect(line.split('"').length % 2, `odd number of " in: ${line}`).toBe(1);
    expect(line.split("(").length).toBe(line.split(")").length);
  });
});

describe("the built bin", () => {
  it("`demo heap` announces and runs only the heap section", () => {
    const result = memkit("demo", "heap");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^sections: heap$/m);
    expect(result.stdout).toContain("== heap:");
    expect(result.stdout).not.toContain("== once:");
  });

  it("exits quietly with status 0 when the reader of its output goes away (memkit demo | head -1)", async () => {
    const child = spawn(process.execPath, [memkitBin, "demo", "heap"], { stdio: ["ignore", "pipe", "pipe"] });
    // Close the reading end before the child writes: every write it makes then fails with EPIPE.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [status] = (await once(child, "close")) as [number | null];
    expect(stderr).toBe("");
    expect(status).toBe(0);
  });
});
