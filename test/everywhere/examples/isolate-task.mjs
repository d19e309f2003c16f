// The module the isolate example's `Isolator` runs by URL (copied beside bundles).
export function square(n) {
  return n * n;
}
