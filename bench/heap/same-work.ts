/**
 * The same work for every contender: each replay (the JS driver in test/helpers/trace.ts and the C
 * replayer) must make the calls the trace lists, with its sizes, and write one byte at the start of
 * every block it gets back. This counts what a replay did and compares it with the trace; the bench
 * checks every contender once before timing it, and the C replayer's counters from its timed loop.
 */
import { type ReplayTarget, replay, type Trace } from "../../test/helpers/trace.js";

/** Calls made and bytes requested by one replay. */
export interface WorkCount {
  mallocs: number;
  frees: number;
  reallocs: number;
  /** One-byte writes, each at the pointer the allocator had just returned. */
  touches: number;
  /** Sum of the sizes passed to malloc and realloc. */
  bytes: number;
}

/** What one replay of `trace` must do. */
export function workOf(trace: Trace): WorkCount {
  const count: WorkCount = { mallocs: 0, frees: 0, reallocs: 0, touches: 0, bytes: 0 };
  for (let i = 0; i < trace.events; i++) {
    const kind = trace.kind[i];
    if (kind === 1) {
      count.frees++;
      continue;
    }
    if (kind === 0 || trace.id[i] === 0) count.mallocs++;
    else count.reallocs++;
    count.touches++;
    count.bytes += trace.size[i] as number;
  }
  return count;
}

/**
 * Replays `trace` once through a counting wrapper of `target` and throws unless the calls, sizes and
 * touches match the trace, and every touch lands on the block just returned.
 */
export function checkSameWork(name: string, trace: Trace, target: ReplayTarget): void {
  const done: WorkCount = { mallocs: 0, frees: 0, reallocs: 0, touches: 0, bytes: 0 };
  let last = -1;
  const counting: ReplayTarget = {
    malloc(n) {
      done.mallocs++;
      done.bytes += n;
      last = target.malloc(n);
      return last;
    },
    free(p) {
      done.frees++;
      target.free(p);
    },
    realloc(p, n) {
      done.reallocs++;
      done.bytes += n;
      last = target.realloc(p, n);
      return last;
    },
    touch(p) {
      if (p !== last) throw new Error(`${name}: touched ${p}, not the block just returned (${last})`);
      done.touches++;
      target.touch(p);
    },
  };
  replay(trace, counting);
  const expected = workOf(trace);
  if (JSON.stringify(done) !== JSON.stringify(expected)) {
    throw new Error(`${name} did other work than the trace: ${JSON.stringify(done)} vs ${JSON.stringify(expected)}`);
  }
}
