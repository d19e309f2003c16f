import { errorClassByName } from "./errors.js";

/**
 * An error flattened to plain data that survives `structuredClone`, `postMessage` and
 * `v8.serialize`. Those algorithms keep only `message` (and, on Node 20, `name` for built-in
 * classes) and drop `code`, custom classes and extra fields, so memkit carries them itself.
 */
export interface SerializedError {
  readonly $memkitError: 1;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The `cause`, serialized the same way when it is an error, or as a clone-safe value. */
  readonly cause?: SerializedValue;
  /** Own enumerable properties (`code` included) other than name/message/stack/cause. */
  readonly props: Record<string, SerializedValue>;
}

/** A thrown value that was not an `Error` (`throw "text"`, `throw 42`). */
export interface SerializedThrown {
  readonly $memkitThrown: 1;
  readonly value: unknown;
}

/** What a serialized property, cause or thrown value may be. */
export type SerializedValue = SerializedError | SerializedThrown | unknown;

const MAX_DEPTH = 16;

function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function serializeValue(value: unknown, depth: number, seen: Set<object>): SerializedValue {
  if (value instanceof Error) return serializeAt(value, depth + 1, seen);
  if (isCloneable(value)) return value;
  return String(value);
}

function serializeAt(error: Error, depth: number, seen: Set<object>): SerializedError {
  seen.add(error);
  const props: Record<string, SerializedValue> = {};
  for (const key of Object.keys(error)) {
    if (key === "cause" || key === "stack" || key === "message") continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === "object" && value !== null && seen.has(value)) continue;
    props[key] = depth >= MAX_DEPTH ? String(value) : serializeValue(value, depth, seen);
  }
  // `code` is enumerable on memkit errors but not on every foreign error: keep it regardless.
  const code = (error as { code?: unknown }).code;
  if (code !== undefined && !("code" in props)) props.code = serializeValue(code, depth, seen);
  const base = { $memkitError: 1 as const, name: error.name, message: error.message, stack: error.stack, props };
  if (!("cause" in error)) return base;
  const cause = error.cause;
  if (typeof cause === "object" && cause !== null && seen.has(cause)) return base;
  if (depth >= MAX_DEPTH) return { ...base, cause: String(cause) };
  return { ...base, cause: serializeValue(cause, depth, seen) };
}

/**
 * Flattens an error (or any thrown value) into plain data that keeps its class name, `code`,
 * message, stack, `cause` chain and own properties across `postMessage`, IPC or `v8.serialize`.
 * Revive it on the other side with `reviveError`.
 */
export function serializeError(thrown: unknown): SerializedError | SerializedThrown {
  if (thrown instanceof Error) return serializeAt(thrown, 0, new Set());
  return { $memkitThrown: 1, value: isCloneable(thrown) ? thrown : String(thrown) };
}

function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === "object" && value !== null && (value as SerializedError).$memkitError === 1;
}

function isSerializedThrown(value: unknown): value is SerializedThrown {
  return typeof value === "object" && value !== null && (value as SerializedThrown).$memkitThrown === 1;
}

function prototypeFor(name: string): object {
  const known = errorClassByName(name);
  if (known) return known.prototype;
  const builtin = (globalThis as Record<string, unknown>)[name];
  if (typeof builtin === "function" && builtin.prototype instanceof Error) return builtin.prototype as object;
  return Error.prototype;
}

function reviveValue(value: SerializedValue): unknown {
  if (isSerializedError(value)) return reviveSerialized(value);
  if (isSerializedThrown(value)) return value.value;
  return value;
}

function reviveSerialized(data: SerializedError): Error {
  // Rebuilt without calling the constructor: constructors take different arguments and may
  // have side effects; the prototype gives back `instanceof` for every class known here.
  const error = Object.create(prototypeFor(data.name)) as Error;
  const define = (key: string, value: unknown, enumerable: boolean) =>
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
  define("message", data.message, false);
  define("stack", data.stack, false);
  if (Object.getPrototypeOf(error) === Error.prototype || error.name !== data.name) define("name", data.name, false);
  for (const [key, value] of Object.entries(data.props)) define(key, reviveValue(value), true);
  if ("cause" in data) define("cause", reviveValue(data.cause), false);
  return error;
}

/**
 * Rebuilds what `serializeError` produced: an error of the same class when the class is a
 * built-in or a memkit error (`instanceof` works), otherwise an `Error` whose `name` is the
 * original class name. `code`, `cause` and own properties come back as they were.
 */
export function reviveError(data: unknown): unknown {
  if (isSerializedError(data)) return reviveSerialized(data);
  if (isSerializedThrown(data)) return data.value;
  return data;
}

/** True when `data` is the output of `serializeError`. */
export function isSerializedThrowable(data: unknown): data is SerializedError | SerializedThrown {
  return isSerializedError(data) || isSerializedThrown(data);
}
