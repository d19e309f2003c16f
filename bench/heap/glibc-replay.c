/* Replays a workload file (see workloads.ts encodeTrace) with the process's malloc/free/realloc: glibc's,
 * or jemalloc's / mimalloc's when one is LD_PRELOADed (bench/heap/native.ts). The native reference for
 * memkit/heap. Prints one line:
 *   allocator median_ns p99_ns footprint mallocs frees reallocs touches bytes faults cpu_median_ns
 *   (cpu: CLOCK_PROCESS_CPUTIME_ID per replay, which a loaded machine's waiting does not inflate)
 * - Timing: one untimed warm-up replay, then the median of REPS replays (the trace frees every block,
 *   so each replay starts from an empty, warm allocator, as mitata's warm-up gives the JS contenders).
 * - Work per event, the same as the JS driver (test/helpers/trace.ts replay): malloc(size) or
 *   realloc(old, size), then one byte written at the new block's first byte; free(ptr). The counters
 *   (mallocs frees reallocs touches bytes) come from the timed loop and are checked by the bench
 *   against the trace, so every contender is known to do the same calls with the same sizes.
 * - Memory kept, as memkit keeps it: glibc's trim threshold and mmap threshold are raised so free()
 *   never returns memory to the kernel mid-run (memkit's heaps never shrink). Before this, W3 (realloc
 *   growth, blocks up to 64 KiB) trimmed the top of the heap on most large frees and page-faulted it
 *   back on the next growth: 1,451 minor faults per replay of 10,200 events instead of 18, and
 *   412-490 ns per event instead of 90-110 ns (same machine, same hour). That made glibc look 2.6x
 *   slower than memkit on W3 (490 vs 189 ns); kept memory, it is ~1.5x faster (91 vs 141 ns).
 *   jemalloc and mimalloc get the same policy from their environment (native.ts).
 * - Footprint: an untimed first pass, before any timed replay: the peak of the bytes the allocator holds
 *   divided by the peak of live requested bytes. glibc: mallinfo2 arena + mmapped (address space, like
 *   memkit's high-water). jemalloc and mimalloc: resident set growth over the pass (/proc/self/statm),
 *   as mimalloc commits whole 32 MiB segments and has no cheaper exact figure. The replayer's own arrays
 *   come from mmap, so the allocator holds nothing but the workload's blocks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

enum { REPS = 11 };

static int native_other; /* jemalloc or mimalloc preloaded */
static int statm = -1;

static double clock_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Bytes the allocator holds now: glibc's own count, or the resident set for the others. */
static size_t held_bytes(void) {
  if (!native_other) {
    struct mallinfo2 mi = mallinfo2();
    return mi.arena + mi.hblkhd;
  }
  char buf[128];
  ssize_t n = pread(statm, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = 0;
  unsigned long size = 0, resident = 0;
  sscanf(buf, "%lu %lu", &size, &resident);
  return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Zeroed memory straight from the kernel, touched, so no allocator sees the replayer's own arrays. */
static void *own(size_t bytes) {
  char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(3);
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 0;
  return p;
}

static long minor_faults(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

/* Counters of the work done, printed for the bench's same-work check. */
static long n_malloc, n_free, n_realloc, n_touch;
static double n_bytes;

static void replay(const int32_t *ev, int32_t events, void **table) {
  for (int32_t i = 0; i < events; i++) {
    const int32_t *e = ev + i * 4;
    if (e[0] == 0) {
      char *p = malloc(e[3]);
      p[0] = 1;
      table[e[1]] = p;
      n_malloc++, n_touch++, n_bytes += e[3];
    } else if (e[0] == 1) {
      if (table[e[1]]) free(table[e[1]]), n_free++;
      table[e[1]] = 0;
    } else {
      char *p = e[1] ? realloc(table[e[1]], e[3]) : malloc(e[3]);
      if (e[1]) n_realloc++; else n_malloc++;
      p[0] = 1;
      n_touch++, n_bytes += e[3];
      if (e[1]) table[e[1]] = 0;
      table[e[2]] = p;
    }
  }
}

static double footprint(const int32_t *ev, int32_t events, void **table, size_t *sizes) {
  size_t live = 0, peak_live = 0, base = native_other ? held_bytes() : 0, peak = base;
  for (int32_t i = 0; i < events; i++) {
    const int32_t *e = ev + i * 4;
    if (e[0] == 0) {
      table[e[1]] = malloc(e[3]), sizes[e[1]] = e[3], live += e[3];
      ((char *)table[e[1]])[0] = 1;
    } else if (e[0] == 1) {
      free(table[e[1]]), table[e[1]] = 0, live -= sizes[e[1]];
    } else {
      void *p = e[1] ? realloc(table[e[1]], e[3]) : malloc(e[3]);
      ((char *)p)[0] = 1;
      if (e[1]) live -= sizes[e[1]], table[e[1]] = 0;
      table[e[2]] = p, sizes[e[2]] = e[3], live += e[3];
    }
    if (live > peak_live) peak_live = live;
    if (e[0] != 1) {
      size_t held = held_bytes();
      if (held > peak) peak = held;
    }
  }
  return (double)(peak - base) / (double)peak_live;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest; the workloads' blocks are far smaller */
  const char *name = dlsym(RTLD_DEFAULT, "mallctl") ? "jemalloc" : dlsym(RTLD_DEFAULT, "mi_version") ? "mimalloc" : "glibc";
  native_other = strcmp(name, "glibc") != 0;
  statm = open("/proc/self/statm", O_RDONLY);
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) return 2;
  int32_t head[2];
  if (read(fd, head, 8) != 8) return 2;
  int32_t ids = head[0], events = head[1];
  int32_t *ev = own((size_t)events * 16);
  for (size_t want = (size_t)events * 16, got = 0; got < want;) {
    ssize_t n = read(fd, (char *)ev + got, want - got);
    if (n <= 0) return 2;
    got += (size_t)n;
  }
  close(fd);
  void **table = own(ids * sizeof(void *));
  size_t *sizes = own(ids * sizeof(size_t));
  double fp = footprint(ev, events, table, sizes);
  replay(ev, events, table); /* warm-up, untimed */
  double samples[REPS], cpu[REPS];
  long faults = minor_faults();
  for (int rep = 0; rep < REPS; rep++) {
    n_malloc = n_free = n_realloc = n_touch = 0, n_bytes = 0;
    double t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    replay(ev, events, table);
    samples[rep] = (clock_ns(CLOCK_MONOTONIC) - t0) / events;
    cpu[rep] = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / events;
  }
  faults = (minor_faults() - faults) / REPS;
  qsort(samples, REPS, sizeof(double), cmp);
  qsort(cpu, REPS, sizeof(double), cmp);
  printf("%s %.3f %.3f %.4f %ld %ld %ld %ld %.0f %ld %.3f\n", name, samples[REPS / 2], samples[REPS - 1], fp, n_malloc,
         n_free, n_realloc, n_touch, n_bytes, faults, cpu[REPS / 2]);
  return 0;
}
