import { Lazy, Once, OnceCell } from "memkit/once";
import { describe, expect, it } from "vitest";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? "no code";
  }
  return "no error";
};

describe("OnceCell", () => {
  it("starts empty, is set once, and set reports whether it stored", () => {
    const cell = new OnceCell<number>();
    expect(cell.get()).toBeUndefined();
    expect(cell.peek()).toEqual({ ok: false });
    expect(cell.isInitialized).toBe(false);
    expect(cell.set(1)).toBe(true);
    expect(cell.set(2)).toBe(false);
    expect(cell.get()).toBe(1);
    expect(cell.peek()).toEqual({ ok: true, value: 1 });
  });

  it("getOrInit runs the initializer once", () => {
    const cell = new OnceCell<object>();
    let calls = 0;
    const a = cell.getOrInit(() => ({ n: ++calls }));
    const b = cell.getOrInit(() => ({ n: ++calls }));
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });

  it("a throwing initializer leaves it empty, and the next caller retries", () => {
    const cell = new OnceCell<number>();
    expect(() =>
      cell.getOrInit(() => {
        throw new Error("first");
      }),
    ).toThrow("first");
    expect(cell.isInitialized).toBe(false);
    expect(cell.getOrInit(() => 7)).toBe(7);
  });

  it("getOrTryInit returns the error as a value", () => {
    const cell = new OnceCell<number>();
    const failure = new Error("nope");
    expect(
      cell.getOrTryInit(() => {
        throw failure;
      }),
    ).toEqual({ ok: false, error: failure });
    expect(cell.getOrTryInit(() => 3)).toEqual({ ok: true, value: 3 });
  });

  it("undefined is a real value, told apart by peek", () => {
    const cell = new OnceCell<undefined>();
    cell.set(undefined);
    expect(cell.peek()).toEqual({ ok: true, value: undefined });
  });

  it("re-entrant initialization is a typed error, not a stack overflow, and the cell recovers", () => {
    const cell = new OnceCell<number>();
    expect(codeOf(() => cell.getOrInit(() => cell.getOrInit(() => 1)))).toBe("ERR_MEMKIT_REENTRANT_INIT");
    expect(codeOf(() => cell.getOrInit(() => (cell.set(1) ? 1 : 2)))).toBe("ERR_MEMKIT_REENTRANT_INIT");
    expect(cell.getOrInit(() => 5)).toBe(5);
  });

  it("take empties it", () => {
    const cell = new OnceCell<number>();
    cell.set(4);
    expect(cell.take()).toBe(4);
    expect(cell.isInitialized).toBe(false);
    expect(cell.take()).toBeUndefined();
  });

  it("rejects a non-function initializer with a typed error", () => {
    expect(codeOf(() => new OnceCell().getOrInit(42 as unknown as () => number))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });
});

describe("Lazy", () => {
  it("computes on first access only", () => {
    let calls = 0;
    const lazy = new Lazy(() => ++calls);
    expect(lazy.peek()).toEqual({ ok: false });
    expect(lazy.get()).toBeUndefined(); // Rust's Lazy::get: never forces
    expect(calls).toBe(0);
    expect(lazy.value).toBe(1);
    expect(lazy.force()).toBe(1);
    expect(lazy.get()).toBe(1);
    expect(calls).toBe(1);
    expect(lazy.isInitialized).toBe(true);
  });

  it("poison (default): first access throws the original, later ones PoisonedError with cause", () => {
    const failure = new Error("boom");
    let calls = 0;
    const lazy = new Lazy<number>(() => {
      calls++;
      throw failure;
    });
    expect(() => lazy.value).toThrow(failure);
    let later: unknown;
    try {
      lazy.value;
    } catch (e) {
      later = e;
    }
    expect(later).toMatchObject({ code: "ERR_MEMKIT_POISONED", cause: failure });
    expect(lazy.isPoisoned).toBe(true);
    expect(calls).toBe(1);
  });

  it("retry: a later access runs the initializer again", () => {
    let calls = 0;
    const lazy = new Lazy(
      () => {
        if (++calls === 1) throw new Error("transient");
        return "ok";
      },
      { onError: "retry" },
    );
    expect(() => lazy.value).toThrow("transient");
    expect(lazy.value).toBe("ok");
    expect(lazy.isPoisoned).toBe(false);
  });

  it("re-entrant access is a typed error", () => {
    const lazy: Lazy<number> = new Lazy(() => lazy.value + 1);
    expect(codeOf(() => lazy.value)).toBe("ERR_MEMKIT_REENTRANT_INIT");
  });

  it("an unknown policy is a typed error", () => {
    expect(codeOf(() => new Lazy(() => 1, { onError: "ignore" as "retry" }))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });
});

describe("Once", () => {
  it("runs once and then never again", () => {
    const once = new Once();
    let calls = 0;
    once.callOnce(() => calls++);
    once.callOnce(() => calls++);
    expect(calls).toBe(1);
    expect(once.isCompleted).toBe(true);
  });

  it("a throw poisons it; callOnce then throws PoisonedError; callOnceForce sees and clears it", () => {
    const once = new Once();
    const failure = new Error("half done");
    expect(() =>
      once.callOnce(() => {
        throw failure;
      }),
    ).toThrow(failure);
    expect(once.isPoisoned).toBe(true);
    expect(codeOf(() => once.callOnce(() => {}))).toBe("ERR_MEMKIT_POISONED");
    let sawPoison = false;
    once.callOnceForce((state) => {
      sawPoison = state.isPoisoned;
    });
    expect(sawPoison).toBe(true);
    expect(once.isCompleted).toBe(true);
    expect(once.isPoisoned).toBe(false);
    once.callOnceForce(() => {
      throw new Error("never runs");
    });
  });

  it("re-entrant callOnce is a typed error", () => {
    const once = new Once();
    expect(codeOf(() => once.callOnce(() => once.callOnce(() => {})))).toBe("ERR_MEMKIT_REENTRANT_INIT");
  });
});

describe("edges (issue 12)", () => {
  it("Once.callOnce(42) is a typed error that leaves the Once usable (not poisoned, not running)", () => {
    const once = new Once();
    expect(codeOf(() => once.callOnce(42 as unknown as () => void))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
    expect(once.isPoisoned).toBe(false);
    let ran = 0;
    once.callOnce(() => ran++);
    expect(ran).toBe(1);
    expect(codeOf(() => once.callOnceForce(42 as unknown as () => void))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });

  it("OnceCell.trySet gives the rejected value back with the held one", () => {
    const cell = new OnceCell<string>();
    expect(cell.trySet("a")).toEqual({ ok: true, value: "a" });
    expect(cell.trySet("b")).toEqual({ ok: false, value: "b", current: { ok: true, value: "a" } });
    expect(cell.get()).toBe("a");
  });

  it("a misspelt option is a typed error, not ignored", () => {
    expect(codeOf(() => new Lazy(() => 1, { onerror: "retry" } as never))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
    expect(codeOf(() => new Lazy(() => 1, "poison" as never))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });

  it("OnceCell.getOrInit(42) is a typed error even once initialized", () => {
    const cell = new OnceCell<number>();
    cell.set(1);
    expect(codeOf(() => cell.getOrInit(42 as unknown as () => number))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });
});
