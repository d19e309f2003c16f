// Preloaded into a fork template by the bench: holds `?mb=N` MiB (touched, so resident), to
// measure what a fork costs as the template grows. `?importMs=N` makes the import take N ms.
const params = new URL(import.meta.url).searchParams;
const mb = Number(params.get("mb") ?? 0);
const importMs = Number(params.get("importMs") ?? 0);
globalThis.held = mb > 0 ? Buffer.alloc(mb * 1024 * 1024, 1) : undefined;
if (importMs > 0) await new Promise((resolve) => setTimeout(resolve, importMs));

export function noop(x) {
  return x * 2;
}
