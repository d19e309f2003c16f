/*
 * The C reference for fork mode: per call, fork a child that writes a small answer into a pipe
 * and _exits; the parent reads it and waitpids. The parent first touches `mb` MiB, to show what
 * fork costs as the forked process grows (page tables are copied, not pages).
 * Usage: fork-ref <calls> <mb>; prints one line per call: nanoseconds.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  int calls = argc > 1 ? atoi(argv[1]) : 1000;
  size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 0;
  char *held = mb ? malloc(mb << 20) : NULL;
  if (held) memset(held, 1, mb << 20);
  for (int i = 0; i < calls; i++) {
    long long start = now_ns();
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      int answer = i * 2;
      (void)!write(fds[1], &answer, sizeof answer);
      _exit(0);
    }
    close(fds[1]);
    int answer = 0;
    (void)!read(fds[0], &answer, sizeof answer);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    printf("%lld\n", now_ns() - start);
  }
  free(held);
  return 0;
}
