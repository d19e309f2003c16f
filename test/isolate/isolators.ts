import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Isolator, type IsolatorOptions } from "memkit/isolate";
import { afterAll } from "vitest";

/**
 * A maker of isolators for one test file, each with `defaults` under its own options (output
 * ignored unless a test says otherwise); every isolator it made is closed after the file's tests.
 */
export function isolatorMaker(defaults: IsolatorOptions = {}): (options?: IsolatorOptions) => Isolator {
  const isolators: Isolator[] = [];
  afterAll(async () => {
    await Promise.all(isolators.map((isolator) => isolator.close()));
  });
  return (options = {}) => {
    const isolator = new Isolator({ output: "ignore", ...defaults, ...options });
    isolators.push(isolator);
    return isolator;
  };
}

/** The error `promise` rejects with; fails the test when it resolves instead. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail");
}

/** A function that writes `file` once it runs, then spins: the test acts once the file exists. */
export const spinAfterMark = (file: string): never => {
  const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
  fs.writeFileSync(file, "entered");
  for (;;);
};

/** A fresh path for `spinAfterMark` to write, and whether it has been written yet. */
export function markFile(): { path: string; written: () => boolean } {
  const path = join(mkdtempSync(join(tmpdir(), "memkit-fork-mark-")), "mark");
  return { path, written: () => existsSync(path) };
}

/** Runs `script` in a fresh node; resolves with its exit code and trimmed stdout. */
export async function runScript(script: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "ignore"] });
  let stdout = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stdout: stdout.trim() };
}
