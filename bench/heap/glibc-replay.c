/* Replays a workload file (see workloads.ts encodeTrace) with glibc malloc/free/realloc, the native
 * reference for memkit/heap. Prints "median_ns_per_event p99_ns footprint_ratio" on one line.
 * Timing: median of REPS replays. Footprint: a separate untimed replay sampling mallinfo2()
 * (arena + mmapped bytes) after every allocation, divided by the peak of live requested bytes. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { REPS = 7 };

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  int32_t head[2];
  if (fread(head, 4, 2, f) != 2) return 2;
  int32_t ids = head[0], events = head[1];
  int32_t *ev = malloc((size_t)events * 16);
  if (fread(ev, 16, events, f) != (size_t)events) return 2;
  fclose(f);
  void **table = calloc(ids, sizeof(void *));
  size_t *sizes = calloc(ids, sizeof(size_t));
  double samples[REPS];
  for (int rep = 0; rep < REPS; rep++) {
    double t0 = now_ns();
    for (int32_t i = 0; i < events; i++) {
      int32_t *e = ev + i * 4;
      if (e[0] == 0) {
        char *p = malloc(e[3]);
        p[0] = 1;
        table[e[1]] = p;
      } else if (e[0] == 1) {
        free(table[e[1]]);
        table[e[1]] = 0;
      } else {
        char *p = realloc(e[1] ? table[e[1]] : 0, e[3]);
        p[0] = 1;
        if (e[1]) table[e[1]] = 0;
        table[e[2]] = p;
      }
    }
    samples[rep] = (now_ns() - t0) / events;
    for (int32_t i = 0; i < ids; i++) if (table[i]) { free(table[i]); table[i] = 0; }
  }
  qsort(samples, REPS, sizeof(double), cmp);
  /* Footprint pass: untimed. */
  size_t live = 0, peak_live = 0, peak_fp = 0;
  for (int32_t i = 0; i < events; i++) {
    int32_t *e = ev + i * 4;
    if (e[0] == 0) {
      table[e[1]] = malloc(e[3]); sizes[e[1]] = e[3]; live += e[3];
    } else if (e[0] == 1) {
      free(table[e[1]]); table[e[1]] = 0; live -= sizes[e[1]];
    } else {
      void *p = realloc(e[1] ? table[e[1]] : 0, e[3]);
      if (e[1]) { live -= sizes[e[1]]; table[e[1]] = 0; }
      table[e[2]] = p; sizes[e[2]] = e[3]; live += e[3];
    }
    if (live > peak_live) peak_live = live;
    if (e[0] != 1) {
      struct mallinfo2 mi = mallinfo2();
      size_t fp = mi.arena + mi.hblkhd;
      if (fp > peak_fp) peak_fp = fp;
    }
  }
  printf("%.3f %.3f %.4f\n", samples[REPS / 2], samples[REPS - 1], (double)peak_fp / (double)peak_live);
  return 0;
}
