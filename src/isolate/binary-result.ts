/**
 * The raw bytes and view name of a large binary result (an `ArrayBuffer`, a typed array or a
 * `Buffer` of at least `threshold` bytes), which children hand back through a scratch file instead
 * of the pipe; undefined for anything else. `DataView`s travel by structured clone.
 */
export function binaryResult(value: unknown, threshold: number): { bytes: Uint8Array; view: string } | undefined {
  if (value instanceof ArrayBuffer && value.byteLength >= threshold)
    return { bytes: new Uint8Array(value), view: "ArrayBuffer" };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && value.byteLength >= threshold) {
    const view = Buffer.isBuffer(value) ? "Buffer" : value.constructor.name;
    return { bytes: new Uint8Array(value.buffer, value.byteOffset, value.byteLength), view };
  }
  return undefined;
}
