import { getHeapStatistics } from "node:v8";
import { serializeError } from "../internal/serialize-error.js";
import type { ChildStats, Task } from "./protocol.js";

/** What running a task produced, before it is sent back. */
export type TaskOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

type Fn = (...args: unknown[]) => unknown;

// A reused child sees the same source again and again: compile each once.
const compiled = new Map<string, Fn>();
const COMPILED_MAX = 64;

async function load(task: Task): Promise<Fn> {
  if (task.kind === "source") {
    const cached = compiled.get(task.source);
    if (cached !== undefined) return cached;
    // Indirect eval (through an alias): global scope, so the function sees no runner internals.
    // biome-ignore lint/security/noGlobalEval: isolate runs caller-supplied source by design, inside the isolated child
    const evaluate = globalThis.eval;
    const fn = evaluate(`(${task.source}\n)`) as Fn;
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(task.source, fn);
    return fn;
  }
  const module = (await import(task.url)) as Record<string, unknown>;
  const fn = module[task.exportName];
  if (typeof fn !== "function") {
    throw new TypeError(`Export ${JSON.stringify(task.exportName)} of ${task.url} is ${typeof fn}, not a function`);
  }
  return fn as Fn;
}

/** Runs the task and captures its value or what it threw. Never throws itself. */
export async function runTask(task: Task, args: readonly unknown[]): Promise<TaskOutcome> {
  try {
    const fn = await load(task);
    return { ok: true, value: await fn(...args) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Starts measuring a call when asked to; the returned function gives the figures when it ends. */
export function startStats(wanted: boolean): () => ChildStats | undefined {
  if (!wanted) return () => undefined;
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return {
      cpuMs: (used.user + used.system) / 1000,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: getHeapStatistics().used_heap_size,
    };
  };
}

/** The error as plain data for the trip home. */
export { serializeError };
