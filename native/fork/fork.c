/*
 * memkit fork addon: turns a Node process started with --single-threaded into a fork server
 * (a "template", or zygote) for memkit/isolate's fork mode.
 *
 * N-API only (plus libuv's uv_loop_fork, which every Node build exports), so one build serves
 * every Node version >= 20 on linux-x64.
 *
 * Protocol with the caller (the process that started the template):
 *
 *   caller -> template, on fd `ctl` (the template's stdin), frames:
 *     +----------+----------+-----------+------------------+
 *     | u32 type | u32 id   | u32 bytes | payload (bytes)  |   type 1 = FORK, 2 = KILL
 *     +----------+----------+-----------+------------------+
 *   template -> caller, on fd `out`, fixed 16-byte records, each in one write() by the template
 *   alone (its children close their copy of `out`):
 *     +----------+----------+----------+-------------+
 *     | u32 type | u32 id   | i32 pid  | i32 status  |   1 READY, 2 FORKED, 3 EXITED (raw wait
 *     +----------+----------+----------+-------------+   status), 4 FORK_FAILED (status = errno)
 *
 * serve() never returns in the template: it blocks in a poll() loop that forks on request, reaps
 * children when SIGCHLD writes to a self-pipe (Node has helper threads even with
 * --single-threaded, so a signal blocked in this thread only would go to one of them and be
 * lost: a handler runs in whichever thread gets it) and reports each fork and each exit. It
 * returns only in a forked child, with the request's id and payload, after making the child safe
 * to run JavaScript:
 *   - V8 marks its heap MADV_DONTFORK; the template undoes that once, before its first fork
 *     (its JavaScript never runs again, so the mappings do not change afterwards);
 *   - the child gets its own process group (the caller's kill reaches its descendants),
 *     PR_SET_PDEATHSIG (it dies with the template; the template gets SIGTERM when the caller
 *     dies, kills every child's group and removes the caller's scratch files), a /dev/null
 *     stdin, no copy of the template's pipes, the default SIGCHLD action, and a libuv loop re-made
 *     for the new process (uv_loop_fork: the epoll instance is otherwise shared with the template).
 * exit() leaves with _exit: Node's normal teardown is not safe in a forked child.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exported by the node binary (libuv is linked in statically); declared here so that the build
 * needs no libuv headers. */
extern int uv_loop_fork(void *loop);

#ifndef MEMKIT_FORK_SOURCE_SHA256
#define MEMKIT_FORK_SOURCE_SHA256 "unknown"
#endif

enum { REQ_FORK = 1, REQ_KILL = 2 };
enum { REC_READY = 1, REC_FORKED = 2, REC_EXITED = 3, REC_FORK_FAILED = 4 };

/* Children not yet reaped: call id -> pid. */
typedef struct {
  uint32_t id;
  pid_t pid;
} child_t;

static child_t *children;
static size_t n_children, cap_children;

static int wake_w = -1;
/* Set by SIGTERM, which the kernel sends the template when the caller dies (PR_SET_PDEATHSIG). */
static volatile sig_atomic_t terminated;

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGTERM) terminated = 1;
  (void)!write(wake_w, "", 1);
  errno = saved;
}

static void die(const char *what) {
  char line[160];
  int n = snprintf(line, sizeof line, "memkit fork template: %s: %s\n", what, strerror(errno));
  if (n > 0) (void)!write(2, line, (size_t)n);
  _exit(70);
}

static void write_record(int fd, uint32_t type, uint32_t id, int32_t pid, int32_t status) {
  uint32_t rec[4] = {type, id, (uint32_t)pid, (uint32_t)status};
  const char *p = (const char *)rec;
  size_t left = sizeof rec;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    /* The caller is gone: nothing left to serve. */
    if (n <= 0) _exit(0);
    p += n;
    left -= (size_t)n;
  }
}

/* Reads exactly `len` bytes; returns 0 on end of file or error (the caller is gone). */
static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

static void add_child(uint32_t id, pid_t pid) {
  if (n_children == cap_children) {
    cap_children = cap_children ? cap_children * 2 : 16;
    children = realloc(children, cap_children * sizeof *children);
    if (children == NULL) die("realloc");
  }
  children[n_children].id = id;
  children[n_children].pid = pid;
  n_children++;
}

/* Removes the child with this pid; returns its id, or UINT32_MAX when it was not ours. */
static uint32_t take_child(pid_t pid) {
  for (size_t i = 0; i < n_children; i++) {
    if (children[i].pid != pid) continue;
    uint32_t id = children[i].id;
    children[i] = children[--n_children];
    return id;
  }
  return UINT32_MAX;
}

static void kill_group(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

/* Removes the dead caller's files in /dev/shm (memkit-isolate-<pid>-*): nobody else will. */
static void remove_caller_files(pid_t caller) {
  char prefix[64];
  int n = snprintf(prefix, sizeof prefix, "memkit-isolate-%d-", (int)caller);
  DIR *dir = opendir("/dev/shm");
  if (dir == NULL || n <= 0) return;
  for (struct dirent *entry; (entry = readdir(dir)) != NULL;)
    if (strncmp(entry->d_name, prefix, (size_t)n) == 0) unlinkat(dirfd(dir), entry->d_name, 0);
  closedir(dir);
}

/* Kills every child with its process group, then leaves. When the caller died (not when it just
 * closed our pipe to retire us) its scratch files go too. The pipe closes before the kernel
 * re-parents us and sends SIGTERM, so wait a moment for that signal before deciding. */
static void kill_all_and_leave(int wake_r, pid_t caller) {
  for (size_t i = 0; i < n_children; i++) kill_group(children[i].pid);
  struct pollfd fd = {.fd = wake_r, .events = POLLIN};
  char drain[64];
  for (int tries = 0; !terminated && tries < 20; tries++) {
    /* Woken by SIGCHLD from the children just killed, or by the SIGTERM we wait for. */
    if (poll(&fd, 1, 10) > 0) (void)!read(wake_r, drain, sizeof drain);
  }
  /* The signal comes when the caller's thread that started us exits; its other threads may still
   * be exiting (getppid() names one of them, so still the caller) for a few milliseconds. */
  for (int tries = 0; terminated && getppid() == caller && tries < 100; tries++) poll(NULL, 0, 10);
  if (terminated && getppid() != caller) remove_caller_files(caller);
  _exit(0);
}

/* Clears MADV_DONTFORK from every mapping, so that a child gets V8's heap. Mappings the kernel
 * refuses (vsyscall, I/O) are skipped: V8 never put DONTFORK on those. */
static void allow_fork_everywhere(void) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open /proc/self/maps");
  size_t cap = 1 << 16, len = 0;
  char *text = malloc(cap);
  if (text == NULL) die("malloc");
  for (;;) {
    if (len + 4096 > cap) {
      cap *= 2;
      text = realloc(text, cap);
      if (text == NULL) die("realloc");
    }
    ssize_t n = read(fd, text + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read /proc/self/maps");
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  text[len] = '\0';
  for (char *line = text; line < text + len;) {
    char *end = strchr(line, '\n');
    if (end == NULL) end = text + len;
    unsigned long start = 0, stop = 0;
    if (sscanf(line, "%lx-%lx", &start, &stop) == 2 && stop > start)
      (void)madvise((void *)start, stop - start, MADV_DOFORK);
    line = end + 1;
  }
  free(text);
}

/* In the child, right after fork: cut every tie to the template except the ones we want. */
static void become_child(int ctl, int out, int wake_r, pid_t template_pid) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The template died between fork and prctl: the signal will never come. */
  if (getppid() != template_pid) _exit(71);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  close(wake_r);
  close(wake_w);
  close(out);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, ctl);
    close(null);
  }
  free(children);
  children = NULL;
  n_children = cap_children = 0;
}

static void reap(int out) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    uint32_t id = take_child(pid);
    /* Whatever the call started in its process group dies with it. The group id cannot be
     * reused while a member lives, so this never hits a stranger. */
    kill(-pid, SIGKILL);
    if (id != UINT32_MAX) write_record(out, REC_EXITED, id, pid, status);
  }
}

typedef struct {
  uint32_t id;
  char *payload;
  uint32_t bytes;
} request_t;

/* Blocks until a FORK request makes a child; returns only in that child. */
static request_t serve_loop(int ctl, int out, pid_t caller) {
  /* SIGTERM, handled below, so the template can kill its children's process groups first. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != caller) _exit(0);
  /* Blocking descriptors: this loop waits in poll() and reads whole frames. */
  fcntl(ctl, F_SETFL, fcntl(ctl, F_GETFL) & ~O_NONBLOCK);
  fcntl(out, F_SETFL, fcntl(out, F_GETFL) & ~O_NONBLOCK);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) die("pipe2");
  wake_w = wake[1];
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = on_signal;
  act.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&act.sa_mask);
  if (sigaction(SIGCHLD, &act, NULL) != 0 || sigaction(SIGTERM, &act, NULL) != 0) die("sigaction");
  allow_fork_everywhere();
  pid_t self = getpid();
  write_record(out, REC_READY, 0, self, 0);
  for (;;) {
    struct pollfd fds[2] = {{.fd = ctl, .events = POLLIN}, {.fd = wake[0], .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(wake[0], drain, sizeof drain) > 0) {
      }
      reap(out);
    }
    if (terminated) kill_all_and_leave(wake[0], caller);
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    uint32_t head[3];
    if (!read_full(ctl, head, sizeof head)) kill_all_and_leave(wake[0], caller);
    char *payload = NULL;
    if (head[2] > 0) {
      payload = malloc(head[2]);
      if (payload == NULL) die("malloc");
      if (!read_full(ctl, payload, head[2])) kill_all_and_leave(wake[0], caller);
    }
    if (head[0] == REQ_KILL) {
      for (size_t i = 0; i < n_children; i++)
        if (children[i].id == head[1]) kill_group(children[i].pid);
      free(payload);
      continue;
    }
    if (head[0] != REQ_FORK) {
      free(payload);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      become_child(ctl, out, wake[0], self);
      return (request_t){head[1], payload, head[2]};
    }
    free(payload);
    if (pid < 0) {
      write_record(out, REC_FORK_FAILED, head[1], 0, errno);
      continue;
    }
    /* Also set from this side, so a kill sent before the child ran setpgid still finds the group. */
    setpgid(pid, pid);
    add_child(head[1], pid);
    write_record(out, REC_FORKED, head[1], pid, 0);
  }
}

static int32_t arg_int(napi_env env, napi_value value) {
  int32_t n = -1;
  napi_get_value_int32(env, value, &n);
  return n;
}

/* serve(ctlFd, outFd, callerPid) -> { id, payload, pid } in a forked child; never returns in the template. */
static napi_value serve(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "serve(ctlFd, outFd, callerPid) needs three integers");
    return NULL;
  }
  request_t req = serve_loop(arg_int(env, argv[0]), arg_int(env, argv[1]), (pid_t)arg_int(env, argv[2]));
  struct uv_loop_s *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_loop_fork(loop) != 0) _exit(72);
  napi_value result, id, payload, pid;
  void *data = NULL;
  napi_create_object(env, &result);
  napi_create_uint32(env, req.id, &id);
  napi_create_buffer_copy(env, req.bytes, req.payload, &data, &payload);
  free(req.payload);
  napi_set_named_property(env, result, "id", id);
  napi_set_named_property(env, result, "payload", payload);
  /* Node caches process.pid at start: in the child it would still name the template. */
  napi_create_int32(env, getpid(), &pid);
  napi_set_named_property(env, result, "pid", pid);
  return result;
}

/* exit(code): leaves at once with _exit, skipping Node's teardown. */
static napi_value leave(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  _exit(argc < 1 ? 0 : arg_int(env, argv[0]) & 0xff);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, sha;
  napi_create_function(env, "serve", NAPI_AUTO_LENGTH, serve, NULL, &fn);
  napi_set_named_property(env, exports, "serve", fn);
  napi_create_function(env, "exit", NAPI_AUTO_LENGTH, leave, NULL, &fn);
  napi_set_named_property(env, exports, "exit", fn);
  napi_create_string_utf8(env, MEMKIT_FORK_SOURCE_SHA256, NAPI_AUTO_LENGTH, &sha);
  napi_set_named_property(env, exports, "sourceSha256", sha);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
