import { InvalidArgumentError } from "../internal/errors.js";
import { H_DEAD_OWNER, H_LOCK, H_LOCK_SEQ } from "./layout.js";

/** What a snapshot carries besides the bytes: kept out of the public type. */
interface SnapshotState {
  /** The heap's secret: identifies the heap the snapshot came from. */
  readonly secret: number;
  /** Cells created after this serial are revoked on restore. */
  readonly cellSerial: number;
  /** Guard state (debug/tracking) at snapshot time. */
  readonly guardState: unknown;
}

const states = new WeakMap<HeapSnapshot, SnapshotState>();

/**
 * A copy of a heap's whole region, from `heap.snapshot()`, for `heap.restore()`. The copy never
 * holds a taken lock: the lock words are cleared in it, so a heap attached to a buffer built from
 * the bytes starts unlocked.
 *
 * @example
 * ```ts
 * const snap = heap.snapshot();
 * heap.restore(snap);
 * ```
 */
export class HeapSnapshot {
  /** The heap's bytes from its base to its end. */
  readonly bytes: Uint8Array;
  /** Byte offset of the heap's header in its memory. */
  readonly base: number;
  /** Byte offset one past the heap's region when the snapshot was taken. */
  readonly end: number;

  private constructor(bytes: Uint8Array, base: number, end: number) {
    this.bytes = bytes;
    this.base = base;
    this.end = end;
  }

  /** @internal Copies [base, end) of `u8`, with the lock words of the copy cleared. */
  static take(u8: Uint8Array, base: number, end: number, state: SnapshotState): HeapSnapshot {
    const bytes = u8.slice(base, end);
    const words = new Int32Array(bytes.buffer, 0, bytes.length >> 2);
    words[H_LOCK] = 0;
    words[H_LOCK_SEQ] = 0;
    words[H_DEAD_OWNER] = 0;
    const snapshot = new HeapSnapshot(bytes, base, end);
    states.set(snapshot, state);
    return snapshot;
  }

  /** @internal The snapshot's state, after checking it belongs to the heap with this base and secret. */
  static stateFor(snapshot: HeapSnapshot, base: number, secret: number): SnapshotState {
    const state = snapshot instanceof HeapSnapshot ? states.get(snapshot) : undefined;
    if (
      state === undefined ||
      snapshot.base !== base ||
      state.secret !== secret ||
      snapshot.bytes.length !== snapshot.end - snapshot.base
    ) {
      throw new InvalidArgumentError("The snapshot was not taken from this heap");
    }
    return state;
  }
}
