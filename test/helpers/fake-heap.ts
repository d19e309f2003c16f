/**
 * A stand-in for memkit/heap to test the corruption fuzzer's oracle: a bump allocator that keeps its
 * bookkeeping in JavaScript, outside the memory the fuzzer scribbles on, so stray writes cannot hurt it.
 * Correct (`bug: "none"`), it must pass every case; with a planted bug the fuzzer must name that bug.
 * It reaches the fuzzer's worker as a `data:` module built from this function's source, so it uses no
 * imports.
 */

/** The planted bug. */
export type FakeBug = "none" | "twice" | "past-end" | "uncoded" | "hang";

/** Builds the fake module: `{ Heap }` with the static and instance methods the fuzzer calls. */
export function fakeHeapModule(bug: FakeBug): unknown {
  const coded = (code: string, message: string) => Object.assign(new Error(message), { code: `ERR_MEMKIT_${code}` });
  const isSize = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0 && n < 2 ** 30;
  class Heap {
    readonly buffer: ArrayBuffer;
    readonly memory: unknown;
    readonly base = 0;
    readonly u8: Uint8Array;
    private blocks = new Map<number, number>();
    private top = 64;
    private calls = 0;
    constructor(memory: unknown, bytes: number) {
      this.memory = memory;
      const wasm = memory as { buffer?: ArrayBuffer };
      this.buffer = memory instanceof ArrayBuffer ? memory : (wasm.buffer ?? new ArrayBuffer(bytes));
      this.u8 = new Uint8Array(this.buffer);
    }
    static fixed(bytes: number): Heap {
      return new Heap(new ArrayBuffer(bytes), bytes);
    }
    static create(options: { initialBytes?: number }): Heap {
      return new Heap(new ArrayBuffer(options.initialBytes ?? 65536), 0);
    }
    static over(memory: unknown): Heap {
      return new Heap(memory, 0);
    }
    static attach(): Heap {
      throw coded("NOT_A_HEAP", "this fake never attaches");
    }
    malloc(bytes: unknown, align: unknown = 8): number {
      if (!isSize(bytes)) throw coded("INVALID_SIZE", "bad size");
      if (typeof align !== "number" || align < 1 || align > 65536 || (align & (align - 1)) !== 0)
        throw coded("INVALID_ALIGNMENT", "bad alignment");
      this.calls++;
      if (bug === "twice" && this.calls % 7 === 0 && this.blocks.size > 0) return [...this.blocks.keys()][0] as number;
      if (bug === "past-end" && this.calls % 7 === 0) return this.buffer.byteLength - 8;
      const ptr = Math.ceil((this.top + 8) / Math.max(8, align)) * Math.max(8, align);
      if (ptr + bytes > this.buffer.byteLength) throw coded("OUT_OF_MEMORY", "full");
      this.top = ptr + Math.max(bytes, 1);
      this.blocks.set(ptr, bytes);
      return ptr;
    }
    calloc(count: number, size: number): number {
      if (!isSize(count) || !isSize(size) || count * size >= 2 ** 30) throw coded("INVALID_SIZE", "bad size");
      return this.malloc(count * size);
    }
    free(ptr: unknown): void {
      if (typeof ptr !== "number" || !this.blocks.delete(ptr)) throw coded("INVALID_POINTER", "not a block");
    }
    realloc(ptr: number, bytes: number): number {
      if (!this.blocks.has(ptr)) throw coded("INVALID_POINTER", "not a block");
      const moved = this.malloc(bytes);
      this.blocks.delete(ptr);
      return moved;
    }
    usableSize(ptr: number): number {
      const size = this.blocks.get(ptr);
      if (size === undefined) throw coded("INVALID_POINTER", "not a block");
      return size;
    }
    stats(): object {
      if (bug === "uncoded") throw new TypeError("planted");
      while (bug === "hang") this.calls++;
      return { live: this.blocks.size };
    }
    check(): void {}
    live(): unknown[] {
      return [...this.blocks];
    }
    leakReport(): object {
      return { sites: [], collected: [] };
    }
    flush(): void {}
    snapshot(): object {
      return { blocks: new Map(this.blocks), top: this.top };
    }
    restore(snapshot: { blocks: Map<number, number>; top: number }): void {
      this.blocks = new Map(snapshot.blocks);
      this.top = snapshot.top;
    }
    alloc(_type: unknown, length: number): { ptr: number; free(): void } {
      const ptr = this.malloc(length * 8);
      return { ptr, free: () => this.free(ptr) };
    }
  }
  return { Heap };
}

/** The fake as a module URL a worker can import. */
export function fakeHeapUrl(bug: FakeBug): string {
  const source = `const make = ${fakeHeapModule.toString()};\nexport const { Heap } = make(${JSON.stringify(bug)});\n`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}
