import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { captureIo } from "../helpers/capture-io.js";
import { memkitBin as bin } from "../helpers/memkit-bin.js";

describe("memkit CLI", () => {
  it("--help lists every subcommand", async () => {
    const io = captureIo();
    expect(await runCli(["--help"], io)).toBe(0);
    const text = io.stdout.join("\n");
    for (const name of ["demo", "bench"]) expect(text).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  it("--version prints the package version", async () => {
    const io = captureIo();
    expect(await runCli(["--version"], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("an unknown command exits 2 with a one-line hint", async () => {
    const io = captureIo();
    expect(await runCli(["frobnicate"], io)).toBe(2);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toContain("memkit --help");
  });

  it("an unknown flag exits 2 with a one-line hint", async () => {
    const io = captureIo();
    expect(await runCli(["demo", "--nope"], io)).toBe(2);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toContain("memkit help demo");
  });

  it("no arguments prints help and exits 2", async () => {
    const io = captureIo();
    expect(await runCli([], io)).toBe(2);
    expect(io.stdout.join("\n")).toContain("Usage: memkit");
  });

  it("subcommand --help shows usage and --json where the command reports", async () => {
    const io = captureIo();
    expect(await runCli(["bench", "--help"], io)).toBe(0);
    expect(io.stdout.join("\n")).toContain("--json");
  });

  it("bench rejects a bad --rounds", async () => {
    const io = captureIo();
    expect(await runCli(["bench", "--rounds", "0"], io)).toBe(2);
  });

  it("bench --json (built) prints parseable JSON with every quick benchmark", () => {
    const result = spawnSync(process.execPath, [bin, "bench", "--json", "--rounds", "1"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { benches: { module: string }[] };
    expect(report.benches.map((b) => b.module)).toEqual(["heap", "isolate", "once"]);
  });

  it("demo (built) runs every section's live tour", () => {
    const result = spawnSync(process.execPath, [bin, "demo"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    for (const section of ["heap", "fallible", "isolate", "once", "ffi"])
      expect(result.stdout).toContain(`== ${section}:`);
    expect(result.stdout).toContain("tour complete");
  });

  it("demo with an unknown section exits 2", async () => {
    const io = captureIo();
    expect(await runCli(["demo", "nope"], io)).toBe(2);
  });

  it("the built bin prints no colour into a pipe", () => {
    const out = execFileSync(process.execPath, [bin, "--help"], { env: { ...process.env, FORCE_COLOR: undefined } });
    expect(out.toString()).not.toContain("\x1b[");
  });

  it("the built bin exits 2 on an unknown command", () => {
    const result = spawnSync(process.execPath, [bin, "nope"]);
    expect(result.status).toBe(2);
    expect(result.stderr.toString().trim().split("\n")).toHaveLength(1);
  });
});
