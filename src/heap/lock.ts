import { HeapPoisonedError } from "./errors.js";
import { H_DEAD_OWNER, H_LOCK, H_LOCK_SEQ, H_NEXT_OWNER, LOCK_POISONED } from "./layout.js";

/**
 * The mutex of a shared heap, in one Int32 word of the heap's header (the futex design), with an
 * owner id so that a holder that dies inside an operation (`worker.terminate()`) cannot hang the
 * others: the word is 0 when free, else `(owner id << 1) | waiters bit`.
 *
 * Dead-holder detection is a lease: every acquisition bumps H_LOCK_SEQ. A waiter that sees the
 * same owner and the same sequence number for `timeoutMs` (no progress at all; heap operations
 * take microseconds) declares the holder dead: it swaps the word to LOCK_POISONED, records the
 * owner in H_DEAD_OWNER and wakes everyone. From then on every operation throws
 * HeapPoisonedError (like a Rust `Mutex` whose holder panicked) until `heap.recover()`.
 * The cost of the lease: a holder stalled for longer than `timeoutMs` inside one operation (a
 * debugger, a multi-second growth copy) is taken for dead too; `Infinity` never declares one.
 */
const SPINS = 64;
/** Longest single sleep of a waiter, so it re-checks the lease while the holder makes no progress. */
const WAIT_SLICE_MS = 50;

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** A new owner id (1 .. 2^30 - 1) for a heap object over the shared memory. */
export function newOwner(words: Int32Array, h: number): number {
  for (;;) {
    const id = (Atomics.add(words, h + H_NEXT_OWNER, 1) + 1) & 0x3fffffff;
    if (id !== 0) return id;
  }
}

function poisoned(words: Int32Array, h: number): HeapPoisonedError {
  return new HeapPoisonedError(Atomics.load(words, h + H_DEAD_OWNER));
}

/** Takes the lock of the heap whose header is at word `h`, as `owner`. */
export function lockHeap(words: Int32Array, h: number, owner: number, timeoutMs: number): void {
  const index = h + H_LOCK;
  const mine = owner << 1;
  if (Atomics.compareExchange(words, index, 0, mine) === 0) {
    Atomics.add(words, h + H_LOCK_SEQ, 1);
    return;
  }
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, mine) === 0) {
      Atomics.add(words, h + H_LOCK_SEQ, 1);
      return;
    }
  }
  waitForLock(words, h, mine, timeoutMs);
  Atomics.add(words, h + H_LOCK_SEQ, 1);
}

function waitForLock(words: Int32Array, h: number, mine: number, timeoutMs: number): void {
  const index = h + H_LOCK;
  let seen = 0;
  let seenSeq = 0;
  let since = 0;
  for (;;) {
    const value = Atomics.load(words, index);
    if (value === LOCK_POISONED) throw poisoned(words, h);
    // Taken with the waiters bit set: others may be asleep, and release must wake them.
    if (value === 0) {
      if (Atomics.compareExchange(words, index, 0, mine | 1) === 0) return;
      continue;
    }
    if ((value & 1) === 0 && Atomics.compareExchange(words, index, value, value | 1) !== value) continue;
    const seq = Atomics.load(words, h + H_LOCK_SEQ);
    const t = now();
    if ((value | 1) !== seen || seq !== seenSeq) {
      seen = value | 1;
      seenSeq = seq;
      since = t;
    } else if (t - since >= timeoutMs) {
      // No progress for the whole lease: the holder died inside an operation.
      if (Atomics.compareExchange(words, index, seen, LOCK_POISONED) === seen) {
        Atomics.store(words, h + H_DEAD_OWNER, seen >>> 1);
        Atomics.notify(words, index);
        throw poisoned(words, h);
      }
      continue;
    }
    const slice = Math.min(WAIT_SLICE_MS, Math.max(1, timeoutMs - (t - since)));
    Atomics.wait(words, index, seen, Number.isFinite(timeoutMs) ? slice : undefined);
  }
}

/**
 * Releases the lock held by `owner`, waking one waiter if any were sleeping. If the lock is no
 * longer this owner's (it stalled past the lease and was declared dead), nothing is touched and
 * HeapPoisonedError is thrown: the word now belongs to the poison or to a recovering thread.
 */
export function unlockHeap(words: Int32Array, h: number, owner: number): void {
  const index = h + H_LOCK;
  const mine = owner << 1;
  if (Atomics.compareExchange(words, index, mine, 0) === mine) return;
  if (Atomics.compareExchange(words, index, mine | 1, 0) === (mine | 1)) {
    Atomics.notify(words, index, 1);
    return;
  }
  throw poisoned(words, h);
}

/**
 * Takes the lock of a poisoned heap for `recover()` (or the ordinary way when it is not poisoned).
 * Returns true when it was poisoned.
 */
export function lockForRecovery(words: Int32Array, h: number, owner: number, timeoutMs: number): boolean {
  if (Atomics.compareExchange(words, h + H_LOCK, LOCK_POISONED, owner << 1) === LOCK_POISONED) return true;
  try {
    lockHeap(words, h, owner, timeoutMs);
    return false;
  } catch (error) {
    if (error instanceof HeapPoisonedError) return lockForRecovery(words, h, owner, timeoutMs);
    throw error;
  }
}
