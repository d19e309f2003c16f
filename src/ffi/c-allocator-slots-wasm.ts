// Generated: do not edit. the C allocator slots (src/ffi/wasm/c-allocator-slots.wat), built by scripts/build-engine.sh.
/** @internal */
export const SLOTS_WASM: string =
  "AGFzbQEAAAABEANgAX8Bf2ABfwBgAn9/AX8CMAQCanMGbWFsbG9jAAACanMEZnJlZQABAmpzBmNhbGxvYwACAmpzB3JlYWxsb2MA" +
  "AgMFBAABAgIEBQFwAQQEB1sJBXNsb3RzAQAGbWFsbG9jAAQEZnJlZQAFBmNhbGxvYwAGB3JlYWxsb2MABwlqc19tYWxsb2MAAAdq" +
  "c19mcmVlAAEJanNfY2FsbG9jAAIKanNfcmVhbGxvYwADCQoBAEEACwQAAQIDCi0ECQAgAEEAEQAACwkAIABBAREBAAsLACAAIAFB" +
  "AhECAAsLACAAIAFBAxECAAs=";
