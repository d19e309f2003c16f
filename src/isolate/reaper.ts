import { type ChildProcess, spawn } from "node:child_process";
import { SCRATCH_DIR, scratchPrefix } from "./scratch-names.js";

/**
 * One small `sh` process per caller that ends every isolated child's process group, and removes
 * the caller's scratch files, the moment the caller dies, even by SIGKILL and even while a child
 * spins in a busy loop. It learns the groups over a pipe ("+pgid" when a child starts, "-pgid"
 * when it ends) and acts when the pipe closes, which the kernel does when the caller dies.
 *
 * One shared process instead of a watchdog thread in every child: a thread costs each child
 * ~30 ms of CPU to start (a third of its start-up). Where `sh` cannot be started (Windows), or
 * the reaper died, children start their own watchdog thread instead.
 */
const SCRIPT = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) id="\${line#-}"
        case "$groups" in *" $id "*) groups="\${groups%% $id *} \${groups#* $id }" ;; esac ;;
  esac
done
for g in $groups; do kill -9 "-$g" 2>/dev/null; done
rm -f -- "$1"/"$2"*
`;

let reaper: ChildProcess | undefined;
let failed = process.platform === "win32";
const lostListeners = new Set<() => void>();

function start(): ChildProcess | undefined {
  if (failed) return undefined;
  if (reaper !== undefined) return reaper;
  const child = spawn("sh", ["-c", SCRIPT, "memkit-reaper", SCRATCH_DIR, scratchPrefix(process.pid)], {
    // Its own session: a Ctrl-C to the caller's terminal group must not take the reaper first.
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  const down = () => {
    if (failed) return;
    failed = true;
    reaper = undefined;
    // The children it was watching have no watchdog of their own: tell them to start one.
    for (const listener of lostListeners) listener();
    lostListeners.clear();
  };
  child.on("error", down);
  child.on("exit", down);
  child.stdin?.on("error", down);
  if (child.pid === undefined) {
    down();
    return undefined;
  }
  // Neither the reaper nor its pipe may keep the caller's event loop alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  reaper = child;
  return child;
}

/**
 * Puts a child's process group in the reaper's care. Returns false when there is no reaper, so
 * the child must watch for the caller's death itself.
 */
export function reapOnDeath(pgid: number): boolean {
  const child = start();
  if (child === undefined || child.stdin === null) return false;
  child.stdin.write(`+${pgid}\n`);
  return true;
}

/** The group ended: the reaper forgets it (its id may be reused). */
export function forget(pgid: number): void {
  if (reaper !== undefined && !failed) reaper.stdin?.write(`-${pgid}\n`);
}

/** Whether a reaper is running (children then skip their own watchdog thread). */
export function reaperRunning(): boolean {
  return start() !== undefined;
}

/**
 * Calls `listener` once if the reaper dies (killed, or its `sh` failed) while the caller lives.
 * Returns a function that removes the listener (call it when the child ends).
 */
export function onReaperLost(listener: () => void): () => void {
  lostListeners.add(listener);
  return () => lostListeners.delete(listener);
}
