import type { SerializedError, SerializedThrown } from "../internal/serialize-error.js";

/**
 * The messages between the isolator and a child, for every runtime. One call is one `run`
 * message answered by exactly one of `value`, `file`, `threw`, `load-failed` or
 * `unserializable`; `entered` comes first, just before the child calls the function, so a child
 * that dies without it is known not to have run the function.
 */

/** What to run: a function's source text, or a named export of a module. */
export type Task =
  | { readonly kind: "source"; readonly source: string }
  | { readonly kind: "module"; readonly url: string; readonly exportName: string };

/** Parent -> child. */
export interface RunMessage {
  readonly type: "run";
  readonly id: number;
  readonly task: Task;
  readonly args: readonly unknown[];
  /** Binary results (typed arrays, ArrayBuffers) at least this large go through a file in shared memory. */
  readonly fileThreshold: number;
  /** Whether to measure the call (costs a few microseconds). */
  readonly stats: boolean;
  /** Process mode: the shared-memory file (created by the parent) to write a large binary result into. */
  readonly scratch: string | undefined;
}

/** Figures the isolated side measures about one call. */
export interface ChildStats {
  readonly cpuMs: number;
  readonly peakRssBytes: number;
  readonly heapUsedBytes: number;
}

/** Child -> parent. */
/**
 * Parent -> process child: the caller's reaper is gone, so start your own watchdog thread. Sent to
 * every child the reaper was watching; an idle child acts on it at once, a busy one when its call ends.
 */
export interface WatchMessage {
  readonly type: "watch";
}

export type ChildMessage =
  | { readonly type: "ready" }
  | { readonly type: "entered"; readonly id: number }
  | { readonly type: "value"; readonly id: number; readonly value: unknown; readonly stats: ChildStats | undefined }
  | {
      readonly type: "file";
      readonly id: number;
      readonly file: string;
      /** Bytes written at the start of the file. */
      readonly length: number;
      /** The typed array class to view the bytes as, or "ArrayBuffer" / "Buffer". */
      readonly view: string;
      readonly stats: ChildStats | undefined;
    }
  | {
      readonly type: "threw";
      readonly id: number;
      readonly error: SerializedError | SerializedThrown;
      readonly stats: ChildStats | undefined;
    }
  | {
      /** The task's module or source could not be loaded: the function was never entered. */
      readonly type: "load-failed";
      readonly id: number;
      readonly module: string;
      readonly error: SerializedError | SerializedThrown;
    }
  | {
      readonly type: "unserializable";
      readonly id: number;
      readonly path: string;
      readonly detail: string;
      readonly stats: ChildStats | undefined;
    };
