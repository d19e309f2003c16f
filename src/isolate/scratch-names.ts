import { randomBytes } from "node:crypto";
import { closeSync, constants, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Where scratch files live and how they are named, shared by the parent (which creates, reuses
 * and removes them) and by a child's watchdog (which removes a dead parent's files).
 */
export const SCRATCH_DIR: string = process.platform === "linux" ? "/dev/shm" : tmpdir();

/** Every scratch file of the process `pid` starts with this. */
export function scratchPrefix(pid: number): string {
  return `memkit-isolate-${pid}-`;
}

/** Creates an empty file at `path` (mode 0600), failing if anything (a file, a link) is already there. */
export function createExclusive(path: string): void {
  const flags = constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | (constants.O_NOFOLLOW ?? 0);
  closeSync(openSync(path, flags, 0o600));
}

/** A new, exclusively created, empty file of this process among its scratch files. */
export function newScratchFile(): string {
  const path = join(SCRATCH_DIR, `${scratchPrefix(process.pid)}${randomBytes(6).toString("hex")}`);
  createExclusive(path);
  return path;
}
