import type { Heap } from "memkit/heap";

/** A live block as the model knows it: where it is, how big, and the byte it was filled with. */
export interface ModelBlock {
  ptr: number;
  size: number;
  fill: number;
}

/**
 * The simple model allocators are checked against: a list of live blocks with their contents.
 * After every operation `verify` asserts what any correct allocator must guarantee.
 */
export class HeapModel {
  readonly blocks: ModelBlock[] = [];
  private nextFill = 1;

  constructor(readonly heap: Heap) {}

  fillByte(): number {
    const fill = this.nextFill;
    this.nextFill = (this.nextFill % 250) + 1;
    return fill;
  }

  add(ptr: number, size: number): ModelBlock {
    const block = { ptr, size, fill: this.fillByte() };
    this.heap.u8.fill(block.fill, ptr, ptr + size);
    this.blocks.push(block);
    return block;
  }

  /** Throws with a description when any guarantee is broken. */
  verify(align = 8): void {
    const heap = this.heap;
    const length = heap.u8.length;
    const sorted = [...this.blocks].sort((a, b) => a.ptr - b.ptr);
    let previousEnd = 0;
    for (const block of sorted) {
      if (block.ptr % align !== 0) throw new Error(`block ${block.ptr} is not ${align}-aligned`);
      if (block.ptr < heap.base || block.ptr + block.size > length)
        throw new Error(`block ${block.ptr} is outside the buffer`);
      if (block.ptr < previousEnd) throw new Error(`block ${block.ptr} overlaps the block ending at ${previousEnd}`);
      if (heap.usableSize(block.ptr) < block.size) throw new Error(`block ${block.ptr} is smaller than asked`);
      previousEnd = block.ptr + Math.max(block.size, 1);
      for (let i = block.ptr; i < block.ptr + block.size; i++) {
        if (heap.u8[i] !== block.fill) throw new Error(`block ${block.ptr} lost its contents at ${i}`);
      }
    }
    heap.check();
  }
}
