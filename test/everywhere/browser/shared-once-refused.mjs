// Same as shared-refused.mjs for SharedOnceCell, which needs a SharedArrayBuffer too.
import { SharedOnceCell } from "memkit/once";

export default async function sharedOnceRefused() {
  try {
    new SharedOnceCell({ capacity: 1024 });
    return { threw: false };
  } catch (error) {
    return { threw: true, name: error?.name, code: error?.code, message: String(error?.message) };
  }
}
