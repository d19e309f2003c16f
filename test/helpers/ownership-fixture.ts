import { readFileSync } from "node:fs";

/** test/fixtures/wasm/ownership.wasm (ownership.c): C that takes, returns and mishandles memory. */
export const ownershipWasm: Buffer = readFileSync(new URL("../fixtures/wasm/ownership.wasm", import.meta.url));

/** The C functions of ownership.c, as WebAssembly calls them (pointers and sizes are i32). */
export interface Ownership {
  allocate(n: number): number;
  allocate_zeroed(count: number, size: number): number;
  resize(p: number, n: number): number;
  release(p: number): void;
  take_string(s: number): number;
  make_greeting(name: number): number;
  echo(s: number): number;
  build_list(n: number): number;
  free_twice(): void;
  free_inside(): void;
  double_free_in_big_frame(n: number): number;
  trap_in_big_frame(n: number): number;
  fill_until_null(size: number): number;
}
