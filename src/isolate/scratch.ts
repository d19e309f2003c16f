import { randomBytes } from "node:crypto";
import { closeSync, openSync, readdirSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Files in shared memory (/dev/shm on Linux) that carry large binary results from a child
 * process to the parent. They are reused from call to call because on these machines writing
 * into fresh tmpfs pages costs several times more than overwriting ones already there (64 MiB:
 * ~45-90 ms vs ~7-11 ms). Named after the parent's pid, so files left by a parent that was
 * killed are removed by the next one.
 */
const dir = process.platform === "linux" ? "/dev/shm" : tmpdir();
const PREFIX = "memkit-isolate-";
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
      const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
      if (match === null) continue;
      const pid = Number(match[1]);
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) rmSync(join(dir, name), { force: true });
    }
  } catch {
    // No shared-memory directory to sweep: nothing was left there.
  }
}

/** A pool of scratch file paths for one isolator. */
export class ScratchFiles {
  private free: string[] = [];
  private all = new Set<string>();

  /** A path no other running call uses (the child creates the file on first write). */
  take(): string {
    sweepOrphans();
    pools.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once("exit", () => {
        for (const pool of pools) pool.clear();
      });
    }
    const path = this.free.pop() ?? join(dir, `${PREFIX}${process.pid}-${randomBytes(6).toString("hex")}`);
    this.all.add(path);
    return path;
  }

  /** Gives a path back after its call settled. */
  give(path: string): void {
    this.free.push(path);
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
    if (length > KEEP_MAX) rmSync(path, { force: true });
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
