import { Isolator } from "memkit/isolate";
import { afterAll, describe, it } from "vitest";
import { mixedCalls } from "./mixed-calls.js";

const isolator = new Isolator({ output: "ignore", spares: 2, maxConcurrency: 8 });
afterAll(() => isolator.close());

describe("isolate soak", () => {
  it("200 concurrent mixed calls all settle correctly; no zombies; fds back to baseline", async () => {
    await mixedCalls(isolator, 200);
  });
});
