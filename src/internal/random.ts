/**
 * A small deterministic generator (xorshift32) returning numbers in [0, 1): the same seed gives
 * the same sequence, so fault injection and benchmark workloads reproduce exactly.
 */
export function seeded(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * A seeded generator for fault injection, returning numbers in [0, 1). Unlike `seeded`, every
 * seed in 0..2^32-1 gives its own sequence (the state starts at the seed itself and advances by
 * an odd constant, so distinct seeds never share a state), and the output passes through a
 * mixing function (mulberry32), so nearby seeds do not give nearby sequences. Callers validate
 * the seed: pass a whole number in 0..2^32-1.
 */
export function seededU32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed in 0..2^32-1, from the platform's cryptographic source when there is one. */
export function freshSeed(): number {
  const cryptoApi = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (cryptoApi?.getRandomValues !== undefined) return cryptoApi.getRandomValues(new Uint32Array(1))[0] as number;
  return Math.floor(Math.random() * 4294967296);
}

/** A seed for one named stream derived from a run's seed (FNV-1a over the name, mixed in). */
export function deriveSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
