/*
 * The few syscalls Node.js does not expose, for running lib/ under Node (the tap tests): setns(2)
 * to enter a network namespace, flock(2) for IPAM stores shared with the Go host-local, and a
 * blocking NETLINK socket (open with receive timeout, send, receive). The product, the Bun
 * executable, makes the same calls through bun:ffi (lib/native/ffi.ts) and loads no native file.
 * Plain N-API (ABI-stable). Errors become JS Errors with .code (errno name), .errno and .syscall,
 * like Node's own fs errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <node_api.h>

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name) return name;
#endif
  static char buf[16];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value code, message, error, num, sys;
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "errno", num);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

static int read_int_args(napi_env env, napi_callback_info info, int32_t out[2]) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &out[0]) != napi_ok ||
      napi_get_value_int32(env, argv[1], &out[1]) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected two integer arguments");
    return -1;
  }
  return 0;
}

/* setns(fd, nstype): moves only the calling thread (see lib/ns for the rules that follow). */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (read_int_args(env, info, a) < 0) return NULL;
  if (setns(a[0], a[1]) != 0) return throw_errno(env, "setns", errno);
  return NULL;
}

/* flock(fd, op): blocking unless op has LOCK_NB; retried on EINTR. */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (read_int_args(env, info, a) < 0) return NULL;
  int rc;
  do rc = flock(a[0], a[1]); while (rc != 0 && errno == EINTR);
  if (rc != 0) return throw_errno(env, "flock", errno);
  return NULL;
}

/* netlink_open(protocol, timeoutMs): a bound, blocking NETLINK socket whose send and receive
 * give up after timeoutMs (EAGAIN), so a kernel that never answers cannot hang a plugin. */
static napi_value js_netlink_open(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (read_int_args(env, info, a) < 0) return NULL;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, a[0]);
  if (fd < 0) return throw_errno(env, "socket", errno);
  struct timeval tv = { .tv_sec = a[1] / 1000, .tv_usec = (a[1] % 1000) * 1000 };
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  const char *failed = NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) failed = "setsockopt";
  else if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) failed = "setsockopt";
  else if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) failed = "bind";
  if (failed) {
    int err = errno;
    close(fd);
    return throw_errno(env, failed, err);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static int fd_and_buffer(napi_env env, napi_callback_info info, int32_t *fd, void **data, size_t *len) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_typed = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok ||
      napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, "expected an fd and a Uint8Array");
    return -1;
  }
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &type, len, data, &ab, &offset) != napi_ok) return -1;
  return 0;
}

/* netlink_send(fd, bytes): sends one datagram; returns the bytes sent. */
static napi_value js_netlink_send(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  if (fd_and_buffer(env, info, &fd, &data, &len) < 0) return NULL;
  ssize_t n;
  do n = send(fd, data, len, 0); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "send", errno);
  napi_value out;
  napi_create_int64(env, n, &out);
  return out;
}

/* netlink_recv(fd, buffer): receives one datagram into buffer; returns its full length
 * (MSG_TRUNC), which is larger than the buffer when the datagram did not fit. */
static napi_value js_netlink_recv(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  if (fd_and_buffer(env, info, &fd, &data, &len) < 0) return NULL;
  ssize_t n;
  do n = recv(fd, data, len, MSG_TRUNC); while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "recv", errno);
  napi_value out;
  napi_create_int64(env, n, &out);
  return out;
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static void export_int(napi_env env, napi_value exports, const char *name, int32_t value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  napi_set_named_property(env, exports, name, v);
}

NAPI_MODULE_INIT() {
  export_fn(env, exports, "setns", js_setns);
  export_fn(env, exports, "flock", js_flock);
  export_fn(env, exports, "netlinkOpen", js_netlink_open);
  export_fn(env, exports, "netlinkSend", js_netlink_send);
  export_fn(env, exports, "netlinkRecv", js_netlink_recv);
  export_int(env, exports, "CLONE_NEWNET", CLONE_NEWNET);
  export_int(env, exports, "LOCK_SH", LOCK_SH);
  export_int(env, exports, "LOCK_EX", LOCK_EX);
  export_int(env, exports, "LOCK_NB", LOCK_NB);
  export_int(env, exports, "LOCK_UN", LOCK_UN);
  return exports;
}
