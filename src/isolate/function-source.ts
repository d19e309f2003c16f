import { IsolateInvalidFunctionError } from "./errors.js";

/**
 * The source text of `fn` as an expression the child can evaluate, or a typed error when the
 * function plainly cannot travel: native or bound functions, classes, method shorthand that
 * cannot be rebuilt, or anything that is not a function.
 */
export function functionSource(fn: unknown): string {
  if (typeof fn !== "function") throw new IsolateInvalidFunctionError(`expected a function, got ${typeof fn}`);
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new IsolateInvalidFunctionError(
      fn.name.startsWith("bound ")
        ? "it is a bound function (its bound `this` and arguments cannot travel)"
        : `it is native code (${fn.name || "anonymous"})`,
    );
  }
  if (/^class\b/.test(source)) throw new IsolateInvalidFunctionError("it is a class; pass a function");
  // Arrow functions, `function` and `async function` expressions evaluate as they are.
  if (
    /^(async\s+)?(function\b|\(|[A-Za-z_$][\w$]*\s*=>)/.test(source) ||
    /^async\s*[A-Za-z_$][\w$]*\s*=>/.test(source)
  ) {
    return source;
  }
  // Method shorthand (`run() {}`, `async run() {}`, `*gen() {}`): evaluate it inside an object.
  const method = /^(?:async\s+)?(?:\*\s*)?([A-Za-z_$][\w$]*)\s*\(/.exec(source);
  if (method) return `({ ${source} })[${JSON.stringify(method[1])}]`;
  throw new IsolateInvalidFunctionError("its source text is not a function expression");
}
