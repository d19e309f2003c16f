import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** A parsed allocation trace: parallel arrays, one entry per event (see shared/traces/README.md). */
export interface Trace {
  /** 0 = allocate, 1 = free, 2 = realloc. */
  readonly kind: Uint8Array;
  /** Block id allocated/freed, or the OLD id of a realloc (0 = fresh allocation). */
  readonly id: Int32Array;
  /** NEW id of a realloc. */
  readonly newId: Int32Array;
  /** Size of an allocation or realloc (0 is treated as 1). */
  readonly size: Int32Array;
  /** Largest id + 1, to size id-indexed tables. */
  readonly ids: number;
  readonly events: number;
}

/**
 * The cc1 trace in `shared/traces` beside the project root, found by walking up from this file
 * (it runs from `test/helpers` under Vitest and from `dist-bench/test/helpers` in benchmarks).
 */
export const CC1_TRACE: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "shared", "traces", "gcc-cc1.trace.gz");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join("..", "shared", "traces", "gcc-cc1.trace.gz");
})();

/** Parses a gzip'd trace; the work happens once, outside any timed loop. */
export function loadTrace(file: URL | string): Trace {
  const lines = gunzipSync(readFileSync(file)).toString("utf8").split("\n");
  const n = lines.length;
  const kind = new Uint8Array(n);
  const id = new Int32Array(n);
  const newId = new Int32Array(n);
  const size = new Int32Array(n);
  let events = 0;
  let ids = 0;
  for (const line of lines) {
    const parts = line.split(" ");
    const op = parts[0];
    if (op === "a") {
      kind[events] = 0;
      id[events] = Number(parts[1]);
      size[events] = Math.max(1, Number(parts[2]));
    } else if (op === "f") {
      kind[events] = 1;
      id[events] = Number(parts[1]);
    } else if (op === "r") {
      kind[events] = 2;
      id[events] = Number(parts[1]);
      newId[events] = Number(parts[2]);
      size[events] = Math.max(1, Number(parts[3]));
    } else continue;
    ids = Math.max(ids, id[events] as number, newId[events] as number);
    events++;
  }
  return { kind, id, newId, size, ids: ids + 1, events };
}

/** What a replay needs from an allocator. */
export interface ReplayTarget {
  malloc(bytes: number): number;
  free(ptr: number): void;
  realloc(ptr: number, bytes: number): number;
  /** Write one byte so memory is really touched. */
  touch(ptr: number): void;
}

/** Replays the trace; returns the id -> pointer table (survivors are non-zero). */
export function replay(
  trace: Trace,
  target: ReplayTarget,
  table: Float64Array = new Float64Array(trace.ids),
): Float64Array {
  const { kind, id, newId, size, events } = trace;
  for (let i = 0; i < events; i++) {
    const k = kind[i];
    if (k === 0) {
      const ptr = target.malloc(size[i] as number);
      target.touch(ptr);
      table[id[i] as number] = ptr;
    } else if (k === 1) {
      const ptr = table[id[i] as number] as number;
      if (ptr !== 0) target.free(ptr);
      table[id[i] as number] = 0;
    } else {
      const old = id[i] as number;
      const ptr =
        old === 0 ? target.malloc(size[i] as number) : target.realloc(table[old] as number, size[i] as number);
      target.touch(ptr);
      if (old !== 0) table[old] = 0;
      table[newId[i] as number] = ptr;
    }
  }
  return table;
}

/** Peak of the sum of live requested bytes over the trace. */
export function peakLiveBytes(trace: Trace): number {
  const live = new Float64Array(trace.ids);
  let current = 0;
  let peak = 0;
  for (let i = 0; i < trace.events; i++) {
    const k = trace.kind[i];
    const id = trace.id[i] as number;
    if (k === 0) {
      live[id] = trace.size[i] as number;
      current += live[id] as number;
    } else if (k === 1) {
      current -= live[id] as number;
      live[id] = 0;
    } else {
      current -= live[id] as number;
      live[id] = 0;
      const n = trace.newId[i] as number;
      live[n] = trace.size[i] as number;
      current += live[n] as number;
    }
    if (current > peak) peak = current;
  }
  return peak;
}

/**
 * The trace plus one free event per block still live at its end, so a replay leaves the
 * allocator empty and can be timed again on the same allocator.
 */
export function withSurvivorsFreed(trace: Trace): Trace {
  const live = new Uint8Array(trace.ids);
  for (let i = 0; i < trace.events; i++) {
    const k = trace.kind[i];
    if (k === 0) live[trace.id[i] as number] = 1;
    else if (k === 1) live[trace.id[i] as number] = 0;
    else {
      live[trace.id[i] as number] = 0;
      live[trace.newId[i] as number] = 1;
    }
  }
  const survivors: number[] = [];
  for (let id = 1; id < trace.ids; id++) if (live[id] === 1) survivors.push(id);
  const events = trace.events + survivors.length;
  const grow = <T extends Uint8Array | Int32Array>(src: T, make: (n: number) => T): T => {
    const out = make(events);
    out.set(src.subarray(0, trace.events) as never);
    return out;
  };
  const kind = grow(trace.kind, (n) => new Uint8Array(n));
  const id = grow(trace.id, (n) => new Int32Array(n));
  const newId = grow(trace.newId, (n) => new Int32Array(n));
  const size = grow(trace.size, (n) => new Int32Array(n));
  survivors.forEach((survivor, i) => {
    kind[trace.events + i] = 1;
    id[trace.events + i] = survivor;
  });
  return { kind, id, newId, size, ids: trace.ids, events };
}
