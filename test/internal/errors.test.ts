import {
  AbortedError,
  ErrorCodes,
  InvalidArgumentError,
  InvalidSizeError,
  isMemkitError,
  MemkitError,
  MemkitRangeError,
  MemkitTypeError,
  TimeoutError,
} from "memkit";
import { describe, expect, it } from "vitest";
// Not public: only the registry's own check is tested from the source.
import { isErrorCode } from "../../src/internal/codes.js";

describe("error codes", () => {
  it("are all ERR_MEMKIT_* and unique", () => {
    const codes = Object.values(ErrorCodes);
    for (const code of codes) expect(code).toMatch(/^ERR_MEMKIT_[A-Z_]+$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("isErrorCode recognises registered codes only", () => {
    expect(isErrorCode("ERR_MEMKIT_OUT_OF_MEMORY")).toBe(true);
    expect(isErrorCode("ERR_MEMKIT_NOPE")).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});

describe("MemkitError", () => {
  it("carries code, class name and cause", () => {
    const cause = new Error("root");
    const error = new MemkitError("ERR_MEMKIT_UNSUPPORTED", "Cannot do that", { cause });
    expect(error.code).toBe("ERR_MEMKIT_UNSUPPORTED");
    expect(error.name).toBe("MemkitError");
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toBe("MemkitError: Cannot do that");
  });

  it("subclasses are range/type errors and still instanceof MemkitError", () => {
    const size = new InvalidSizeError("Size must be positive, got -1", -1);
    expect(size).toBeInstanceOf(RangeError);
    expect(size).toBeInstanceOf(MemkitRangeError);
    expect(size).toBeInstanceOf(MemkitError);
    expect(size.name).toBe("InvalidSizeError");
    expect(size.code).toBe("ERR_MEMKIT_INVALID_SIZE");
    expect(size.value).toBe(-1);
    const arg = new InvalidArgumentError("Expected a function");
    expect(arg).toBeInstanceOf(TypeError);
    expect(arg).toBeInstanceOf(MemkitTypeError);
    expect(arg).toBeInstanceOf(MemkitError);
    expect(arg.code).toBe("ERR_MEMKIT_INVALID_ARGUMENT");
  });

  it("subclass instanceof stays a prototype check", () => {
    expect(new AbortedError("stop")).not.toBeInstanceOf(TimeoutError);
    expect(new TimeoutError("late", 5)).toBeInstanceOf(TimeoutError);
    expect(new TimeoutError("late", 5).timeoutMs).toBe(5);
  });

  it("plain errors and foreign codes are not memkit errors", () => {
    expect(new Error("x")).not.toBeInstanceOf(MemkitError);
    expect(Object.assign(new Error("x"), { code: "ENOENT" })).not.toBeInstanceOf(MemkitError);
  });
});

describe("isMemkitError", () => {
  it("checks the code, so plain objects from another realm match", () => {
    expect(isMemkitError(new AbortedError("stop"))).toBe(true);
    expect(isMemkitError({ code: "ERR_MEMKIT_ABORTED", message: "stop" })).toBe(true);
    expect(isMemkitError({ code: "ERR_OTHER" })).toBe(false);
    expect(isMemkitError(null)).toBe(false);
    expect(isMemkitError("ERR_MEMKIT_ABORTED")).toBe(false);
  });
});
