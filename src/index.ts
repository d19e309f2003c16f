/**
 * memkit: deliberate memory discipline for Node.js. The root entry holds what every module
 * shares (the error base classes, codes and the serialization helpers); each capability lives
 * in its own subpath: `memkit/heap`, `memkit/fallible`, `memkit/isolate`, `memkit/once`, `memkit/ffi`.
 *
 * @module
 */
export { type ErrorCode, ErrorCodes } from "./internal/codes.js";
export {
  AbortedError,
  InvalidArgumentError,
  InvalidSizeError,
  isMemkitError,
  MemkitError,
  type MemkitErrorOptions,
  MemkitRangeError,
  MemkitTypeError,
  SharedMemoryUnavailableError,
  TimeoutError,
} from "./internal/errors.js";
export {
  reviveError,
  type SerializedError,
  type SerializedThrown,
  type SerializedValue,
  serializeError,
} from "./internal/serialize-error.js";
