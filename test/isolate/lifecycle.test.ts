// Every process and file accounted for: the shared pool behind isolate() is bounded and can be
// shut down, idle children retire, the environment is the caller's choice, `await using` closes.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type IsolateMode, Isolator, isolate, shutdownIsolate } from "memkit/isolate";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "./mixed-calls.js";

/** This process's live children that carry `MEMKIT_TEST_TAG=tag` in their environment. */
function tagged(tag: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const status = readFileSync(`/proc/${entry}/status`, "utf8");
        if (!new RegExp(`^PPid:\\s+${process.pid}$`, "m").test(status) || /^State:\s+Z/m.test(status)) return false;
        return readFileSync(`/proc/${entry}/environ`, "utf8").includes(`MEMKIT_TEST_TAG=${tag}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

afterAll(() => shutdownIsolate());

describe("the pool behind isolate()", () => {
  it("keeps at most two kinds of context alive, and shutdownIsolate() stops them all", async () => {
    const tag = `pool-${process.pid}`;
    const env = { ...process.env, MEMKIT_TEST_TAG: tag };
    for (const memoryLimitMb of [64, 72, 80]) {
      expect(await isolate(() => 1, { memoryLimitMb, env, output: "ignore" })).toBe(1);
    }
    // One spare per kind, two kinds kept: the third kind's spare is stopped (without the bound it
    // stays forever and this wait runs into the test's timeout).
    await until(() => tagged(tag).length <= 2);
    await shutdownIsolate();
    await until(() => tagged(tag).length === 0);
  });
});

describe.each<IsolateMode>(["process", "worker"])("an Isolator in %s mode", (mode) => {
  it("gives the children only the environment it is given; by default they inherit the caller's", async () => {
    process.env.MEMKIT_TEST_SECRET = "visible";
    await using inherits = new Isolator({ mode, output: "ignore" });
    expect(await inherits.run(() => process.env.MEMKIT_TEST_SECRET)).toBe("visible");
    await using clean = new Isolator({ mode, output: "ignore", env: { ONLY: "this" } });
    expect(await clean.run(() => [process.env.MEMKIT_TEST_SECRET, process.env.ONLY])).toEqual([undefined, "this"]);
    delete process.env.MEMKIT_TEST_SECRET;
  });

  it("`await using` closes it at the end of the scope", async () => {
    let escaped: Isolator | undefined;
    {
      await using isolator = new Isolator({ mode, output: "ignore", spares: 0 });
      expect(await isolator.run(() => 2)).toBe(2);
      escaped = isolator;
    }
    await expect(escaped.run(() => 3)).rejects.toMatchObject({ code: "ERR_MEMKIT_INVALID_ARGUMENT" });
  });
});

describe("idle children", () => {
  it("a spare idle past idleTimeoutMs is stopped, and the next call still runs", async () => {
    const tag = `idle-${process.pid}`;
    await using isolator = new Isolator({
      output: "ignore",
      idleTimeoutMs: 300,
      env: { ...process.env, MEMKIT_TEST_TAG: tag },
    });
    await isolator.warm();
    expect(tagged(tag).length).toBe(1);
    await until(() => tagged(tag).length === 0);
    expect(await isolator.run(() => 4)).toBe(4);
  });
});

describe("scratch files", () => {
  it("none is left when the caller exits normally, spares and large results included", () => {
    const caller = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("memkit/isolate"); const i = new m.Isolator({ output: "ignore", spares: 2 }); await i.run(() => new Uint8Array(4 << 20)); console.log(process.pid);',
      ],
      { encoding: "utf8" },
    );
    expect(caller.status).toBe(0);
    const pid = caller.stdout.trim();
    expect(readdirSync("/dev/shm").filter((name) => name.startsWith(`memkit-isolate-${pid}-`))).toEqual([]);
  });

  it("the sweep keeps files of a process it may not signal (EPERM means alive) and removes a dead one's", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    await once(dead, "exit");
    const ofInit = "/dev/shm/memkit-isolate-1-lifecycletest";
    const ofDead = `/dev/shm/memkit-isolate-${dead.pid}-lifecycletest`;
    for (const file of [ofInit, ofDead]) {
      writeFileSync(file, "x");
      chownSync(file, 65534, 65534);
    }
    try {
      // As an unprivileged user, kill(1, 0) fails with EPERM: pid 1 is alive, just not ours.
      const sweep = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          'const m = await import("memkit/isolate"); const i = new m.Isolator({ output: "ignore", spares: 0 }); await i.run(() => 1); await i.close();',
        ],
        { uid: 65534, gid: 65534, encoding: "utf8" },
      );
      expect(sweep.status).toBe(0);
      expect(existsSync(ofInit)).toBe(true);
      expect(existsSync(ofDead)).toBe(false);
    } finally {
      rmSync(ofInit, { force: true });
      rmSync(ofDead, { force: true });
    }
  });
});
