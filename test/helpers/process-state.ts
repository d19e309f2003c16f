import { readdirSync, readFileSync } from "node:fs";

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** Direct children of this process that are zombies (exited but never reaped). */
export function zombieChildren(): number[] {
  const zombies: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      if (new RegExp(`^PPid:\\s+${process.pid}$`, "m").test(status) && /^State:\s+Z/m.test(status))
        zombies.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return zombies;
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Polls `check` every 25 ms until it is true or `ms` passed; returns the final result. */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
