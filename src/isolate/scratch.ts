import { closeSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { join } from "node:path";
import { newScratchFile, SCRATCH_DIR } from "./scratch-names.js";

/**
 * Files in shared memory (/dev/shm on Linux) that carry large binary results from a child
 * process to the parent. They are reused from call to call because on these machines writing
 * into fresh tmpfs pages costs several times more than overwriting ones already there (64 MiB:
 * ~45-90 ms vs ~7-11 ms). Named after the parent's pid and created here exclusively (O_EXCL,
 * O_NOFOLLOW, mode 0600; the child opens them without creating or following links). When the
 * parent is killed, its children's watchdogs remove its files; any left over (no child was
 * alive) are swept by the next memkit process.
 */
const dir = SCRATCH_DIR;
const NAME = /^memkit-isolate-(\d+)-/;
/** Files larger than this are removed after use rather than kept for the next call. */
const KEEP_MAX = 256 * 1024 * 1024;

let swept = false;
const pools = new Set<ScratchFiles>();
let exitHook = false;

function sweepOrphans(): void {
  if (swept) return;
  swept = true;
  try {
    for (const name of readdirSync(dir)) {
      const match = NAME.exec(name);
      if (match === null) continue;
      if (isAlive(Number(match[1]))) continue;
      try {
        rmSync(join(dir, name), { force: true });
      } catch {
        // Another user's file in a sticky directory: theirs to remove.
      }
    }
  } catch {
    // No shared-memory directory to sweep: nothing was left there.
  }
}

/** Whether `pid` exists: EPERM means it does (it belongs to another user), only ESRCH means gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** A pool of scratch file paths for one isolator. */
export class ScratchFiles {
  private free: string[] = [];
  private all = new Set<string>();

  /** A path no other running call uses, to a file that exists and is this process's own. */
  take(): string {
    sweepOrphans();
    pools.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once("exit", () => {
        for (const pool of pools) pool.clear();
      });
    }
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const path = newScratchFile();
    this.all.add(path);
    return path;
  }

  /**
   * Like `take`, or undefined when no file can be made (shared memory full, no descriptors left):
   * large results then travel over the IPC pipe instead, slower but intact.
   */
  tryTake(): string | undefined {
    try {
      return this.take();
    } catch {
      return undefined;
    }
  }

  /** Gives a path back after its call settled, or removes its file when `drop` (or when it was removed for being large). */
  give(path: string, drop = false): void {
    if (drop) this.remove(path);
    else if (this.all.has(path)) this.free.push(path);
  }

  private remove(path: string): void {
    rmSync(path, { force: true });
    this.all.delete(path);
  }

  /** Reads `length` bytes the child wrote into a new buffer of its own. */
  read(path: string, length: number): Buffer {
    const bytes = Buffer.allocUnsafeSlow(length);
    const fd = openSync(path, "r");
    try {
      let done = 0;
      while (done < length) {
        const n = readSync(fd, bytes, done, length - done, done);
        if (n === 0) break;
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    if (length > KEEP_MAX) this.remove(path);
    return bytes;
  }

  /** Removes every file. */
  clear(): void {
    for (const path of this.all) rmSync(path, { force: true });
    this.all.clear();
    this.free = [];
    pools.delete(this);
  }
}
