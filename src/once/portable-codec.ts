/**
 * A byte encoding of structured-clone-like values that needs no Node API, for `SharedOnceCell` in
 * browsers and Web Workers (where `node:v8` is missing). It carries: undefined, null, booleans,
 * numbers (NaN, -0 and infinities included), bigints, strings, `Date`, `RegExp`, arrays (sparse
 * ones stay sparse), plain objects (own enumerable string keys; class instances arrive as
 * plain objects, like structured clone), `Map`, `Set`, `ArrayBuffer`, every typed array,
 * `DataView`, errors (name, message, stack, code, cause), and shared or cyclic references.
 * Functions and symbols are refused, like structured clone does.
 *
 * Format: one tag byte per value, little-endian fixed-size numbers, lengths as u32, strings as
 * UTF-8; an object seen before is written as a back-reference to its index in visiting order.
 */
import { TYPED_ARRAYS, type TypedArrayConstructor } from "../internal/typed-arrays.js";

enum Tag {
  Undefined = 0,
  Null,
  True,
  False,
  Number,
  BigInt,
  String,
  Date,
  RegExp,
  Array,
  Object,
  Map,
  Set,
  ArrayBuffer,
  View,
  Error,
  Ref,
  Hole,
}

const VIEWS: readonly (TypedArrayConstructor | DataViewConstructor)[] = [...TYPED_ARRAYS, DataView];

// What reading a hole yields, so the array reader can leave the index unset.
const HOLE: unique symbol = Symbol("hole");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  length = 0;
  readonly seen = new Map<object, number>();

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }
  u8(n: number): void {
    this.reserve(1);
    this.bytes[this.length++] = n;
  }
  u32(n: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, n, true);
    this.length += 4;
  }
  f64(n: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, n, true);
    this.length += 8;
  }
  raw(data: Uint8Array): void {
    this.u32(data.length);
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  str(s: string): void {
    this.raw(encoder.encode(s));
  }
}

function writeObject(w: Writer, value: object): void {
  if (Array.isArray(value)) {
    w.u8(Tag.Array);
    w.u32(value.length);
    for (let i = 0; i < value.length; i++) {
      if (i in value) write(w, value[i]);
      else w.u8(Tag.Hole); // a sparse array stays sparse, as structured clone keeps it
    }
  } else if (value instanceof Date) {
    w.u8(Tag.Date);
    w.f64(value.getTime());
  } else if (value instanceof RegExp) {
    w.u8(Tag.RegExp);
    w.str(value.source);
    w.str(value.flags);
  } else if (value instanceof Map) {
    w.u8(Tag.Map);
    w.u32(value.size);
    for (const [k, v] of value) {
      write(w, k);
      write(w, v);
    }
  } else if (value instanceof Set) {
    w.u8(Tag.Set);
    w.u32(value.size);
    for (const v of value) write(w, v);
  } else if (value instanceof ArrayBuffer) {
    w.u8(Tag.ArrayBuffer);
    w.raw(new Uint8Array(value));
  } else if (ArrayBuffer.isView(value)) {
    const kind = VIEWS.findIndex((ctor) => value instanceof ctor);
    if (kind < 0) throw new TypeError(`${value.constructor.name} cannot be cloned`);
    w.u8(Tag.View);
    w.u8(kind);
    w.raw(new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice());
  } else if (value instanceof Error) {
    const { code, cause } = value as { code?: unknown; cause?: unknown };
    w.u8(Tag.Error);
    w.str(value.name);
    w.str(value.message);
    w.str(value.stack ?? "");
    write(w, code);
    write(w, cause);
  } else {
    const keys = Object.keys(value);
    w.u8(Tag.Object);
    w.u32(keys.length);
    for (const key of keys) {
      w.str(key);
      write(w, (value as Record<string, unknown>)[key]);
    }
  }
}

function write(w: Writer, value: unknown): void {
  const type = typeof value;
  if (value === undefined) w.u8(Tag.Undefined);
  else if (value === null) w.u8(Tag.Null);
  else if (type === "boolean") w.u8(value ? Tag.True : Tag.False);
  else if (type === "number") {
    w.u8(Tag.Number);
    w.f64(value as number);
  } else if (type === "bigint") {
    w.u8(Tag.BigInt);
    w.str((value as bigint).toString(16));
  } else if (type === "string") {
    w.u8(Tag.String);
    w.str(value as string);
  } else if (type === "object") {
    const ref = w.seen.get(value as object);
    if (ref !== undefined) {
      w.u8(Tag.Ref);
      w.u32(ref);
    } else {
      w.seen.set(value as object, w.seen.size);
      writeObject(w, value as object);
    }
  } else throw new TypeError(`a ${type} cannot be cloned`);
}

/**
 * @internal Encodes `value` (see the module comment for the types carried).
 * @throws {TypeError} For a function, symbol or unsupported host object.
 */
export function encodePortable(value: unknown): Uint8Array {
  const w = new Writer();
  write(w, value);
  return w.bytes.subarray(0, w.length);
}

class Reader {
  offset = 0;
  readonly view: DataView;
  readonly refs: unknown[] = [];
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(): number {
    return this.view.getUint8(this.offset++);
  }
  u32(): number {
    const n = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return n;
  }
  f64(): number {
    const n = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return n;
  }
  raw(): Uint8Array {
    const n = this.u32();
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  str(): string {
    return decoder.decode(this.raw());
  }
}

function readObject(r: Reader, tag: Tag): unknown {
  const index = r.refs.length;
  r.refs.push(undefined);
  const keep = <V>(v: V): V => {
    r.refs[index] = v;
    return v;
  };
  switch (tag) {
    case Tag.Date:
      return keep(new Date(r.f64()));
    case Tag.RegExp:
      return keep(new RegExp(r.str(), r.str()));
    case Tag.Array: {
      const out = keep(new Array<unknown>(r.u32()));
      for (let i = 0; i < out.length; i++) {
        const item = read(r);
        if (item !== HOLE) out[i] = item;
      }
      return out;
    }
    case Tag.Map: {
      const out = keep(new Map<unknown, unknown>());
      for (let n = r.u32(); n > 0; n--) out.set(read(r), read(r));
      return out;
    }
    case Tag.Set: {
      const out = keep(new Set<unknown>());
      for (let n = r.u32(); n > 0; n--) out.add(read(r));
      return out;
    }
    case Tag.ArrayBuffer:
      return keep(r.raw().buffer as ArrayBuffer);
    case Tag.View: {
      const ctor = VIEWS[r.u8()] ?? Uint8Array;
      const data = r.raw();
      const size = ctor === DataView ? 1 : (ctor as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return keep(
        new (ctor as new (b: ArrayBuffer, o: number, n: number) => unknown)(
          data.buffer as ArrayBuffer,
          0,
          data.length / size,
        ),
      );
    }
    case Tag.Error: {
      const error = keep(new Error(""));
      error.name = r.str();
      error.message = r.str();
      error.stack = r.str();
      const code = read(r);
      const cause = read(r);
      if (code !== undefined) Object.assign(error, { code });
      if (cause !== undefined) Object.assign(error, { cause });
      return error;
    }
    default: {
      const out = keep({} as Record<string, unknown>);
      for (let n = r.u32(); n > 0; n--) {
        const key = r.str();
        // defineProperty, not assignment: a key named "__proto__" must stay data.
        Object.defineProperty(out, key, { value: read(r), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

function read(r: Reader): unknown {
  const tag = r.u8() as Tag;
  switch (tag) {
    case Tag.Undefined:
      return undefined;
    case Tag.Null:
      return null;
    case Tag.True:
      return true;
    case Tag.False:
      return false;
    case Tag.Number:
      return r.f64();
    case Tag.BigInt: {
      const hex = r.str();
      return hex.startsWith("-") ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
    }
    case Tag.String:
      return r.str();
    case Tag.Ref:
      return r.refs[r.u32()];
    case Tag.Hole:
      return HOLE;
    default:
      return readObject(r, tag);
  }
}

/** @internal Decodes what `encodePortable` wrote. */
export function decodePortable(bytes: Uint8Array): unknown {
  return read(new Reader(bytes));
}
