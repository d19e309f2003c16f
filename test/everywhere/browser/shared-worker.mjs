// A module Web Worker on the cross-origin isolated page: attaches to the page's shared heap and
// SharedOnceCell, allocates a block it tags with its id, and takes part in one initialization.
import { Heap } from "memkit/heap";
import { SharedOnceCell } from "memkit/once";

self.onmessage = ({ data: { id, heapBuffer, cellBuffer } }) => {
  try {
    const heap = Heap.attach(heapBuffer);
    const ptr = heap.malloc(64);
    heap.u8.fill(id, ptr, ptr + 64);
    heap.flush(); // hand this thread's cached blocks back before the page inspects the heap
    let ranInit = false;
    const value = SharedOnceCell.attach(cellBuffer).getOrInitSync(() => {
      ranInit = true;
      return { initializedBy: id, table: [1, 2, 3] };
    });
    self.postMessage({ id, ptr, ranInit, value });
  } catch (error) {
    self.postMessage({ id, error: { name: error?.name, code: error?.code, message: String(error?.message ?? error) } });
  }
};
