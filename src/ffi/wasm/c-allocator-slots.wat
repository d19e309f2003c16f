;; The functions a C module imports as malloc/free/calloc/realloc, each a call through a slot of
;; one table: memkit/ffi instantiates this before the C module (whose memory, and so whose heap,
;; does not exist yet), then points the slots at the heap's WebAssembly engine (C calls it without
;; entering JavaScript) or back at the JavaScript functions (an allocator layer, a poisoned
;; instance). Rebuilt by scripts/build-engine.sh; the bytes are in src/ffi/c-allocator-slots-wasm.ts.
(module
  (type $size_to_ptr (func (param i32) (result i32)))
  (type $ptr (func (param i32)))
  (type $two_to_ptr (func (param i32 i32) (result i32)))
  (import "js" "malloc" (func $js_malloc (type $size_to_ptr)))
  (import "js" "free" (func $js_free (type $ptr)))
  (import "js" "calloc" (func $js_calloc (type $two_to_ptr)))
  (import "js" "realloc" (func $js_realloc (type $two_to_ptr)))
  (table $slots 4 4 funcref)
  (export "slots" (table $slots))
  (elem (table $slots) (i32.const 0) func $js_malloc $js_free $js_calloc $js_realloc)
  (func (export "malloc") (type $size_to_ptr)
    (call_indirect $slots (type $size_to_ptr) (local.get 0) (i32.const 0)))
  (func (export "free") (type $ptr)
    (call_indirect $slots (type $ptr) (local.get 0) (i32.const 1)))
  (func (export "calloc") (type $two_to_ptr)
    (call_indirect $slots (type $two_to_ptr) (local.get 0) (local.get 1) (i32.const 2)))
  (func (export "realloc") (type $two_to_ptr)
    (call_indirect $slots (type $two_to_ptr) (local.get 0) (local.get 1) (i32.const 3)))
  ;; The JavaScript functions as WebAssembly functions, to put back into the slots.
  (export "js_malloc" (func $js_malloc))
  (export "js_free" (func $js_free))
  (export "js_calloc" (func $js_calloc))
  (export "js_realloc" (func $js_realloc)))
