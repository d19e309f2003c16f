/**
 * Finds the first value inside `value` that the structured-clone algorithm refuses, and says
 * where it is (`args[1].handlers.get("x")`) and what it is. Used only after a clone already
 * failed, so the walk's cost never touches the fast path.
 */
export function findUnserializable(value: unknown, root: string): { path: string; detail: string } | undefined {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): { path: string; detail: string } | undefined => {
    if (typeof v === "function") return { path, detail: `a function (${v.name || "anonymous"})` };
    if (typeof v === "symbol") return { path, detail: `a symbol (${String(v)})` };
    if (typeof v !== "object" || v === null) return undefined;
    if (seen.has(v)) return undefined;
    seen.add(v);
    if (v instanceof Map) {
      for (const [key, item] of v) {
        const found = walk(key, `${path}.keys()`) ?? walk(item, `${path}.get(${JSON.stringify(String(key))})`);
        if (found) return found;
      }
      return undefined;
    }
    if (v instanceof Set) {
      for (const item of v) {
        const found = walk(item, `${path}.values()`);
        if (found) return found;
      }
      return undefined;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return undefined;
    if (v instanceof Error) return undefined;
    try {
      structuredClone(v);
      return undefined;
    } catch {
      // Own fields first: the clone failed somewhere below or on this object itself.
    }
    for (const key of Object.keys(v)) {
      const found = walk((v as Record<string, unknown>)[key], Array.isArray(v) ? `${path}[${key}]` : `${path}.${key}`);
      if (found) return found;
    }
    // A generator's constructor has an empty name: fall back to its tag ("Generator").
    const name =
      (v as { constructor?: { name?: string } }).constructor?.name || Object.prototype.toString.call(v).slice(8, -1);
    return { path, detail: `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name} object that cannot be cloned` };
  };
  return walk(value, root);
}
