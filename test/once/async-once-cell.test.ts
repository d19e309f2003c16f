import { AsyncLazy, AsyncOnceCell } from "memkit/once";
import { describe, expect, it } from "vitest";

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe("AsyncOnceCell", () => {
  it("1,000 concurrent first callers produce exactly one init call and one value", async () => {
    const cell = new AsyncOnceCell<{ id: number }>();
    let calls = 0;
    const init = async () => {
      calls++;
      await tick(5);
      return { id: calls };
    };
    const values = await Promise.all(Array.from({ length: 1000 }, () => cell.getOrInit(init)));
    expect(calls).toBe(1);
    expect(new Set(values).size).toBe(1);
    expect(cell.get()).toBe(values[0]);
  });

  it("a rejection is not cached: the next caller retries (default policy)", async () => {
    const cell = new AsyncOnceCell<string>();
    let calls = 0;
    const init = async () => {
      calls++;
      if (calls === 1) throw new Error("flaky");
      return "ok";
    };
    const first = await Promise.allSettled([cell.getOrInit(init), cell.getOrInit(init)]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(cell.isInitialized).toBe(false);
    expect(await cell.getOrInit(init)).toBe("ok");
    expect(calls).toBe(2);
  });

  it("poison: every later call rejects with PoisonedError and the original as cause", async () => {
    const cell = new AsyncOnceCell<string>({ onError: "poison" });
    const failure = new Error("fatal");
    await expect(cell.getOrInit(() => Promise.reject(failure))).rejects.toBe(failure);
    await expect(cell.getOrInit(async () => "never")).rejects.toMatchObject({
      code: "ERR_MEMKIT_POISONED",
      cause: failure,
    });
    expect(cell.isPoisoned).toBe(true);
  });

  it("retries with backoff inside one initialization", async () => {
    const cell = new AsyncOnceCell<number>({ retries: 3, backoffMs: 2 });
    let calls = 0;
    const value = await cell.getOrInit(async () => {
      if (++calls < 3) throw new Error(`attempt ${calls}`);
      return calls;
    });
    expect(value).toBe(3);
    const failing = new AsyncOnceCell<number>({ retries: 2, backoffMs: 1 });
    let attempts = 0;
    await expect(
      failing.getOrInit(async () => {
        attempts++;
        throw new Error("always");
      }),
    ).rejects.toThrow("always");
    expect(attempts).toBe(3);
  });

  it("one waiter's abort and another's timeout do not cancel the init for the rest", async () => {
    const cell = new AsyncOnceCell<string>();
    let release: (v: string) => void = () => {};
    const init = () => new Promise<string>((r) => (release = r));
    const controller = new AbortController();
    const aborted = cell.getOrInit(init, { signal: controller.signal });
    const timedOut = cell.getOrInit(init, { timeoutMs: 5 });
    const patient = cell.getOrInit(init);
    controller.abort(new Error("user left"));
    await expect(aborted).rejects.toMatchObject({ code: "ERR_MEMKIT_ABORTED" });
    await expect(timedOut).rejects.toMatchObject({ code: "ERR_MEMKIT_TIMEOUT", timeoutMs: 5 });
    release("value");
    expect(await patient).toBe("value");
    expect(cell.get()).toBe("value");
  });

  it("an already-aborted signal rejects at once", async () => {
    const cell = new AsyncOnceCell<number>();
    await expect(cell.getOrInit(async () => 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "ERR_MEMKIT_ABORTED",
    });
  });

  it("an initializer awaiting its own cell gets ReentrantInitError instead of waiting forever", async () => {
    const cell: AsyncOnceCell<number> = new AsyncOnceCell<number>();
    await expect(cell.getOrInit(async () => (await cell.getOrInit(async () => 1)) + 1)).rejects.toMatchObject({
      code: "ERR_MEMKIT_REENTRANT_INIT",
    });
    expect(await cell.getOrInit(async () => 2)).toBe(2);
  });

  it("set stores only when empty and idle", async () => {
    const cell = new AsyncOnceCell<number>();
    expect(cell.set(1)).toBe(true);
    expect(cell.set(2)).toBe(false);
    expect(await cell.getOrInit(async () => 3)).toBe(1);
  });
});

describe("AsyncLazy", () => {
  it("computes once for concurrent callers and peeks without computing", async () => {
    let calls = 0;
    const lazy = new AsyncLazy(async () => ++calls);
    expect(lazy.peek()).toEqual({ ok: false });
    expect(lazy.get()).toBeUndefined();
    expect(calls).toBe(0);
    expect(await Promise.all([lazy.force(), lazy.force(), lazy.force()])).toEqual([1, 1, 1]);
    expect(lazy.get()).toBe(1);
    expect(lazy.isInitialized).toBe(true);
    expect(lazy.peek()).toEqual({ ok: true, value: 1 });
  });
});

describe("AsyncOnceCell: every problem is a rejection, never a synchronous throw", () => {
  const codeOf = async (p: () => Promise<unknown>) => {
    let promise: Promise<unknown>;
    try {
      promise = p();
    } catch (error) {
      return `threw synchronously: ${(error as { code?: string }).code}`;
    }
    return promise.then(
      () => "resolved",
      (error: { code?: string }) => error.code,
    );
  };

  it("getOrInit(42) rejects with ERR_MEMKIT_INVALID_ARGUMENT, also once initialized", async () => {
    const cell = new AsyncOnceCell<number>();
    expect(await codeOf(() => cell.getOrInit(42 as unknown as () => number))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
    await cell.getOrInit(() => 1);
    expect(await codeOf(() => cell.getOrInit(42 as unknown as () => number))).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });

  it("a bad timeoutMs or signal rejects before init starts", async () => {
    const cell = new AsyncOnceCell<number>();
    let started = 0;
    const init = () => ++started;
    expect(await codeOf(() => cell.getOrInit(init, { timeoutMs: -1 }))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(await codeOf(() => cell.getOrInit(init, { timeoutMs: 1.5 }))).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(await codeOf(() => cell.getOrInit(init, { signal: "x" as unknown as AbortSignal }))).toBe(
      "ERR_MEMKIT_INVALID_ARGUMENT",
    );
    expect(started).toBe(0);
    expect(cell.isInitialized).toBe(false);
  });

  it("an init that awaits its own cell rejects with ERR_MEMKIT_REENTRANT_INIT", async () => {
    const cell: AsyncOnceCell<number> = new AsyncOnceCell<number>();
    const result = await codeOf(() =>
      cell.getOrInit(async () => {
        await tick();
        return (await cell.getOrInit(async () => 1)) + 1;
      }),
    );
    expect(result).toBe("ERR_MEMKIT_REENTRANT_INIT");
  });
});

describe("AsyncOnceCell.wait (Rust's OnceLock::wait)", () => {
  it("waits for a value stored elsewhere without starting any initialization", async () => {
    const cell = new AsyncOnceCell<number>();
    let settled = false;
    const waiting = cell.wait().then((v) => {
      settled = true;
      return v;
    });
    await tick(2);
    expect(settled).toBe(false);
    expect(cell.isInitialized).toBe(false);
    await cell.getOrInit(async () => 7);
    expect(await waiting).toBe(7);
    const later = cell.wait();
    expect(await later).toBe(7);
    const other = new AsyncOnceCell<string>();
    const viaSet = other.wait();
    other.set("set");
    expect(await viaSet).toBe("set");
  });

  it("rejects when the cell becomes poisoned, and per waiter on timeout", async () => {
    const cell = new AsyncOnceCell<number>({ onError: "poison" });
    const waiting = cell.wait();
    await expect(cell.getOrInit(() => Promise.reject(new Error("down")))).rejects.toThrow("down");
    await expect(waiting).rejects.toMatchObject({ code: "ERR_MEMKIT_POISONED" });
    await expect(new AsyncOnceCell<number>().wait({ timeoutMs: 1 })).rejects.toMatchObject({
      code: "ERR_MEMKIT_TIMEOUT",
    });
  });
});

describe("AsyncOnceCell options", () => {
  it("a misspelt option or a bad retry count is a typed error", () => {
    expect(() => new AsyncOnceCell({ retry: 2 } as never)).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_ARGUMENT" }),
    );
    expect(() => new AsyncOnceCell({ retries: -1 })).toThrow(
      expect.objectContaining({ code: "ERR_MEMKIT_INVALID_SIZE" }),
    );
  });
});

describe("AsyncOnceCell: trySet and take (Rust's set -> Err(value), take/into_inner)", () => {
  it("trySet hands back the rejected value and the one held", async () => {
    const cell = new AsyncOnceCell<{ n: number }>();
    const first = { n: 1 };
    const second = { n: 2 };
    expect(cell.trySet(first)).toEqual({ ok: true, value: first });
    const rejected = cell.trySet(second);
    expect(rejected.ok).toBe(false);
    expect(rejected.value).toBe(second);
    expect(!rejected.ok && rejected.current).toEqual({ ok: true, value: first });
  });

  it("take empties the cell (and clears poison); refused while an init runs", async () => {
    const cell = new AsyncOnceCell<number>({ onError: "poison" });
    await cell.getOrInit(() => 7);
    expect(cell.take()).toEqual({ ok: true, value: 7 });
    expect(cell.take()).toEqual({ ok: false });
    await expect(cell.getOrInit(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(cell.isPoisoned).toBe(true);
    cell.take();
    let release = () => {};
    const running = cell.getOrInit(() => new Promise<number>((r) => (release = () => r(9))));
    expect(() => cell.take()).toThrow(expect.objectContaining({ code: "ERR_MEMKIT_REENTRANT_INIT" }));
    release();
    expect(await running).toBe(9);
  });
});
