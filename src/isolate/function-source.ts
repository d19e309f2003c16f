import { IsolateInvalidFunctionError } from "./errors.js";
import { freeVariables } from "./free-variables.js";

// A reused isolator sees the same functions again and again: check each source once.
const checked = new Map<string, string>();
const CHECKED_MAX = 256;

const isGlobal = (name: string) => name in globalThis;

/** The source text of `fn` as an expression, or a typed error for what cannot travel. */
function expression(fn: unknown): string {
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

/**
 * The source text of `fn` as an expression the child can evaluate, or a typed error when the
 * function plainly cannot travel: native or bound functions, classes, method shorthand that
 * cannot be rebuilt, anything that is not a function, or a function that uses variables of the
 * caller's scope (which do not exist in the child), named in the error with the two fixes.
 */
export function functionSource(fn: unknown): string {
  const source = expression(fn);
  const known = checked.get(source);
  if (known !== undefined) return known;
  const free = freeVariables(source, isGlobal);
  if (free.length > 0) {
    const list = free.map((name) => `\`${name}\``).join(", ");
    const first = free[0] as string;
    throw new IsolateInvalidFunctionError(
      `it uses ${list}, which ${free.length === 1 ? "is" : "are"} not defined in a fresh child (a variable of the caller's scope does not travel with the source). Pass ${free.length === 1 ? "it" : "them"} as arguments (\`isolate((${first}) => ..., { args: [${first}] })\`), or move the code into a module and run it with { module, export }. A global that only the child defines (set by a --require/--import preload) is reached as globalThis.${first}`,
      free,
    );
  }
  if (checked.size >= CHECKED_MAX) checked.clear();
  checked.set(source, source);
  return source;
}
