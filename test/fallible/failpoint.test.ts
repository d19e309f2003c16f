import { spawnSync } from "node:child_process";
import {
  configureFailpoint,
  failpoint,
  failpointAsync,
  failpointScope,
  failpointSeed,
  listFailpoints,
  parseFailpointSpec,
  removeFailpoint,
  setFailpointSeed,
  withFailpoints,
} from "memkit/fallible";
import { afterEach, describe, expect, it } from "vitest";

afterEach(() => {
  for (const name of Object.keys(listFailpoints())) removeFailpoint(name);
});

describe("failpoint grammar", () => {
  it("parses chains with percent, count, action and argument", () => {
    expect(parseFailpointSpec("20%3*throw(msg)->off")).toEqual([
      { kind: "throw", probability: 0.2, count: 3, argument: "msg" },
      { kind: "off", probability: 1, count: Number.POSITIVE_INFINITY, argument: undefined },
    ]);
    expect(parseFailpointSpec("return(5)")[0]).toMatchObject({ kind: "return", argument: "5" });
    expect(parseFailpointSpec("panic(x)")[0]?.kind).toBe("throw");
    expect(parseFailpointSpec("pause->yield->delay(5)").map((a) => a.kind)).toEqual(["pause", "yield", "delay"]);
  });

  it.each(["", "explode", "150%throw", "sleep(abc)", "3*", "throw(unclosed", "delay", "pause(1)"])(
    "rejects %j with a typed error",
    (spec) => {
      expect(() => parseFailpointSpec(spec)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_FAILPOINT" }));
    },
  );
});

describe("failpoint", () => {
  it("does nothing until configured", () => {
    expect(failpoint("nothing.here")).toBeUndefined();
  });

  it("return(value) hands back parsed JSON or text", () => {
    configureFailpoint("a", "return(42)");
    expect(failpoint("a")).toEqual({ value: 42 });
    configureFailpoint("b", "return(not json)");
    expect(failpoint("b")).toEqual({ value: "not json" });
  });

  it("3*throw(msg)->off throws three times then stops", () => {
    configureFailpoint("c", "3*throw(disk full)->off");
    const outcomes = Array.from({ length: 5 }, () => {
      try {
        failpoint("c");
        return "ok";
      } catch (error) {
        return (error as { code: string; message: string; failpoint: string }).message;
      }
    });
    expect(outcomes).toEqual(["disk full", "disk full", "disk full", "ok", "ok"]);
  });

  it("a percentage fires about that often", () => {
    configureFailpoint("d", "30%return(1)");
    let hits = 0;
    for (let i = 0; i < 2000; i++) if (failpoint("d")) hits++;
    expect(hits).toBeGreaterThan(450);
    expect(hits).toBeLessThan(750);
  });

  it("sleep(ms) delays, synchronously and asynchronously", async () => {
    configureFailpoint("e", "sleep(30)");
    let t = Date.now();
    failpoint("e");
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
    t = Date.now();
    await failpointAsync("e");
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
  });

  it("a scope restores the previous configuration (using, and withFailpoints even on throw)", async () => {
    configureFailpoint("f", "return(1)");
    {
      using _scope = failpointScope({ f: "return(2)", g: "throw" });
      expect(failpoint("f")).toEqual({ value: 2 });
    }
    expect(failpoint("f")).toEqual({ value: 1 });
    expect(failpoint("g")).toBeUndefined();
    expect(() => withFailpoints({ g: "throw(boom)" }, () => failpoint("g"))).toThrow("boom");
    expect(failpoint("g")).toBeUndefined();
    await withFailpoints({ h: "return(3)" }, async () => expect(await failpointAsync("h")).toEqual({ value: 3 }));
    expect(await failpointAsync("h")).toBeUndefined();
  });

  it("a bad spec in a scope applies nothing", () => {
    expect(() => failpointScope({ ok: "return(1)", bad: "nope" })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_FAILPOINT" }),
    );
    expect(failpoint("ok")).toBeUndefined();
  });
});

const fire = (name: string) => {
  try {
    return failpoint(name)?.value ?? "none";
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe("failpoints follow the fail crate (issue 12)", () => {
  it("0*throw never fires, and the chain falls through to the next action", () => {
    configureFailpoint("zero", "0*throw");
    expect(Array.from({ length: 5 }, () => fire("zero"))).toEqual(["none", "none", "none", "none", "none"]);
    configureFailpoint("zero", "0*throw->return(2)");
    expect(fire("zero")).toBe(2);
  });

  it("50%return(1)->return(2): a missed chance falls through to return(2), never to nothing", () => {
    setFailpointSeed(3);
    configureFailpoint("half", "50%return(1)->return(2)");
    const values = Array.from({ length: 200 }, () => fire("half"));
    expect(values.filter((v) => v === "none")).toEqual([]);
    expect(new Set(values)).toEqual(new Set([1, 2]));
  });

  it("a count is spent only when its chance hits (20%3*return(1)->return(2))", () => {
    setFailpointSeed(11);
    configureFailpoint("spent", "20%3*return(1)->return(2)");
    const values = Array.from({ length: 300 }, () => fire("spent"));
    expect(values.filter((v) => v === 1)).toHaveLength(3);
  });

  it("probabilities come from the seed: the same seed replays, another differs", () => {
    const run = (seed: number) => {
      setFailpointSeed(seed);
      configureFailpoint("p", "30%return(1)");
      configureFailpoint("q", "70%return(1)");
      return Array.from({ length: 64 }, (_, i) => fire(i % 2 ? "p" : "q")).join("");
    };
    expect(run(42)).toBe(run(42));
    expect(run(42)).not.toBe(run(43));
    expect(failpointSeed()).toBe(43);
    expect(() => setFailpointSeed(1.5)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }));
    expect(() => setFailpointSeed(2 ** 32)).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }));
  });

  it("pause waits (async) until the failpoint is reconfigured; the sync form refuses with a typed error", async () => {
    configureFailpoint("gate", "pause");
    expect(fire("gate")).toBe("ERR_MEMKIT_UNSUPPORTED");
    let resumed = false;
    const waiting = failpointAsync("gate").then(() => {
      resumed = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(resumed).toBe(false);
    configureFailpoint("gate", "off");
    await waiting;
    expect(resumed).toBe(true);
  });

  it("yield and delay do nothing visible but run; a callback runs on every hit", async () => {
    configureFailpoint("y", "yield");
    expect(await failpointAsync("y")).toBeUndefined();
    expect(failpoint("y")).toBeUndefined();
    configureFailpoint("d", "delay(1)");
    expect(failpoint("d")).toBeUndefined();
    let hits = 0;
    configureFailpoint("cb", () => hits++);
    failpoint("cb");
    await failpointAsync("cb");
    expect(hits).toBe(2);
    expect(listFailpoints().cb).toBe("<callback>");
  });

  it("bad names, configs and functions are typed errors", () => {
    const invalid = expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" });
    expect(() => configureFailpoint("a;b", "off")).toThrow(invalid);
    expect(() => failpoint(42 as unknown as string)).toThrow(invalid);
    expect(() => failpointScope("x" as never)).toThrow(invalid);
    expect(() => withFailpoints({}, 5 as never)).toThrow(invalid);
  });
});

describe("MEMKIT_FAILPOINTS is applied all or nothing", () => {
  const probe = (env: Record<string, string>) => {
    const script = `
      import { failpoint, listFailpoints } from "memkit/fallible";
      const codes = [];
      for (const call of [() => failpoint("a"), () => failpoint("a"), () => listFailpoints(), () => failpoint("b")]) {
        try { codes.push(JSON.stringify(call()) ?? "undefined"); } catch (e) { codes.push(e.code); }
      }
      console.log(JSON.stringify(codes));
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, MEMKIT_FAILPOINTS_SEED: "", ...env },
    });
    stderr = child.stderr;
    return JSON.parse(child.stdout) as string[];
  };
  let stderr = "";

  it("a bad entry throws ERR_MEMKIT_INVALID_FAILPOINT on every call and applies none of the others", () => {
    expect(probe({ MEMKIT_FAILPOINTS: "a=return(1);b=nope" })).toEqual(Array(4).fill("ERR_MEMKIT_INVALID_FAILPOINT"));
    expect(probe({ MEMKIT_FAILPOINTS: "a=return(1);junk" })).toEqual(Array(4).fill("ERR_MEMKIT_INVALID_FAILPOINT"));
  });

  it("chances from a drawn seed print it on stderr; the printed seed replays the same choices", () => {
    const first = probe({ MEMKIT_FAILPOINTS: "a=50%return(1)->50%return(2)" });
    const seed = /MEMKIT_FAILPOINTS_SEED=(\d+)/.exec(stderr)?.[1];
    expect(seed).toMatch(/^\d+$/);
    expect(probe({ MEMKIT_FAILPOINTS: "a=50%return(1)->50%return(2)", MEMKIT_FAILPOINTS_SEED: seed ?? "" })).toEqual(
      first,
    );
    expect(stderr).not.toContain("MEMKIT_FAILPOINTS_SEED=");
  });

  it("a good one applies, and MEMKIT_FAILPOINTS_SEED is validated", () => {
    expect(probe({ MEMKIT_FAILPOINTS: "a=return(1);b=off" })).toEqual([
      '{"value":1}',
      '{"value":1}',
      '{"a":"return(1)","b":"off"}',
      "undefined",
    ]);
    expect(probe({ MEMKIT_FAILPOINTS: "a=return(1)", MEMKIT_FAILPOINTS_SEED: "x" })[0]).toBe(
      "ERR_MEMKIT_INVALID_ARGUMENT",
    );
  });
});
