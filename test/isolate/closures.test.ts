// A function travels as source text: names of the caller's scope do not exist in the child.
// Such functions are refused before any child starts, naming the variables; globals and every
// name the function declares itself must never be refused.

import { executionOf, Isolator } from "memkit/isolate";
import { afterAll, describe, expect, it } from "vitest";
import { failure } from "./isolators.js";

const isolator = new Isolator({ output: "ignore", spares: 0, mode: "worker" });
afterAll(() => isolator.close());

describe("closures", () => {
  it("a function using a variable of the caller's scope is refused before spawning, naming it", async () => {
    const secret = "s3cret";
    const limit = 3;
    const error = await failure(isolator.run(() => secret.repeat(limit)));
    expect(error).toMatchObject({ code: "ERR_MEMKIT_ISOLATE_INVALID_FUNCTION", freeVariables: ["secret", "limit"] });
    // Inside an initializer, a ternary or a nested arrow too.
    const inner = await failure(
      isolator.run(() => {
        const pick = (flag: boolean) => (flag ? secret : String(limit));
        return pick(true);
      }),
    );
    expect(inner).toMatchObject({ freeVariables: ["secret", "limit"] });
    expect(executionOf(error)).toBe("not-run");
    // The first fix the message names works: pass them as arguments.
    expect(await isolator.run((s: string, n: number) => s.repeat(n), { args: [secret, limit] })).toBe(secret.repeat(3));
  });

  it("never refuses globals", async () => {
    const value = await isolator.run(async () => {
      const used = [
        Math.max(1, 2),
        JSON.stringify({ a: 1 }),
        typeof process.pid,
        Buffer.from("x").length,
        structuredClone({ b: 2 }).b,
        typeof fetch,
        new URL("https://example.com/p").pathname,
        new TextEncoder().encode("é").length,
        new TextDecoder().decode(new Uint8Array([104])),
        typeof setTimeout,
        typeof clearTimeout,
        typeof setImmediate,
        typeof queueMicrotask,
        new AbortController().signal.aborted,
        typeof performance.now(),
        typeof crypto.randomUUID(),
        new Intl.NumberFormat("en").format(1000),
        await Promise.resolve(7),
        new Map([[1, 2]]).size,
        new Set([1]).size,
        typeof WeakMap,
        typeof Symbol.iterator,
        BigInt(3).toString(),
        Array.isArray([]),
        Object.keys({ k: 1 }),
        Reflect.has({}, "x"),
        typeof Proxy,
        typeof Atomics,
        typeof SharedArrayBuffer,
        typeof WebAssembly,
        typeof console.log,
        typeof globalThis,
        new Date(0).getTime(),
        typeof RegExp,
        new Error("e").message,
        encodeURIComponent(" "),
        atob(btoa("ok")),
        typeof Blob,
        typeof EventTarget,
        typeof MessageChannel,
        typeof Headers,
        typeof Response,
        undefined,
        Number.isNaN(NaN),
        Infinity > 0,
      ];
      return used.length;
    });
    expect(value).toBe(45);
  });

  it("never refuses names the function declares itself, whatever the syntax", async () => {
    const value = await isolator.run(
      async ({ a, b: [c = 0, ...rest] = [1] }: { a: number; b?: number[] }, d: number = a + 1, ...more: number[]) => {
        // comment mentioning outerName, and a string "outerName", and /outerName regex/
        if (a) /regexAfterCondition/.test("x");
        // @ts-expect-error -- `window` does not exist in Node: the typeof guard is what is tested
        const guarded = typeof window !== "undefined" ? window : globalThis;
        const division = a / 2 / 1;
        const re = /outer[Nn]ame \/ (with) {braces}/g;
        let total = a + c + d + rest.length + more.length;
        var hoisted = 1;
        function helper(x: number): number {
          return x * 2 + hoisted;
        }
        class Local {
          #secret = 1;
          declaredField: number | undefined;
          initialised = 2;
          static make() {
            return new Local();
          }
          get value() {
            return this.#secret;
          }
          method(y: number) {
            return y + this.value;
          }
        }
        const obj = {
          key: 1,
          nested: { deep: 2 },
          method() {
            return 3;
          },
          [`computed${total}`]: 4,
        };
        outer: for (const item of [1, 2]) {
          for (const index in { p: 1 }) {
            if (index === "p" && item === 2) break outer;
            continue outer;
          }
        }
        try {
          throw new Error("x");
        } catch (caught) {
          total += caught instanceof Error ? 1 : 0;
        }
        const arrow = async (v: number) => v;
        const single = (w: number) => w + 1;
        function* gen() {
          yield 1;
        }
        const maybe = obj?.nested?.deep ?? 0;
        const tpl = `t${`inner ${total + maybe}`}${obj.key}`;
        // @ts-expect-error -- deliberately undeclared: `typeof` of an unknown name is legal and must not be refused
        const kind = typeof notDefinedAnywhere;
        total += helper(1) + Local.make().method(1) + obj.method() + (await arrow(1)) + single(1) + [...gen()].length;
        return {
          total: total + division,
          tpl: tpl.length > 0,
          kind,
          re: re.source.length > 0,
          guarded: guarded === globalThis,
        };
      },
      { args: [{ a: 1, b: [2, 3] }, 5, 6] as [{ a: number; b?: number[] }, number, number] },
    );
    expect(value).toMatchObject({ tpl: true, kind: "undefined", re: true, guarded: true });
    expect(value.total).toBeGreaterThan(0);
  });
});

describe("a closure the check lets through", () => {
  it("comes back as its own ReferenceError, with a hint naming the variable", async () => {
    // A name reached through `typeof` is never refused before spawning, since it may be guarded.
    const error = await failure(
      isolator.run(
        (always: boolean) => {
          // @ts-expect-error -- deliberately undeclared: the child has no `callerOnly`
          if (typeof callerOnly === "string" || always) return callerOnly;
        },
        { args: [true] },
      ),
    );
    expect(error).toBeInstanceOf(ReferenceError);
    expect(executionOf(error)).toBe("ran");
    expect(error.hint).toEqual(expect.stringContaining("callerOnly"));
  });
});

describe("results that cannot travel", () => {
  it("a generator result is named as one (not 'a  object')", async () => {
    const error = await failure(
      isolator.run(() => {
        function* numbers() {
          yield 1;
        }
        return numbers();
      }),
    );
    expect(error).toMatchObject({ code: "ERR_MEMKIT_NOT_SERIALIZABLE", path: "result" });
    expect(error.detail).toBe("a Generator object that cannot be cloned");
  });
});
