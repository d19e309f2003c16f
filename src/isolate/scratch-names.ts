import { tmpdir } from "node:os";

/**
 * Where scratch files live and how they are named, shared by the parent (which creates, reuses
 * and removes them) and by a child's watchdog (which removes a dead parent's files).
 */
export const SCRATCH_DIR: string = process.platform === "linux" ? "/dev/shm" : tmpdir();

/** Every scratch file of the process `pid` starts with this. */
export function scratchPrefix(pid: number): string {
  return `memkit-isolate-${pid}-`;
}
