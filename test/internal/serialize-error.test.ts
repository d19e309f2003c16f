import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { InvalidSizeError, isMemkitError, MemkitError, reviveError, serializeError } from "memkit";
import { describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("../fixtures/throw-error.mjs", import.meta.url));

function expectRevived(list: unknown[]): void {
  const [custom, memkit, plain] = list.map(reviveError) as [Error & Record<string, unknown>, InvalidSizeError, unknown];
  expect(custom).toBeInstanceOf(Error);
  expect(custom.name).toBe("ConnectionError");
  expect(custom.message).toBe("custom failure");
  expect(custom.code).toBe("ECONNRESET");
  expect(custom.retries).toBe(3);
  expect(custom.details).toEqual({ host: "db", ports: [1, 2] });
  expect(custom.stack).toContain("throw-error.mjs");
  expect(custom.cause).toBeInstanceOf(TypeError);
  expect((custom.cause as Error).message).toBe("inner cause");
  // Revived from the test's own module instance: the class registry maps the name back.
  expect(memkit.name).toBe("InvalidSizeError");
  expect(memkit.code).toBe("ERR_MEMKIT_INVALID_SIZE");
  expect(memkit.value).toBe(1.5);
  expect(isMemkitError(memkit)).toBe(true);
  expect(memkit).toBeInstanceOf(RangeError);
  expect(memkit).toBeInstanceOf(MemkitError);
  expect(plain).toBe("plain string");
}

describe("serializeError / reviveError", () => {
  it("round-trips class, code, cause chain and own fields in-process", () => {
    const inner = new InvalidSizeError("bad", -1);
    const outer = Object.assign(new Error("outer", { cause: inner }), { code: "E_OUTER", extra: { n: 1 } });
    const revived = reviveError(structuredClone(serializeError(outer))) as Error & Record<string, unknown>;
    expect(revived.message).toBe("outer");
    expect(revived.code).toBe("E_OUTER");
    expect(revived.extra).toEqual({ n: 1 });
    expect(revived.cause).toBeInstanceOf(InvalidSizeError);
    expect((revived.cause as InvalidSizeError).value).toBe(-1);
  });

  it("keeps built-in classes", () => {
    const revived = reviveError(structuredClone(serializeError(new SyntaxError("nope"))));
    expect(revived).toBeInstanceOf(SyntaxError);
    expect((revived as Error).name).toBe("SyntaxError");
  });

  it("survives a cause cycle and unclonable fields", () => {
    const a = new Error("a") as Error & { fn?: unknown; cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    a.fn = () => 1;
    const revived = reviveError(structuredClone(serializeError(a))) as Error & { fn: unknown };
    expect(revived.message).toBe("a");
    expect(typeof revived.fn).toBe("string");
    expect((revived.cause as Error).message).toBe("b");
  });

  it("carries non-error throwables", () => {
    expect(reviveError(structuredClone(serializeError(42)))).toBe(42);
    expect(reviveError(structuredClone(serializeError(undefined)))).toBe(undefined);
  });

  it("round-trips through a real worker_threads Worker", async () => {
    const worker = new Worker(fixture);
    const [message] = (await once(worker, "message")) as [unknown[]];
    await worker.terminate();
    expectRevived(message);
  });

  it("round-trips through a real child process (advanced IPC serialization)", async () => {
    const child = fork(fixture, { serialization: "advanced", stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const [message] = (await once(child, "message")) as [unknown[]];
    await once(child, "exit");
    expectRevived(message);
  });
});
