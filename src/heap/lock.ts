/**
 * A mutex in one Int32 word of shared memory (the futex design: 0 free, 1 held, 2 held with
 * waiters), so every thread attached to a shared heap excludes the others. Node lets the main
 * thread `Atomics.wait` too, and critical sections here are a few hundred nanoseconds, so a
 * short spin comes before sleeping.
 */
const SPINS = 64;

/** Takes the lock at `index` of `words`. */
export function lockWord(words: Int32Array, index: number): void {
  if (Atomics.compareExchange(words, index, 0, 1) === 0) return;
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, 1) === 0) return;
  }
  while (Atomics.exchange(words, index, 2) !== 0) Atomics.wait(words, index, 2);
}

/** Releases the lock at `index`, waking one waiter if any were sleeping. */
export function unlockWord(words: Int32Array, index: number): void {
  if (Atomics.sub(words, index, 1) !== 1) {
    Atomics.store(words, index, 0);
    Atomics.notify(words, index, 1);
  }
}
