import { getHeapStatistics } from "node:v8";
import { serializeError } from "../internal/serialize-error.js";
import type { ChildStats, Task } from "./protocol.js";

/**
 * What running a task produced, before it is sent back: its value, what it threw, or what
 * stopped it from loading (the function was then never entered).
 */
export type TaskOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly phase: "run" | "load"; readonly error: unknown };

type Fn = (...args: unknown[]) => unknown;

// A reused child sees the same source again and again: compile each once.
const compiled = new Map<string, Fn>();
const COMPILED_MAX = 64;

function compile(source: string): Fn {
  const cached = compiled.get(source);
  if (cached !== undefined) return cached;
  // Indirect eval (through an alias): global scope, so the function sees no runner internals.
  // biome-ignore lint/security/noGlobalEval: isolate runs caller-supplied source by design, inside the isolated child
  const evaluate = globalThis.eval;
  const fn = evaluate(`(${source}\n)`) as Fn;
  if (typeof fn !== "function") throw new TypeError("The source text did not evaluate to a function");
  if (compiled.size >= COMPILED_MAX) compiled.clear();
  compiled.set(source, fn);
  return fn;
}

/** The export to call; a CommonJS module's `module.exports` arrives as `default`, so look there too. */
function pick(module: Record<string, unknown>, task: Extract<Task, { kind: "module" }>): Fn {
  let fn = module[task.exportName];
  const cjs = module.default;
  if (fn === undefined && typeof cjs === "object" && cjs !== null)
    fn = (cjs as Record<string, unknown>)[task.exportName];
  if (typeof fn !== "function") {
    throw new TypeError(`Export ${JSON.stringify(task.exportName)} of ${task.url} is ${typeof fn}, not a function`);
  }
  return fn as Fn;
}

/**
 * Modules already imported by this process, by URL (fork mode's template fills it before it
 * forks): a call takes the export from here instead of going through `import()` again, whose
 * loader machinery would run cold in every forked child.
 */
export const preloadedModules: Map<string, Record<string, unknown>> = new Map();

async function load(task: Task): Promise<Fn> {
  if (task.kind === "source") return compile(task.source);
  const module = preloadedModules.get(task.url) ?? ((await import(task.url)) as Record<string, unknown>);
  return pick(module, task);
}

/**
 * Loads the task, calls `enter` (which tells the parent the function is about to run), then runs
 * it, capturing its value or what it threw. Never throws itself.
 */
export async function runTask(task: Task, args: readonly unknown[], enter: () => void): Promise<TaskOutcome> {
  let fn: Fn;
  try {
    fn = await load(task);
  } catch (error) {
    return { ok: false, phase: "load", error };
  }
  try {
    enter();
    return { ok: true, value: await fn(...args) };
  } catch (error) {
    return { ok: false, phase: "run", error };
  }
}

/** Where a task came from, for load errors. */
export function taskOrigin(task: Task): string {
  return task.kind === "module" ? task.url : "the function's source text";
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
