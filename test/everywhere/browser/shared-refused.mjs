// On a page that is not cross-origin isolated, SharedArrayBuffer does not exist: asking for shared
// memory must throw a typed memkit error (naming COOP/COEP), never a ReferenceError.
import { Heap } from "memkit/heap";

export default async function sharedRefused() {
  try {
    Heap.create({ shared: true });
    return { threw: false };
  } catch (error) {
    return { threw: true, name: error?.name, code: error?.code, message: String(error?.message) };
  }
}
