/**
 * `npm run example -- counter`: the fallible counter (examples/counter.ts) under a memory budget,
 * so some pushes fail: each failure is a value, and the counter keeps exactly the pairs that were
 * pushed successfully.
 */
import { Budget, HeapAllocator } from "memkit/fallible";
import { Heap } from "memkit/heap";
import { Counter } from "./counter.js";

/** Pushes 2,000 pairs into a counter whose budget allows 4 KiB, and checks what it kept. */
export async function main(): Promise<void> {
  const heap = Heap.create({ initialBytes: 64 * 1024 });
  const counter = new Counter(new Budget(new HeapAllocator(heap), { hardBytes: 4 * 1024 }));
  const kept = new Map<number, number[]>();
  let failures = 0;
  for (let i = 0; i < 2000; i++) {
    const key = (i * 7919) % 97;
    const result = counter.pushKeyValue(key, i);
    if (result.ok) kept.set(key, [...(kept.get(key) ?? []), i]);
    else failures++;
  }
  const expected = [...kept].sort((a, b) => a[0] - b[0]);
  const same = JSON.stringify(counter.toJSON()) === JSON.stringify(expected);
  console.log(`${failures > 0 ? "ok " : "BAD"} ${failures} of 2000 pushes failed as values (4 KiB budget), none threw`);
  console.log(`${same ? "ok " : "BAD"} the counter holds exactly the ${2000 - failures} pairs that were pushed`);
  counter.free();
  const live = heap.stats().liveBlocks;
  console.log(`${live === 0 ? "ok " : "BAD"} after free(): ${live} live blocks`);
  heap.check();
  if (failures === 0 || !same || live !== 0) process.exitCode = 1;
}
