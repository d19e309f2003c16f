/** The trivial task every pool and raw baseline runs: the same work as memkit's isolated function. */
export default function double(x: number): number {
  return x * 2;
}
