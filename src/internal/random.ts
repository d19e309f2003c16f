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
