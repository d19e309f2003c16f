// The cross-origin isolated page's part: one heap and one SharedOnceCell over SharedArrayBuffers,
// shared by two Web Workers. Returns what happened; the browser test checks it.
import { Heap } from "memkit/heap";
import { SharedOnceCell } from "memkit/once";

function startWorker(id, heapBuffer, cellBuffer) {
  const worker = new Worker(new URL("./shared-worker.mjs", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onerror = (event) => reject(new Error(`worker ${id} failed to load: ${event.message}`));
    worker.onmessage = ({ data }) => {
      worker.terminate();
      resolve(data);
    };
    worker.postMessage({ id, heapBuffer, cellBuffer });
  });
}

export default async function sharedAcrossWorkers() {
  const heap = Heap.create({ shared: true, initialBytes: 1 << 16, maxBytes: 1 << 20 });
  const cell = new SharedOnceCell({ capacity: 1 << 12 });
  const replies = await Promise.all([1, 2].map((id) => startWorker(id, heap.buffer, cell.buffer)));
  const failed = replies.find((reply) => reply.error !== undefined);
  if (failed !== undefined) return { error: failed.error };
  heap.check();
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    pointers: replies.map((r) => r.ptr),
    tags: replies.map((r) => heap.u8[r.ptr + 63]),
    liveBlocks: heap.stats().liveBlocks,
    initializers: replies.filter((r) => r.ranInit).length,
    initCount: cell.initCount,
    values: replies.map((r) => r.value.initializedBy),
    pageValue: cell.get()?.initializedBy,
  };
}
