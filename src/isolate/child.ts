import type { ChildMessage, RunMessage } from "./protocol.js";

/** How a child ended when it ended without answering. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Last lines of stderr (process mode). */
  readonly stderr: string;
  /** The runtime itself reported running out of heap. */
  readonly outOfMemory: boolean;
}

/** What one call produced: the child's answer, or how it died. */
export type CallOutcome =
  | Exclude<ChildMessage, { type: "ready" }>
  | { readonly type: "exit"; readonly exit: ChildExit };

/**
 * One isolated context (a child process or a worker thread) behind one interface, so the
 * isolator's policies (spares, reuse, limits) are written once for both.
 */
export interface IsolatedChild {
  readonly mode: "process" | "worker";
  /** Resolves when the child can take calls; rejects with its exit if it died first. */
  readonly ready: Promise<void>;
  /** Calls made so far. */
  calls: number;
  /** Sends a task; settles with the answer or with the child's exit. Throws if `message` cannot be sent. */
  call(message: RunMessage): Promise<CallOutcome>;
  /** Ends the child now (SIGKILL / terminate). */
  kill(): void;
  /** Whether the child keeps the caller's event loop alive. */
  ref(): void;
  unref(): void;
  /** Resident memory of the child in bytes, when the platform can tell (process mode on Linux). */
  rssBytes(): number | undefined;
  readonly exited: boolean;
}

/** Keeps the last `max` characters of a stream of text. */
export class Tail {
  private text = "";
  constructor(private readonly max = 4096) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.max);
  }
  /** The last `lines` lines. */
  lines(lines = 20): string {
    return this.text.trimEnd().split("\n").slice(-lines).join("\n");
  }
}

/**
 * The calls in flight on one child, for both runtimes: each settles with the child's answer, or
 * with the child's exit if it dies first; after the exit every new call settles at once.
 */
export class PendingCalls {
  private readonly waiting = new Map<number, (outcome: CallOutcome) => void>();
  private exit: ChildExit | undefined;

  /** Registers call `id` and runs `send`; a send that throws (unserializable arguments) rejects. */
  start(id: number, send: () => void): Promise<CallOutcome> {
    const exit = this.exit;
    if (exit !== undefined) return Promise.resolve({ type: "exit", exit });
    return new Promise<CallOutcome>((resolve) => {
      this.waiting.set(id, resolve);
      try {
        send();
      } catch (error) {
        this.waiting.delete(id);
        throw error;
      }
    });
  }

  /** Settles the call a child message answers (ignores "ready"). */
  answer(message: ChildMessage): void {
    if (message.type === "ready") return;
    const done = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    done?.(message);
  }

  /** The child is gone: every waiting call settles with its exit. */
  ended(exit: ChildExit): void {
    this.exit = exit;
    for (const done of this.waiting.values()) done({ type: "exit", exit });
    this.waiting.clear();
  }
}
