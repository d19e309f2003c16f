import { readFileSync } from "node:fs";

/**
 * What the runtime and the OS say about a child running out of memory. Out-of-memory is
 * recognised only from these signals, never from the text of an error the function threw.
 */

// V8's fatal out-of-memory report ("FATAL ERROR: Reached heap limit Allocation failed -
// JavaScript heap out of memory", "Fatal process out of memory: ..."), which Node follows with
// abort(): both must be seen, so a script that merely prints the words is not taken for one.
const V8_FATAL_OOM =
  /FATAL ERROR:.*(?:heap out of memory|Allocation failed)|Fatal (?:process|JavaScript) out of memory/;

/** Whether a stderr chunk carries V8's fatal out-of-memory report. */
export function isV8OutOfMemoryReport(chunk: string): boolean {
  return V8_FATAL_OOM.test(chunk);
}

/** Whether a child that printed V8's report then died as V8 makes it die (abort). */
export function diedOfV8OutOfMemory(reported: boolean, code: number | null, signal: string | null): boolean {
  return reported && (signal === "SIGABRT" || code === 134 || signal === "SIGTRAP" || signal === "SIGILL");
}

const MEMORY_EVENTS = "/sys/fs/cgroup/memory.events";

/**
 * The kernel's count of OOM kills in this process's cgroup (cgroup v2), or undefined where it
 * cannot be read. A child killed by SIGKILL that the parent did not send, while this count
 * rose, was killed by the OOM killer.
 */
export function oomKillCount(): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const match = /^oom_kill (\d+)$/m.exec(readFileSync(MEMORY_EVENTS, "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * Bytes a call may grow the child's resident memory by under `memoryLimitMb`: the limit plus
 * headroom for V8's young generation and code (half the limit, at least 32 MiB).
 */
export function rssAllowance(limitMb: number): number {
  return (limitMb + Math.max(32, limitMb / 2)) * 1024 * 1024;
}
