/*
 * memkit's TLSF hot paths (malloc, free, realloc) compiled to WebAssembly: the engine a heap over a
 * WebAssembly.Memory uses. It is tlsf-core.ts written in C, word for word: the same block layout,
 * tags, encoded links, size classes, counters and clean mark, checked in the same order, so the
 * bytes it leaves are exactly the bytes the TypeScript strategy would have left (the differential
 * test in test/heap/engine.test.ts runs both over the same operations and compares the memories).
 * Read tlsf-core.ts for the layout diagram, the threat model and why each check exists.
 *
 * What it does not do, it hands back: a request that needs the heap to grow, an aligned or huge
 * request returns 0 and the TypeScript path takes over. Every failed check calls the imported
 * `cold(kind, a, b)`, which runs tlsf-core.ts's own cold path for that kind (so the error, its
 * offset and message are the TypeScript strategy's); it throws for JavaScript callers, and returns
 * for C callers (memkit/ffi records the error and C carries on), so after it the engine returns at
 * once without another write.
 *
 * Rebuilt by scripts/build-engine.sh (clang-16); the bytes are committed in tlsf-engine-wasm.ts.
 * Every load from an address read out of the heap's memory comes after that address is range
 * checked: where TypeScript reads `undefined` out of bounds, WebAssembly would trap.
 */

typedef int i32;
typedef unsigned int u32;
typedef unsigned long long u64;

#define ALIGN 8
#define BLOCK_HEADER 8
#define F_FREE 1
#define F_LEFT_FREE 2
#define FLAGS 7
#define SL_BITS 4
#define SL_COUNT (1 << SL_BITS)
#define SB_BITS (SL_BITS + 3)
#define SB_SIZE (1 << SB_BITS)
#define FL_COUNT (31 - SB_BITS + 1)
#define MIN_SIZE 16
#define MIN_SPLIT (BLOCK_HEADER + MIN_SIZE)
#define MAX_OFFSET 0x7ffffff8
#define MAX_ALLOCATION (MAX_OFFSET - (1 << 20))
#define TAG_MUL 0x9e3779b1u
#define LINK_MUL 0x27d4eb2fu
#define TAG_FREED 0x5a5a5a5a
#define TAG_CACHED 0x3c3c3c3c

/* Header word indices (layout.ts). */
#define H_END 5
#define H_END_CHECK 22
#define H_USED 8
#define H_PEAK 9
#define H_LIVE 10
#define H_HIGH_WATER 15
#define H_CLEAN 20
#define H_STRATEGY_WORDS 24
#define W_FL H_STRATEGY_WORDS
#define W_SL (W_FL + 1)
#define W_HEADS (W_SL + FL_COUNT)

/* The cold paths of tlsf-core.ts, by number (tlsf-engine.ts maps them back). */
#define COLD_BAD_HEAD 1        /* (hi word index, b) */
#define COLD_BAD_LINK 2        /* (to, at) */
#define COLD_STALE_FREE 3      /* (b) */
#define COLD_BAD_HEADER 4      /* (b) */
#define COLD_NOT_LIVE 5        /* (ptr) */
#define COLD_IMPOSSIBLE_LIVE 6 /* (b) */
#define COLD_BAD_RIGHT 7       /* (r, word) */
#define COLD_BAD_BACK 8        /* (b, left) */
#define COLD_IMPOSSIBLE_FREE 9 /* (b, size) */
#define COLD_BAD_PREV 10       /* (prev, b) */
#define COLD_BAD_NEXT 11       /* (next, b) */
#define COLD_NOT_HEAD 12       /* (b) */

__attribute__((import_module("memkit"), import_name("cold"))) void cold_path(i32 kind, i32 a, i32 b, i32 from_c);

/*
 * Two builds of this file. The engine (default): its own module over the heap's memory, its
 * state in WebAssembly globals (address space 1: C statics would live in linear memory, which
 * is the heap's), JavaScript's entry points exported as malloc/free/realloc and C's as c_*.
 * Linked (-DMEMKIT_LINKED): compiled into a C library's own module, so its calls to malloc,
 * free, calloc and realloc are plain calls inside the module (no instance boundary, the fastest
 * way C can reach memkit's heap); its state is ordinary statics (in the module's data, below
 * __heap_base), it exports memkit_bind for memkit/ffi, and imports its JavaScript fallbacks
 * from "memkit".
 */
#ifdef MEMKIT_LINKED
#define GLOBAL static
#define VOLATILE_GLOBAL static volatile
#define ENGINE_EXPORT(name)
#define C_ENTRY(engine_name, linked_name) linked_name
#define FALLBACK_IMPORT(name) __attribute__((import_module("memkit"), import_name(name)))
#define BIND_NAME "memkit_bind"
#define C_MALLOC malloc
#else
#define GLOBAL static __attribute__((address_space(1)))
#define VOLATILE_GLOBAL static volatile __attribute__((address_space(1)))
#define ENGINE_EXPORT(name) __attribute__((export_name(name)))
#define C_ENTRY(engine_name, linked_name) __attribute__((export_name(#engine_name))) engine_name
#define FALLBACK_IMPORT(name) __attribute__((import_module("c"), import_name(name)))
#define BIND_NAME "bind"
#define C_MALLOC c_malloc
#endif

/*
 * The heap this instance serves, set by bind() (and set_limit, or itself when the end moves).
 * The flags that only ever hold 0 or 1 are volatile: LLVM would otherwise shrink each into a
 * byte of linear memory (GlobalOpt), out of address space 1, where it would overwrite the heap's
 * memory (test/heap/engine.test.ts "never writes outside the heap's own memory").
 */
VOLATILE_GLOBAL i32 g_bound; /* 0 until bind(): C's calls go to the JavaScript fallbacks */
GLOBAL i32 g_h;     /* header word index */
GLOBAL i32 g_start; /* first block */
GLOBAL i32 g_limit; /* end sentinel */
GLOBAL i32 g_secret;
GLOBAL i32 g_zero_alloc;
GLOBAL i32 g_zero_free;
/* Set while a C caller's call runs (c_malloc ...), so a cold path records instead of throwing. */
VOLATILE_GLOBAL i32 g_from_c;
/* Set when a cold path ran during the current C call: its result is a failure, not "ask JavaScript". */
VOLATILE_GLOBAL i32 g_failed;

static void cold(i32 kind, i32 a, i32 b) {
  g_failed = 1;
  cold_path(kind, a, b, g_from_c);
}

/* Memory as 32-bit words at byte offsets (every offset used is 4-aligned and range checked). */
static inline i32 ld(i32 at) { return *(i32 *)(u32)at; }
static inline void st(i32 at, i32 v) { *(i32 *)(u32)at = v; }
static inline i32 hw(i32 index) { return ld((g_h + index) << 2); }
static inline void hset(i32 index, i32 v) { st((g_h + index) << 2, v); }

#define unlikely(x) __builtin_expect(!!(x), 0)

static inline i32 tag(i32 word, i32 b) { return (i32)(((u32)(word ^ b ^ g_secret)) * TAG_MUL) | 1; }
static inline i32 key(i32 at) { return (i32)(((u32)(at ^ g_secret)) * LINK_MUL) ^ g_secret; }
static inline i32 clz(i32 x) { return x == 0 ? 32 : __builtin_clz((u32)x); }
static inline i32 ctz(i32 x) { return 31 - clz(x & -x); }

static inline i32 size_class(i32 size) {
  if (size < SB_SIZE) return (i32)((u32)size >> 3);
  i32 fls = 31 - clz(size);
  return ((fls - SB_BITS + 1) << SL_BITS) | ((i32)((u32)size >> (fls - SL_BITS)) ^ SL_COUNT);
}

static inline i32 class_ceiling(i32 size) {
  return size < SB_SIZE ? size : size + (1 << (31 - clz(size) - SL_BITS)) - 1;
}

/* A checked free block (isFree in tlsf-core.ts), range first. */
static inline i32 is_free(i32 x) {
  if ((x & 7) != 0 || x < g_start || x >= g_limit) return 0;
  i32 word = ld(x);
  return (word & F_FREE) != 0 && ld(x + 4) == tag(word & ~F_LEFT_FREE, x);
}

/* A header that checks out as live, cached or free (`header` in tlsf-core.ts). */
static inline i32 header_ok(i32 b) {
  if ((b & 7) != 0 || b < g_start || b > g_limit) return 0;
  i32 word = ld(b);
  i32 diff = ld(b + 4) ^ tag(word & ~F_LEFT_FREE, b);
  return diff == 0 || diff == TAG_CACHED;
}

/*
 * Zeroes [from, to), both 8-aligned. Up to 512 bytes with 8-byte stores: V8 runs memory.fill
 * (and memory.copy) as a call out of the module, which costs more than the stores for small blocks.
 */
static void zero_range(i32 from, i32 to) {
  if (to - from <= 512) {
    for (i32 i = from; i < to; i += 8) *(u64 *)(u32)i = 0;
  } else {
    __builtin_memset((void *)(u32)from, 0, (u32)(to - from));
  }
}

/* zeroFresh (base.ts): zero only bytes below the clean mark, plus the metadata words above it. */
static void zero_fresh(i32 from, i32 top) {
  i32 clean = hw(H_CLEAN);
  if (top <= clean) {
    zero_range(from, top);
    return;
  }
  if (from < clean) zero_range(from, clean);
  *(u64 *)(u32)from = 0;
  if (from + 16 <= top) *(u64 *)(u32)(from + 8) = 0;
  st(top - 4, 0);
  hset(H_CLEAN, top);
}

/* scrub (tlsf-core.ts): metadata that became interior bytes above the clean mark goes back to zero. */
static void scrub(i32 from, i32 to) {
  i32 clean = hw(H_CLEAN);
  if (to <= clean || !g_zero_alloc) return;
  for (i32 i = from > clean ? from : clean; i < to; i += 4) st(i, 0);
}

/* insertFree; returns 0 after a cold path. Inlined: a call costs more than its body here. */
static inline __attribute__((always_inline)) i32 insert_free(i32 b, i32 size) {
  i32 c = size_class(size);
  i32 fl = (i32)((u32)c >> SL_BITS);
  i32 hi = g_h + W_HEADS + c;
  i32 head = ld(hi << 2);
  if (unlikely(head != 0 && !is_free(head))) {
    cold(COLD_BAD_LINK, head, hi * 4);
    return 0;
  }
  st(b + 8, key(b + 8));
  st(b + 12, head ^ key(b + 12));
  if (head != 0) st(head + 8, b ^ key(head + 8));
  st(hi << 2, b);
  hset(W_FL, hw(W_FL) | (1 << fl));
  hset(W_SL + fl, hw(W_SL + fl) | (1 << (c & (SL_COUNT - 1))));
  return 1;
}

/* removeFree; b is a checked free block of `size` bytes. Returns 0 after a cold path. */
static i32 remove_free(i32 b, i32 size) {
  i32 c = size_class(size);
  i32 prev = ld(b + 8) ^ key(b + 8);
  i32 next = ld(b + 12) ^ key(b + 12);
  i32 hi = g_h + W_HEADS + c;
  i32 right = b + BLOCK_HEADER + size;
  if (unlikely(right > g_limit || (ld(right) & F_LEFT_FREE) == 0 || ld(right - 4) != b)) {
    cold(COLD_STALE_FREE, b, 0);
    return 0;
  }
  if (prev != 0) {
    if (unlikely(!is_free(prev) || (ld(prev + 12) ^ key(prev + 12)) != b)) {
      cold(COLD_BAD_PREV, prev, b);
      return 0;
    }
  } else if (unlikely(ld(hi << 2) != b)) {
    cold(COLD_NOT_HEAD, b, 0);
    return 0;
  }
  if (next != 0) {
    if (unlikely(!is_free(next) || (ld(next + 8) ^ key(next + 8)) != b)) {
      cold(COLD_BAD_NEXT, next, b);
      return 0;
    }
    st(next + 8, prev ^ key(next + 8));
  }
  if (prev != 0) {
    st(prev + 12, next ^ key(prev + 12));
    return 1;
  }
  st(hi << 2, next);
  if (next == 0) {
    i32 fl = (i32)((u32)c >> SL_BITS);
    i32 sl_map = hw(W_SL + fl) & ~(1 << (c & (SL_COUNT - 1)));
    hset(W_SL + fl, sl_map);
    if (sl_map == 0) hset(W_FL, hw(W_FL) & ~(1 << fl));
  }
  return 1;
}

static inline void set_header(i32 b, i32 word) {
  st(b, word);
  st(b + 4, tag(word & ~F_LEFT_FREE, b));
}

/*
 * releaseRange for a range whose left neighbour is live, with its right neighbour's header
 * already checked (`next_word`): frees [b, b + 8 + size), merging with a free right neighbour.
 * Returns 0 after a cold path.
 */
static i32 release_range(i32 b, i32 size, i32 next_word) {
  i32 next = b + BLOCK_HEADER + size;
  if ((next_word & F_FREE) != 0) {
    i32 right_size = next_word & ~FLAGS;
    if (unlikely(right_size < MIN_SIZE || right_size > g_limit - next - BLOCK_HEADER)) {
      cold(COLD_IMPOSSIBLE_FREE, next, right_size);
      return 0;
    }
    if (!remove_free(next, right_size)) return 0;
    st(next + 4, tag(next_word & ~F_LEFT_FREE, next) ^ TAG_FREED);
    scrub(next, next + 16);
    size += BLOCK_HEADER + right_size;
    next = b + BLOCK_HEADER + size;
    if (unlikely(!header_ok(next))) {
      cold(COLD_BAD_HEADER, next, 0);
      return 0;
    }
    next_word = ld(next);
  }
  set_header(b, size | F_FREE);
  st(next - 4, b);
  st(next, next_word | F_LEFT_FREE);
  return insert_free(b, size);
}

/* carve: the unlisted free block b (`have` bytes) becomes a live block of `size` bytes. */
static i32 carve(i32 b, i32 have, i32 size, i32 left) {
  i32 rest = have - size;
  if (rest >= MIN_SPLIT) {
    set_header(b, size | left);
    i32 r = b + BLOCK_HEADER + size;
    i32 rest_size = rest - BLOCK_HEADER;
    set_header(r, rest_size | F_FREE);
    st(r + BLOCK_HEADER + rest_size - 4, r);
    return insert_free(r, rest_size);
  }
  set_header(b, have | left);
  i32 r = b + BLOCK_HEADER + have;
  if (unlikely(!header_ok(r))) {
    cold(COLD_BAD_HEADER, r, 0);
    return 0;
  }
  st(r, ld(r) & ~F_LEFT_FREE);
  return 1;
}

/* Binds this instance to a heap: its header's word index, block region and secret. */
__attribute__((export_name(BIND_NAME))) void bind(i32 h, i32 start, i32 limit, i32 secret, i32 zero_alloc, i32 zero_free) {
  g_bound = 1;
  g_h = h;
  g_start = start;
  g_limit = limit;
  g_secret = secret;
  g_zero_alloc = zero_alloc;
  g_zero_free = zero_free;
}

#ifdef MEMKIT_LINKED
/*
 * 0: C's calls go to the JavaScript fallbacks (an allocator layer, a poisoned instance); 1: back
 * to the heap (after bind).
 */
__attribute__((export_name("memkit_route"))) void memkit_route(i32 on) { g_bound = on; }
#endif

/* The heap's end moved (it grew): the new sentinel. */
ENGINE_EXPORT("set_limit") void set_limit(i32 limit) { g_limit = limit; }

/*
 * Whether the heap's end word no longer matches the sentinel this instance was told (another
 * heap object over the same memory grew it, or a stray write): then TypeScript takes the call,
 * checks the end word against its check word and calls set_limit.
 */
static inline i32 end_moved(void) { return hw(H_END) != g_limit + BLOCK_HEADER; }

/*
 * refresh() in base.ts: a moved end word is taken when it is in range, aligned and confirmed by
 * its keyed check word (wordCheck in layout.ts); else 0, and TypeScript takes the call and
 * reports the corruption.
 */
static __attribute__((noinline)) i32 refresh_end(void) {
  i32 end = hw(H_END);
  u64 memory_bytes = (u64)__builtin_wasm_memory_size(0) << 16;
  if ((end & 7) != 0 || end < g_start + 16 || (u64)(u32)end > memory_bytes) return 0;
  if (hw(H_END_CHECK) != ((i32)(((u32)(end ^ H_END ^ (g_secret ^ 0x2f6b1e35))) * TAG_MUL) | 1)) return 0;
  g_limit = end - BLOCK_HEADER;
  return 1;
}

/* The end this instance knows is the heap's end (refreshed if it moved and checks out). */
static inline i32 ready(void) { return !unlikely(end_moved()) || refresh_end(); }

/* allocate's fast path (tlsf-core.ts); `keep` bytes at the start are the caller's to overwrite. */
/* Inlined into malloc and C's malloc, the two hot entries (measured: W1 28.6 -> 26.5 ns per event). */
static inline __attribute__((always_inline)) i32 allocate(i32 bytes, i32 keep) {
  if (bytes < 0 || bytes > MAX_ALLOCATION) return 0;
  i32 size = bytes <= MIN_SIZE ? MIN_SIZE : (bytes + 7) & -8;
  i32 c = size_class(class_ceiling(size));
  i32 fl = (i32)((u32)c >> SL_BITS);
  if (fl >= FL_COUNT) return 0;
  i32 sl_map = hw(W_SL + fl) & (~0 << (c & (SL_COUNT - 1)));
  if (sl_map == 0) {
    i32 fl_map = fl + 1 >= FL_COUNT ? 0 : hw(W_FL) & (~0 << (fl + 1));
    if (fl_map == 0) return 0;
    fl = ctz(fl_map);
    if (fl >= FL_COUNT) return 0;
    sl_map = hw(W_SL + fl);
  }
  i32 found = (fl << SL_BITS) | ctz(sl_map);
  i32 hi = g_h + W_HEADS + found;
  i32 b = ld(hi << 2);
  if (unlikely((b & 7) != 0 || b < g_start || b >= g_limit)) {
    cold(COLD_BAD_HEAD, hi, b);
    return 0;
  }
  i32 word = ld(b);
  i32 have = word & ~FLAGS;
  if (unlikely(ld(b + 4) != tag(word & ~F_LEFT_FREE, b) || (word & (F_FREE | F_LEFT_FREE)) != F_FREE ||
      have > g_limit - b - BLOCK_HEADER || size_class(have) != found || have < size ||
      (ld(b + 8) ^ key(b + 8)) != 0)) {
    cold(COLD_BAD_HEAD, hi, b);
    return 0;
  }
  i32 next = ld(b + 12) ^ key(b + 12);
  if (next != 0) {
    if (unlikely(!is_free(next) || (ld(next + 8) ^ key(next + 8)) != b)) {
      cold(COLD_BAD_LINK, next, b + 12);
      return 0;
    }
  }
  i32 rest = have - size;
  i32 right = b + BLOCK_HEADER + have;
  i32 right_word = ld(right);
  if (unlikely((right_word & F_LEFT_FREE) == 0 || ld(right - 4) != b)) {
    cold(COLD_STALE_FREE, b, 0);
    return 0;
  }
  if (rest < MIN_SPLIT) {
    i32 diff = ld(right + 4) ^ tag(right_word & ~F_LEFT_FREE, right);
    if (unlikely(diff != 0 && diff != TAG_CACHED)) {
      cold(COLD_BAD_HEADER, right, 0);
      return 0;
    }
  }
  st(hi << 2, next);
  if (next != 0) st(next + 8, key(next + 8));
  else if (rest < MIN_SPLIT || size_class(rest - BLOCK_HEADER) != found) {
    /* (When the rest goes back on this same list, insert_free sets the bits again: same bytes.) */
    i32 sl_left = hw(W_SL + fl) & ~(1 << (found & (SL_COUNT - 1)));
    hset(W_SL + fl, sl_left);
    if (sl_left == 0) hset(W_FL, hw(W_FL) & ~(1 << fl));
  }
  i32 used;
  if (rest >= MIN_SPLIT) {
    st(b, size);
    st(b + 4, tag(size, b));
    i32 r = b + BLOCK_HEADER + size;
    i32 rest_size = rest - BLOCK_HEADER;
    st(r, rest_size | F_FREE);
    st(r + 4, tag(rest_size | F_FREE, r));
    st(right - 4, r);
    if (!insert_free(r, rest_size)) return 0;
    used = size;
  } else {
    st(b, have);
    st(b + 4, tag(have, b));
    st(right, right_word & ~F_LEFT_FREE);
    used = have;
  }
  i32 ptr = b + BLOCK_HEADER;
  i32 top = ptr + used;
  i32 total = hw(H_USED) + used;
  hset(H_USED, total);
  if (total > hw(H_PEAK)) hset(H_PEAK, total);
  hset(H_LIVE, hw(H_LIVE) + 1);
  if (top > hw(H_HIGH_WATER)) hset(H_HIGH_WATER, top);
  if (g_zero_alloc) zero_fresh(ptr + keep, top);
  return ptr;
}

/* allocate as a call, for the paths where its size matters more than a call (calloc, a moving realloc). */
static __attribute__((noinline)) i32 allocate_call(i32 bytes, i32 keep) { return allocate(bytes, keep); }

/* Whether ptr is a live block's payload whose header checks out (the first test of release/realloc). */
static inline i32 live_header(i32 ptr) {
  i32 b = ptr - BLOCK_HEADER;
  if ((ptr & 7) != 0 || b < g_start || b >= g_limit) return 0;
  i32 word = ld(b);
  return ld(b + 4) == tag(word & ~F_LEFT_FREE, b) && (word & F_FREE) == 0;
}

/** malloc for JavaScript: the pointer, or 0 when the TypeScript path must take over (growth, huge). */
ENGINE_EXPORT("malloc") i32 engine_malloc(i32 bytes) {
  if (!ready()) return 0;
  return allocate(bytes, 0);
}

/** free (release in tlsf-core.ts). Returns 1, 0 after a cold path, 2 when TypeScript must take it (end moved). */
ENGINE_EXPORT("free") i32 engine_free(i32 ptr) {
  if (!ready()) return 2;
  if (unlikely(!live_header(ptr))) {
    cold(COLD_NOT_LIVE, ptr, 0);
    return 0;
  }
  i32 b = ptr - BLOCK_HEADER;
  i32 word = ld(b);
  i32 stale = tag(word & ~F_LEFT_FREE, b);
  i32 size = word & ~FLAGS;
  i32 next = b + BLOCK_HEADER + size;
  if (unlikely(size < MIN_SIZE || size > g_limit - b - BLOCK_HEADER)) {
    cold(COLD_IMPOSSIBLE_LIVE, b, 0);
    return 0;
  }
  i32 next_word = ld(next);
  i32 diff = ld(next + 4) ^ tag(next_word & ~F_LEFT_FREE, next);
  if (unlikely((diff != 0 && diff != TAG_CACHED) || (next_word & F_LEFT_FREE) != 0)) {
    cold(COLD_BAD_RIGHT, next, next_word);
    return 0;
  }
  if (g_zero_free) zero_range(ptr, ptr + size);
  hset(H_USED, hw(H_USED) - size);
  hset(H_LIVE, hw(H_LIVE) - 1);
  st(b + 4, stale ^ TAG_FREED);
  if ((next_word & F_FREE) != 0) {
    i32 right_size = next_word & ~FLAGS;
    if (unlikely(diff != 0 || right_size < MIN_SIZE || right_size > g_limit - next - BLOCK_HEADER)) {
      cold(COLD_IMPOSSIBLE_FREE, next, right_size);
      return 0;
    }
    if (!remove_free(next, right_size)) return 0;
    st(next + 4, tag(next_word & ~F_LEFT_FREE, next) ^ TAG_FREED);
    if (g_zero_alloc) scrub(next, next + 16);
    size += BLOCK_HEADER + right_size;
    next = b + BLOCK_HEADER + size;
    next_word = ld(next);
    i32 after = ld(next + 4) ^ tag(next_word & ~F_LEFT_FREE, next);
    if (unlikely(after != 0 && after != TAG_CACHED)) {
      cold(COLD_BAD_HEADER, next, 0);
      return 0;
    }
  }
  i32 from = b;
  i32 stays = 0;
  if ((word & F_LEFT_FREE) != 0) {
    i32 left = ld(b - 4);
    if (unlikely((left & 7) != 0 || left < g_start || left >= b)) {
      cold(COLD_BAD_BACK, b, left);
      return 0;
    }
    i32 left_word = ld(left);
    i32 left_size = left_word & ~FLAGS;
    if (unlikely(ld(left + 4) != tag(left_word & ~F_LEFT_FREE, left) || (left_word & F_FREE) == 0 || left_size < MIN_SIZE ||
        left + BLOCK_HEADER + left_size != b)) {
      cold(COLD_BAD_BACK, b, left);
      return 0;
    }
    /* A merge that keeps the left block's size class keeps it in place in its list (release). */
    stays = size_class(size + BLOCK_HEADER + left_size) == size_class(left_size);
    if (!stays && !remove_free(left, left_size)) return 0;
    if (g_zero_alloc) scrub(b - 4, b + 16);
    size += BLOCK_HEADER + left_size;
    from = left;
  }
  st(from, size | F_FREE);
  st(from + 4, tag(size | F_FREE, from));
  st(next - 4, from);
  st(next, next_word | F_LEFT_FREE);
  return stays ? 1 : insert_free(from, size);
}

/**
 * realloc (reallocate in tlsf-core.ts) of a live ptr: the (maybe moved) pointer, 0 when the
 * TypeScript path must take over (the move needs growth), or 1 after a cold path.
 */
ENGINE_EXPORT("realloc") i32 engine_realloc(i32 ptr, i32 bytes) {
  if (!ready()) return 0;
  if (unlikely(!live_header(ptr))) {
    cold(COLD_NOT_LIVE, ptr, 0);
    return 1;
  }
  if (bytes < 0 || bytes > MAX_OFFSET) return 0;
  i32 b = ptr - BLOCK_HEADER;
  i32 word = ld(b);
  i32 have = word & ~FLAGS;
  i32 right = b + BLOCK_HEADER + have;
  if (unlikely(have < MIN_SIZE || have > g_limit - b - BLOCK_HEADER)) {
    cold(COLD_IMPOSSIBLE_LIVE, b, 0);
    return 1;
  }
  i32 right_word = ld(right);
  i32 diff = ld(right + 4) ^ tag(right_word & ~F_LEFT_FREE, right);
  if (unlikely((diff != 0 && diff != TAG_CACHED) || (right_word & F_LEFT_FREE) != 0)) {
    cold(COLD_BAD_RIGHT, right, right_word);
    return 1;
  }
  i32 size = bytes <= MIN_SIZE ? MIN_SIZE : (bytes + 7) & -8;
  i32 left = word & F_LEFT_FREE;
  if (size <= have) {
    if (have - size >= MIN_SPLIT) {
      if (g_zero_free) zero_range(ptr + size, ptr + have);
      set_header(b, size | left);
      i32 r = b + BLOCK_HEADER + size;
      set_header(r, have - size - BLOCK_HEADER);
      if (!release_range(r, have - size - BLOCK_HEADER, right_word)) return 1;
      hset(H_USED, hw(H_USED) - (have - size));
    }
    return ptr;
  }
  i32 right_size = right_word & ~FLAGS;
  if ((right_word & F_FREE) != 0 && have + BLOCK_HEADER + right_size >= size) {
    if (unlikely(diff != 0 || right_size < MIN_SIZE || right_size > g_limit - right - BLOCK_HEADER)) {
      cold(COLD_IMPOSSIBLE_FREE, right, right_size);
      return 1;
    }
    if (!remove_free(right, right_size)) return 1;
    st(right + 4, tag(right_word & ~F_LEFT_FREE, right) ^ TAG_FREED);
    if (!carve(b, have + BLOCK_HEADER + right_size, size, left)) return 1;
    i32 grown = ld(b) & ~FLAGS;
    if (g_zero_alloc) zero_fresh(right, ptr + grown);
    i32 used = hw(H_USED) + grown - have;
    hset(H_USED, used);
    if (used > hw(H_PEAK)) hset(H_PEAK, used);
    if (ptr + grown > hw(H_HIGH_WATER)) hset(H_HIGH_WATER, ptr + grown);
    if (ptr + grown > hw(H_CLEAN)) hset(H_CLEAN, ptr + grown);
    return ptr;
  }
  /* move: a new block, `have` bytes copied, the old one freed. */
  i32 moved = allocate_call(bytes, have);
  if (moved == 0) return 0;
  if (have <= 256) {
    for (i32 i = 0; i < have; i += 8) *(u64 *)(u32)(moved + i) = *(u64 *)(u32)(ptr + i);
  } else {
    __builtin_memcpy((void *)(u32)moved, (void *)(u32)ptr, (u32)have);
  }
  if (engine_free(ptr) != 1) return 1;
  return moved;
}

/*
 * The functions C imports as malloc/free/calloc/realloc (memkit/ffi links them to the C module
 * directly, so no JavaScript runs on the fast path). What the engine does not serve goes to the
 * imported JavaScript functions with C's rules (growth, sizes past the heap's range, a pointer
 * that is not a live block: they count failures, record a bad free, apply budgets); a cold path
 * (a corrupt heap) is recorded through `cold` and C gets NULL.
 */
FALLBACK_IMPORT("malloc") i32 js_malloc(i32 size);
FALLBACK_IMPORT("free") void js_free(i32 ptr);
FALLBACK_IMPORT("calloc") i32 js_calloc(i32 count, i32 size);
FALLBACK_IMPORT("realloc") i32 js_realloc(i32 ptr, i32 size);

i32 C_ENTRY(c_malloc, malloc)(i32 size) {
  if ((u32)size > MAX_OFFSET || !g_bound || !ready()) return js_malloc(size);
  g_from_c = 1;
  g_failed = 0;
  i32 ptr = allocate(size, 0);
  g_from_c = 0;
  if (ptr != 0 || g_failed) return ptr;
  return js_malloc(size);
}

void C_ENTRY(c_free, free)(i32 ptr) {
  if (ptr == 0) return;
  if (!g_bound || !ready() || !live_header(ptr)) {
    js_free(ptr);
    return;
  }
  g_from_c = 1;
  engine_free(ptr);
  g_from_c = 0;
}

i32 C_ENTRY(c_calloc, calloc)(i32 count, i32 size) {
  u64 bytes = (u64)(u32)count * (u32)size;
  if (bytes > MAX_OFFSET || !g_bound || !ready()) return js_calloc(count, size);
  g_from_c = 1;
  g_failed = 0;
  i32 ptr = allocate_call((i32)bytes, 0);
  g_from_c = 0;
  if (g_failed) return 0;
  if (ptr == 0) return js_calloc(count, size);
  if (!g_zero_alloc) zero_range(ptr, ptr + (((i32)bytes + 7) & -8));
  return ptr;
}

i32 C_ENTRY(c_realloc, realloc)(i32 ptr, i32 size) {
  if (ptr == 0) return C_MALLOC(size);
  if ((u32)size > MAX_OFFSET || !g_bound || !ready() || !live_header(ptr)) return js_realloc(ptr, size);
  g_from_c = 1;
  g_failed = 0;
  i32 moved = engine_realloc(ptr, size);
  g_from_c = 0;
  if (g_failed) return 0;
  if (moved == 0) return js_realloc(ptr, size);
  return moved;
}
