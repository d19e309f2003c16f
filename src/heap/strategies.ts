import { ArenaHeap } from "./arena.js";
import type { Backing } from "./backing.js";
import type { HeapBase } from "./base.js";
import type { HeapInstanceOptions, StrategyName } from "./options.js";
import { PoolHeap } from "./pool.js";
import { TlsfHeap } from "./tlsf.js";

/** A strategy class: what opening a heap needs to know about it. */
export interface StrategyClass {
  readonly strategyId: number;
  readonly controlBytes: number;
  new (backing: Backing, base: number, options: HeapInstanceOptions): HeapBase;
}

/**
 * Every strategy, by name: an explicit table imported by the code that opens heaps, so a bundler
 * sees every strategy as used (no registration by side effect, no bare `import "./tlsf.js"`).
 */
export const STRATEGIES: Readonly<Record<StrategyName, StrategyClass>> = {
  tlsf: TlsfHeap,
  arena: ArenaHeap,
  pool: PoolHeap,
};

/** The strategy class whose id is written in a heap's header, or undefined. */
export function strategyById(id: number): StrategyClass | undefined {
  for (const ctor of Object.values(STRATEGIES)) if (ctor.strategyId === id) return ctor;
  return undefined;
}
