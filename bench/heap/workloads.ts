import { seeded } from "../../src/internal/random.js";
import type { Trace } from "../../test/helpers/trace.js";

class Builder {
  readonly kind: number[] = [];
  readonly id: number[] = [];
  readonly newId: number[] = [];
  readonly size: number[] = [];
  nextId = 1;
  readonly live: number[] = [];

  alloc(size: number): void {
    const id = this.nextId++;
    this.kind.push(0);
    this.id.push(id);
    this.newId.push(0);
    this.size.push(size);
    this.live.push(id);
  }

  free(index: number): void {
    const id = this.live[index] as number;
    this.live[index] = this.live[this.live.length - 1] as number;
    this.live.pop();
    this.kind.push(1);
    this.id.push(id);
    this.newId.push(0);
    this.size.push(0);
  }

  realloc(index: number, size: number): void {
    const id = this.live[index] as number;
    const next = this.nextId++;
    this.live[index] = next;
    this.kind.push(2);
    this.id.push(id);
    this.newId.push(next);
    this.size.push(size);
  }

  /** Frees every survivor, so one replay leaves the allocator empty and can be timed again. */
  build(): Trace {
    while (this.live.length > 0) this.free(this.live.length - 1);
    return {
      kind: Uint8Array.from(this.kind),
      id: Int32Array.from(this.id),
      newId: Int32Array.from(this.newId),
      size: Int32Array.from(this.size),
      ids: this.nextId,
      events: this.kind.length,
    };
  }
}

/** W1: fixed-size churn, 64-byte blocks, at most 1000 live. */
export function w1(events = 20_000): Trace {
  const random = seeded(1);
  const b = new Builder();
  while (b.kind.length < events) {
    if (b.live.length < 1000 && (b.live.length === 0 || random() < 0.5)) b.alloc(64);
    else b.free(Math.floor(random() * b.live.length));
  }
  return b.build();
}

/** W2: random sizes 16..4096 bytes, about 5000 live (seeded). */
export function w2(churn = 10_000): Trace {
  const random = seeded(2);
  const b = new Builder();
  const size = () => 16 + Math.floor(random() * 4081);
  for (let i = 0; i < 5000; i++) b.alloc(size());
  for (let i = 0; i < churn; i++) {
    b.free(Math.floor(random() * b.live.length));
    b.alloc(size());
  }
  return b.build();
}

/** W3: 200 buffers growing and shrinking through realloc (double or halve, 16 B .. 64 KiB). */
export function w3(steps = 10_000): Trace {
  const random = seeded(3);
  const b = new Builder();
  const sizes: number[] = [];
  for (let i = 0; i < 200; i++) {
    b.alloc(64);
    sizes.push(64);
  }
  for (let i = 0; i < steps; i++) {
    const index = Math.floor(random() * 200);
    const current = sizes[index] as number;
    const next = random() < 0.6 ? Math.min(65536, current * 2) : Math.max(16, current >> 1);
    sizes[index] = next;
    b.realloc(index, next);
  }
  return b.build();
}

/** A1: arena-friendly: 1000 allocations of 16..256 bytes, then everything freed at once. */
export function a1(): Trace {
  const random = seeded(4);
  const b = new Builder();
  for (let i = 0; i < 1000; i++) b.alloc(16 + Math.floor(random() * 241));
  return b.build();
}

/** Writes a trace as the C baseline reads it: int32 ids, int32 events, then 4 int32 per event. */
export function encodeTrace(trace: Trace): Buffer {
  const out = new Int32Array(2 + trace.events * 4);
  out[0] = trace.ids;
  out[1] = trace.events;
  for (let i = 0; i < trace.events; i++) {
    out[2 + i * 4] = trace.kind[i] as number;
    out[3 + i * 4] = trace.id[i] as number;
    out[4 + i * 4] = trace.newId[i] as number;
    out[5 + i * 4] = trace.size[i] as number;
  }
  return Buffer.from(out.buffer);
}
