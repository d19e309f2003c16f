import type { Isolator } from "memkit/isolate";
import { expect } from "vitest";
import { openFds, zombieChildren } from "../helpers/process-state.js";

/** Polls `check` every 25 ms until it holds; the calling test's timeout bounds the wait. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 25));
}

/**
 * Runs `count` concurrent calls that return, throw, exit, abort or return something unclonable,
 * checks that each settles as itself, then that no zombie and no extra fd is left.
 */
export async function mixedCalls(isolator: Isolator, count: number): Promise<void> {
  await isolator.run(() => 0); // warm up so lazily opened fds are not counted as leaks
  const fdsBefore = openFds();
  const kinds = ["ok", "throw", "exit", "abort", "unserializable"] as const;
  const plan = Array.from({ length: count }, (_, i) => kinds[(i * 7) % kinds.length] as (typeof kinds)[number]);
  const results = await Promise.allSettled(
    plan.map((kind, i) =>
      isolator.run(
        (k: string, n: number) => {
          if (k === "throw") throw Object.assign(new Error(`failure ${n}`), { n });
          if (k === "exit") process.exit(4);
          if (k === "abort") process.abort();
          if (k === "unserializable") return { fn: () => n };
          return n * 2;
        },
        { args: [kind, i] as [string, number] },
      ),
    ),
  );
  results.forEach((result, i) => {
    const kind = plan[i] as (typeof kinds)[number];
    if (kind === "ok") {
      expect(result).toEqual({ status: "fulfilled", value: i * 2 });
      return;
    }
    expect(result.status).toBe("rejected");
    const reason = (result as PromiseRejectedResult).reason as Record<string, unknown>;
    const expected = {
      throw: { n: i },
      exit: { code: "ERR_MEMKIT_ISOLATE_EXITED", exitCode: 4 },
      abort: { code: "ERR_MEMKIT_ISOLATE_CRASHED", signal: "SIGABRT" },
      unserializable: { code: "ERR_MEMKIT_NOT_SERIALIZABLE", path: "result.fn" },
    }[kind];
    expect(reason).toMatchObject(expected);
  });
  await until(() => zombieChildren().length === 0);
  await until(() => openFds() <= fdsBefore + 2);
}
