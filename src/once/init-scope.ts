/**
 * Which once-cells have an initializer running "here", to turn an initializer that waits on its
 * own cell (a deadlock) into `ReentrantInitError`.
 *
 * On Node, Deno and Bun the scope follows async continuations through `AsyncLocalStorage`, loaded
 * with `process.getBuiltinModule` so that no `node:` import sits on this module's path and the
 * module still loads in a browser. Without it (a plain page or Web Worker) the scope covers only
 * the synchronous part of an initializer: re-entry after its first `await` cannot be seen there.
 */

type Scope = ReadonlySet<object>;

interface ScopeStorage {
  getStore(): Scope | undefined;
  run<R>(store: Scope, fn: () => R): R;
}

function loadStorage(): ScopeStorage | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const hooks = proc?.getBuiltinModule?.("node:async_hooks") as
    | { AsyncLocalStorage: new () => ScopeStorage }
    | undefined;
  return hooks === undefined ? undefined : new hooks.AsyncLocalStorage();
}

const storage = loadStorage();
let syncScope: Scope | undefined;

/** @internal True when scopes follow `await` (AsyncLocalStorage is available). */
export const tracksAsyncScope: boolean = storage !== undefined;

/** @internal The cells whose initializer is running in the current (async) context. */
export function currentScope(): Scope | undefined {
  return storage === undefined ? syncScope : storage.getStore();
}

/** @internal Runs `fn` with `cell` added to the current scope. */
export function runInScope<R>(cell: object, fn: () => R): R {
  const scope = new Set(currentScope() ?? []).add(cell);
  if (storage !== undefined) return storage.run(scope, fn);
  const outer = syncScope;
  syncScope = scope;
  try {
    return fn();
  } finally {
    syncScope = outer;
  }
}
