import { afterEach, describe, expect, it } from "vitest";
import {
  configureFailpoint,
  failpoint,
  failpointAsync,
  failpointScope,
  listFailpoints,
  parseFailpointSpec,
  removeFailpoint,
  withFailpoints,
} from "../../src/fallible/index.js";

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
  });

  it.each(["", "explode", "150%throw", "sleep(abc)", "3*", "throw(unclosed"])(
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
