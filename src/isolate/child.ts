import type { StartPhase } from "./errors.js";
import type { ChildMessage, RunMessage } from "./protocol.js";

/**
 * How a child ended when it ended without answering. `outOfMemory` is set only from what the
 * runtime or the OS said about the child (V8's fatal out-of-heap report followed by its abort,
 * a worker's `ERR_WORKER_OUT_OF_MEMORY`, the kernel's OOM killer), never from an error the
 * function threw.
 */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Last lines of stderr (process mode). */
  readonly stderr: string;
  /** Which out-of-memory condition ended the child, if one did. */
  readonly outOfMemory: "heap" | "system" | undefined;
}

/** Why a child never became ready: the phase, and how it ended or what refused to start it. */
export interface StartFailure {
  readonly phase: StartPhase;
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly cause?: unknown;
}

/**
 * What one call produced: the child's answer, or how it died, with whether the function had
 * been entered by then (the child says so before it calls the function).
 */
export type CallOutcome =
  | Exclude<ChildMessage, { type: "ready" } | { type: "entered" }>
  | { readonly type: "exit"; readonly exit: ChildExit; readonly entered: boolean };

/**
 * One isolated context behind one interface, so the isolator's policies (spares, reuse, limits,
 * timeouts, outcomes) are written once for every runtime. A runtime (process, worker, or a new
 * one) implements this and registers a factory in `runtimes.ts`; nothing else needs to change.
 */
export interface IsolatedChild {
  readonly mode: string;
  /** Resolves when the child can take calls; rejects with a `StartFailure` if it never could. */
  readonly ready: Promise<void>;
  /** True once `ready` resolved (read synchronously by the recycling logic). */
  readonly isReady: boolean;
  /** Calls made so far. */
  calls: number;
  /** Sends a task; settles with the answer or with the child's exit. Throws if `message` cannot be sent. */
  call(message: RunMessage): Promise<CallOutcome>;
  /** Ends the child now, with everything it started (its process group), and marks the kill as ours. */
  kill(): void;
  /** Whether the child keeps the caller's event loop alive. */
  ref(): void;
  unref(): void;
  /** Resident memory of the child in bytes, when the platform can tell (process mode on Linux). */
  rssBytes(): number | undefined;
  readonly exited: boolean;
}

/** Options every runtime takes. */
export interface ChildOptions {
  readonly memoryLimitMb: number | undefined;
  readonly execArgv: readonly string[];
  /** The child's environment; undefined inherits the caller's. */
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  /** Forward the child's stdout/stderr to ours ("inherit") or drop them ("ignore"). */
  readonly output: "inherit" | "ignore";
}

/** Keeps the last `max` characters of a stream of text. */
export class Tail {
  private text = "";
  constructor(private readonly max = 4096) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.max);
  }
  /** The last `chars` characters. */
  recent(chars: number): string {
    return this.text.slice(-chars);
  }
  /** The last `lines` lines. */
  lines(lines = 20): string {
    return this.text.trimEnd().split("\n").slice(-lines).join("\n");
  }
}

/**
 * The calls in flight on one child, for every runtime: each settles with the child's answer, or
 * with the child's exit if it dies first; after the exit every new call settles at once.
 */
export class PendingCalls {
  private readonly waiting = new Map<number, (outcome: CallOutcome) => void>();
  private readonly enteredIds = new Set<number>();
  private exit: ChildExit | undefined;

  /** @param wasEntered Extra source of "entered" (a worker's shared slot), checked at exit. */
  constructor(private readonly wasEntered: (id: number) => boolean = () => false) {}

  /** Registers call `id` and runs `send`; a send that throws (unserializable arguments) rejects. */
  start(id: number, send: () => void): Promise<CallOutcome> {
    const exit = this.exit;
    if (exit !== undefined) return Promise.resolve({ type: "exit", exit, entered: false });
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

  /** Settles the call a child message answers (records "entered", ignores "ready"). */
  answer(message: ChildMessage): void {
    if (message.type === "ready") return;
    if (message.type === "entered") {
      this.enteredIds.add(message.id);
      return;
    }
    this.enteredIds.delete(message.id);
    const done = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    done?.(message);
  }

  /** The child is gone: every waiting call settles with its exit. */
  ended(exit: ChildExit): void {
    this.exit = exit;
    for (const [id, done] of this.waiting) {
      done({ type: "exit", exit, entered: this.enteredIds.has(id) || this.wasEntered(id) });
    }
    this.waiting.clear();
    this.enteredIds.clear();
  }
}

/**
 * A child whose runtime refused to start it synchronously (a spawn that threw): it is never
 * ready, and a call on it settles with its exit, so the isolator reports `IsolateStartError`
 * (phase "spawn") like any other failed start.
 */
export function failedChild(mode: string, cause: unknown): IsolatedChild {
  const failure: StartFailure = { phase: "spawn", code: null, signal: null, stderr: "", cause };
  const ready = Promise.reject(failure);
  ready.catch(() => {});
  const exit: ChildExit = { code: null, signal: null, stderr: "", outOfMemory: undefined };
  return {
    mode,
    ready,
    isReady: false,
    calls: 0,
    exited: true,
    call: () => Promise.resolve({ type: "exit", exit, entered: false }),
    kill() {},
    ref() {},
    unref() {},
    rssBytes: () => undefined,
  };
}
