// A fork template that dies or stops answering is replaced, and a call it never forked says
// "not-run". The stall deadline is shortened for this file through MEMKIT_FORK_DEADLINE_MS,
// which memkit reads each time it starts a template.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { Isolator } from "memkit/isolate";
import { afterAll, describe, expect, it } from "vitest";
import { isRunning } from "../helpers/process-state.js";
import { failure, markFile, spinAfterMark } from "./isolators.js";
import { until } from "./mixed-calls.js";

// Long enough for a healthy fork on a loaded machine, short enough for a quick test.
process.env.MEMKIT_FORK_DEADLINE_MS = "1500";
const linux = process.platform === "linux" && process.arch === "x64";
const isolators: Isolator[] = [];
afterAll(async () => {
  await Promise.all(isolators.map((i) => i.close()));
});

/** An isolator whose template carries a tag in its environment, and a way to find that template. */
async function tagged(): Promise<{ isolator: Isolator; template: () => number | undefined }> {
  const tag = `memkit-fork-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const isolator = new Isolator({ mode: "fork", output: "ignore", env: { ...process.env, MEMKIT_TEST_TAG: tag } });
  isolators.push(isolator);
  await isolator.warm();
  const template = () => {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
        const environ = readFileSync(`/proc/${entry}/environ`, "utf8");
        if (
          cmdline.includes("template-main.js") &&
          environ.includes(`MEMKIT_TEST_TAG=${tag}`) &&
          isRunning(Number(entry))
        )
          return Number(entry);
      } catch {
        // The process ended while we looked.
      }
    }
    return undefined;
  };
  return { isolator, template };
}

describe.runIf(linux)("fork templates that die or stall", () => {
  it("a template killed while idle is replaced: the next call runs", async () => {
    const { isolator, template } = await tagged();
    const first = template();
    expect(first).toBeDefined();
    process.kill(first as number, "SIGKILL");
    // Until it is reaped (gone from /proc), which is when this process has seen it exit.
    await until(() => !existsSync(`/proc/${first}`));
    expect(await isolator.run(() => 6 * 7)).toBe(42);
    expect(template()).not.toBe(first);
  });

  it("a stopped (stuck) template is killed at the deadline: the call is not-run, and the next call runs", async () => {
    const { isolator, template } = await tagged();
    const stuck = template() as number;
    process.kill(stuck, "SIGSTOP");
    const error = await failure(isolator.run(() => 1));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", execution: "not-run" });
    await until(() => !isRunning(stuck));
    expect(await isolator.run(() => 2)).toBe(2);
  });

  it("a template that dies with a fork request pending makes that call not-run", async () => {
    const { isolator, template } = await tagged();
    const doomed = template() as number;
    process.kill(doomed, "SIGSTOP");
    const call = isolator.run(() => 1);
    setTimeout(() => process.kill(doomed, "SIGKILL"), 50);
    expect(await failure(call)).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", execution: "not-run" });
  });

  it("a template killed while its child runs takes the child along: the call is a crash, may-have-run", async () => {
    const { isolator, template } = await tagged();
    const parent = template() as number;
    const mark = markFile();
    const call = isolator.run(spinAfterMark, { args: [mark.path] });
    await until(mark.written);
    process.kill(parent, "SIGKILL");
    expect(await failure(call)).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_CRASHED", execution: "may-have-run" });
  });

  it("a timeout still ends the call when the template stops answering after the fork", async () => {
    const { isolator, template } = await tagged();
    const stuck = template() as number;
    const mark = markFile();
    const call = isolator.run(spinAfterMark, { args: [mark.path], timeoutMs: 2000 });
    await until(mark.written);
    process.kill(stuck, "SIGSTOP");
    expect(await failure(call)).toMatchObject({ code: "ERR_MEMKIT_TIMEOUT", execution: "may-have-run" });
  });

  it("a bad execArgv flag is IsolateStartError (spawn), not-run", async () => {
    const bad = new Isolator({ mode: "fork", output: "ignore", spares: 0, execArgv: ["--no-such-flag-at-all"] });
    isolators.push(bad);
    const error = await failure(bad.run(() => 1));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_START_FAILED", phase: "spawn", execution: "not-run" });
  });
});
