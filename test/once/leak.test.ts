import { leak, leaked } from "memkit/once";
import { describe, expect, it } from "vitest";

describe("leak", () => {
  it("pins a value with label and call site until released", () => {
    const callback = () => 1;
    const handle = leak(callback, "native progress callback");
    const entry = leaked().find((e) => e.value === callback);
    expect(entry?.label).toBe("native progress callback");
    expect(entry?.site).toContain("leak.test");
    handle.release();
    handle.release();
    expect(leaked().some((e) => e.value === callback)).toBe(false);
  });

  it("keeps a value alive that would otherwise be collected", async () => {
    const gc = (globalThis as { gc?: () => void }).gc as () => void;
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    (() => {
      const value = { big: new Array(1000).fill(1) };
      registry.register(value, "v");
      leak(value, "kept-by-test");
    })();
    const collect = async () => {
      for (let i = 0; i < 10 && !collected; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await collect();
    expect(collected).toBe(false);
    leaked()
      .find((e) => e.label === "kept-by-test")
      ?.release();
    await collect();
    expect(collected).toBe(true);
  });
});
