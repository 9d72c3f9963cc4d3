/*
 * server.c — a small HTTP/2 server (h2c, prior knowledge) over the h2wasm ABI: one
 * executor, many connections, a select() loop. Every request is read to its end and
 * answered 200 with a short text body; a request with a body (POST) is told how many
 * bytes arrived ("received N bytes").
 *
 *   server [--port N]        listens on 127.0.0.1:N (default 8080) until killed
 *          [--dir DIR]       a GET answers with the file DIR/path through zero-copy DATA:
 *                            the bytes go from the file to the socket with sendfile(2)
 *                            and never enter the module (404 when there is none)
 *          [--copy]          with --dir: copy the files through the module instead
 *                            (body_read fills its buffer), to measure the difference
 *          [--inject-trap PATH]  for tests: a request for PATH makes the next io_write
 *                                trap inside the module, as a bug in the module would
 *
 * A trap does not end the server: the trapped instance is not entered again, its
 * connections are closed at once, one line says so, and new connections are served by a
 * fresh instance of the same module.
 *
 * Task userdata: KIND << 24 | index, where the index is a connection slot (handshake,
 * accept, close) or a request slot (body).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define H2W_HOST_IO_READ 1
#define H2W_HOST_IO_WRITE 1
#define H2W_HOST_BODY_READ 1
#define H2W_HOST_SEND_DATA 1
#include "h2wasm_host.h"

#define MAX_CONNS 1000 /* select(): fds stay below FD_SETSIZE */
enum { K_HANDSHAKE = 1, K_ACCEPT, K_CLOSE, K_BODY };
#define UD(kind, index) ((uint32_t)(kind) << 24 | (uint32_t)(index))

struct conn {
  int fd;               /* -1: slot free */
  uint32_t gen;         /* io userdata = gen << 16 | slot: a stale io never reaches a new fd */
  h2_serverconn conn;
  h2_waker read_waker, write_waker;
};
static struct conn conns[MAX_CONNS];
static uint32_t next_gen = 1;

struct req {
  int used;
  h2_body body;
  h2_respond respond;
  uint64_t received;
  int has_body;         /* POST/PUT: answer with the byte count */
  uint32_t conn_ud;     /* its connection's io userdata */
  char path[512];
};
static struct req *reqs;
static size_t nreqs;

static const char *trap_path; /* --inject-trap */
static int trap_armed;
static const char *docroot;   /* --dir */
static int copy_files;        /* --copy */

/* A file being sent through zero-copy DATA: its data source's userdata is its slot. */
struct file {
  int fd;               /* -1: slot free */
  uint32_t conn_ud;     /* the connection's io userdata: where its frames go */
  off_t size, sent, announced;
};
#define MAX_FILES 4096
/* Room for a batch of taken requests: at least one head of the default 64 KiB limit. */
#define TAKE_BUF (64u * 1024u + 16u)
static struct file files[MAX_FILES];

static struct conn *conn_of(uint32_t userdata) {
  uint32_t slot = userdata & 0xFFFF;
  if (slot >= MAX_CONNS || conns[slot].fd < 0 || conns[slot].gen != (userdata >> 16)) return NULL;
  return &conns[slot];
}

uint32_t h2_host_io_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  struct conn *c = conn_of(userdata);
  return c ? h2w_sock_read(c->fd, &c->read_waker, ctx, buf, len) : H2_IO_ERROR;
}

uint32_t h2_host_io_write(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  if (trap_armed) {
    trap_armed = 0;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); /* unwinds through the module to main's loop */
  }
  struct conn *c = conn_of(userdata);
  return c ? h2w_sock_write(c->fd, &c->write_waker, ctx, buf, len) : H2_IO_ERROR;
}

/* body_read: the file's bytes, announced at once as zero-copy (they stay in the file);
 * asked again once they were all written: 0, the end. */
uint32_t h2_host_body_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  (void)ctx; (void)buf; (void)len;
  struct file *f = userdata < MAX_FILES ? &files[userdata] : NULL;
  if (!f || f->fd < 0) return H2_IO_ERROR;
  if (copy_files) { /* the copy path: through the module's buffer */
    ssize_t n = pread(f->fd, h2w_ptr(buf), len, f->sent);
    if (n < 0) return H2_IO_ERROR;
    f->sent += n;
    if (n == 0) { close(f->fd); f->fd = -1; }
    return (uint32_t)n;
  }
  if (f->announced < f->size) {
    off_t n = f->size - f->announced;
    if (n > 0x7FFFFFFF) n = 0x7FFFFFFF;
    f->announced += n;
    return H2_DATA_NO_COPY | (uint32_t)n;
  }
  if (f->sent == f->size) {
    close(f->fd);
    f->fd = -1;
    return 0;
  }
  return H2_IO_ERROR;
}

/* Waits until fd is writable (a frame already begun must be finished: no PENDING then). */
static int wait_writable(int fd) {
  struct pollfd p = {fd, POLLOUT, 0};
  return poll(&p, 1, 30000) == 1 ? 0 : -1;
}

static int write_all(int fd, const uint8_t *b, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w > 0) { b += w; n -= (size_t)w; continue; }
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable(fd) == 0) continue;
    return -1;
  }
  return 0;
}

/* send_data: the prefix from the module, then data_len bytes of the file straight from
 * the page cache with sendfile(2), then the padding. Nothing written yet and the socket
 * full: PENDING (the same frame comes again). Once begun, the frame is finished. */
uint32_t h2_host_send_data(uint32_t userdata, h2_context ctx, h2_ptr prefix, uint32_t prefix_len, uint32_t data_len, uint32_t pad_len) {
  struct file *f = userdata < MAX_FILES ? &files[userdata] : NULL;
  struct conn *c = f && f->fd >= 0 ? conn_of(f->conn_ud) : NULL;
  if (!c) return H2_IO_ERROR;
  /* MSG_MORE: the prefix waits for the data that follows, one segment instead of two. */
  ssize_t w = send(c->fd, h2w_ptr(prefix), prefix_len, MSG_NOSIGNAL | MSG_MORE);
  if (w < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return H2_IO_ERROR;
    if (c->write_waker) h2_waker_free(c->write_waker);
    c->write_waker = h2_context_waker(ctx);
    return H2_IO_PENDING;
  }
  if ((uint32_t)w < prefix_len && write_all(c->fd, (const uint8_t *)h2w_ptr(prefix) + w, prefix_len - (uint32_t)w) != 0)
    return H2_DATA_FAIL_CONNECTION;
  for (size_t left = data_len; left > 0;) {
    ssize_t n = sendfile(c->fd, f->fd, &f->sent, left);
    if (n > 0) { left -= (size_t)n; continue; }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable(c->fd) == 0) continue;
    return H2_DATA_FAIL_CONNECTION; /* half a frame on the wire: only the connection can end */
  }
  static const uint8_t zeros[255];
  if (pad_len && write_all(c->fd, zeros, pad_len) != 0) return H2_DATA_FAIL_CONNECTION;
  return 0;
}

/* The file DIR/path for a GET, or -1 (no such regular file, or a path that climbs out). */
static int open_file(const char *path, off_t *size) {
  if (!docroot || path[0] != '/' || strstr(path, "..")) return -1;
  char full[1024];
  const char *q = strchr(path, '?');
  int plen = q ? (int)(q - path) : (int)strlen(path);
  size_t rlen = strlen(docroot);
  if (rlen + (size_t)plen >= sizeof full) return -1;
  memcpy(full, docroot, rlen);
  memcpy(full + rlen, path, (size_t)plen);
  full[rlen + (size_t)plen] = 0;
  int fd = open(full, O_RDONLY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { close(fd); return -1; }
  *size = st.st_size;
  return fd;
}

static h2_executor exec;

static void push(h2_task task, uint32_t userdata) {
  if (!task) return;
  h2_task_set_userdata(task, userdata);
  h2_executor_push(exec, task);
}

static void close_conn(uint32_t slot) {
  struct conn *c = &conns[slot];
  if (c->fd < 0) return;
  uint32_t ud = c->gen << 16 | slot;
  for (int i = 0; i < MAX_FILES; i++) /* its files still being sent go with it */
    if (files[i].fd >= 0 && files[i].conn_ud == ud) { close(files[i].fd); files[i].fd = -1; }
  if (c->conn) h2_serverconn_free(c->conn);
  if (c->read_waker) h2_waker_free(c->read_waker);
  if (c->write_waker) h2_waker_free(c->write_waker);
  close(c->fd);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

static uint32_t new_req(void) {
  for (size_t i = 0; i < nreqs; i++)
    if (!reqs[i].used) { memset(&reqs[i], 0, sizeof reqs[i]); reqs[i].used = 1; return (uint32_t)i; }
  size_t n = nreqs ? nreqs * 2 : 64;
  if (n > 0xFFFFFF) { fprintf(stderr, "server: too many requests in flight\n"); exit(1); }
  reqs = realloc(reqs, n * sizeof *reqs);
  memset(reqs + nreqs, 0, (n - nreqs) * sizeof *reqs);
  uint32_t i = (uint32_t)nreqs;
  nreqs = n;
  reqs[i].used = 1;
  return i;
}

static void free_req(uint32_t i) {
  if (reqs[i].body) h2_body_free(reqs[i].body);
  if (reqs[i].respond) h2_respond_free(reqs[i].respond);
  reqs[i].used = 0;
}

/* Files up to this size go whole: read into the module's memory right behind the head
 * and sent in one call (h2_respond_send_whole), cheaper than zero-copy's callbacks. */
#define SMALL_FILE 16384

/* 200 with the file's bytes, head and body in one call; an H2E code (LIMIT: nothing sent). */
static h2_code answer_small_file(struct req *r, int fd, uint32_t size) {
  char len[16];
  int k = sizeof len - 1;
  len[k] = 0;
  uint32_t v = size;
  do { len[--k] = (char)('0' + v % 10); v /= 10; } while (v);
  const char *fields[] = {"content-length", len + k};
  uint32_t flen = h2w_fields_size(fields, 1);
  h2_ptr at = h2w_scratch(flen + size);
  if (!at) return H2E_OUT_OF_MEMORY;
  flen = h2w_put_fields(at, fields, 1);
  if (pread(fd, h2w_ptr(at + flen), size, 0) != (ssize_t)size) return H2E_ERROR;
  return h2_respond_send_whole(r->respond, 200, at, flen, at + flen, size);
}

/* A GET under --dir: the file through zero-copy DATA, or 404. */
static void answer_file(uint32_t i) {
  struct req *r = &reqs[i];
  off_t size = 0;
  int fd = open_file(r->path, &size);
  uint32_t slot = 0;
  while (fd >= 0 && slot < MAX_FILES && files[slot].fd >= 0) slot++;
  if (fd >= 0 && size <= SMALL_FILE && answer_small_file(r, fd, (uint32_t)size) == H2E_OK) {
    close(fd);
    free_req(i);
    return;
  }
  h2_response resp = h2_response_new();
  if (fd < 0 || slot == MAX_FILES) {
    if (fd >= 0) close(fd);
    h2_response_set_status(resp, 404);
    h2_respond_send_response(r->respond, resp, 1);
  } else {
    files[slot] = (struct file){fd, r->conn_ud, size, 0, 0};
    char len[32];
    snprintf(len, sizeof len, "%lld", (long long)size);
    h2_response_set_status(resp, 200);
    h2w_headers_add(h2_response_headers(resp), "content-length", len);
    h2_body body = h2_body_new();
    h2_body_set_userdata(body, slot);
    h2_response_set_body(resp, body); /* body taken */
    h2_respond_send_response(r->respond, resp, 0);
  }
  free_req(i);
}

/* The whole request arrived: 200 with a short body. */
static void answer(uint32_t i) {
  struct req *r = &reqs[i];
  if (docroot && !r->has_body) {
    answer_file(i);
    return;
  }
  char text[128];
  int n = r->has_body ? snprintf(text, sizeof text, "received %llu bytes\n", (unsigned long long)r->received)
                      : snprintf(text, sizeof text, "hello from h2wasm (C, wasm2c)\n");
  static const char *const fields[] = {"content-type", "text/plain"};
  h2w_respond_whole(r->respond, 200, fields, 1, text, (uint32_t)n);
  free_req(i);
}

/* A field's value from a flat field list in host memory, as a C string in `out`. */
static void field_value(const uint8_t *fields, uint32_t len, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  out[0] = 0;
  for (const uint8_t *p = fields, *end = fields + len; end - p >= 12;) {
    uint32_t n, v;
    memcpy(&n, p, 4); memcpy(&v, p + 4, 4);
    if (n == nl && memcmp(p + 12, name, nl) == 0) {
      size_t k = v < cap - 1 ? v : cap - 1;
      memcpy(out, p + 12 + n, k);
      out[k] = 0;
      return;
    }
    p += 12 + n + v;
  }
}

/* Every request waiting on connection `index`, heads flat, in one call per batch. They are
 * copied out first: answering grows memory (which may move it) and reuses the scratch. */
static void take_requests(uint32_t index) {
  static h2_ptr buf;
  static uint8_t copy[TAKE_BUF];
  if (!buf && !(buf = h2_alloc(TAKE_BUF))) return;
  uint32_t n;
  while ((n = h2_serverconn_take_requests(conns[index].conn, buf, TAKE_BUF)) > 0) {
    memcpy(copy, h2w_ptr(buf), n);
    for (uint32_t at = 0; at + 16 <= n;) {
      uint32_t rec[4];
      memcpy(rec, copy + at, 16);
      const uint8_t *head = copy + at + 16;
      at += 16 + rec[3];
      char method[16];
      uint32_t i = new_req();
      struct req *r = &reqs[i];
      r->respond = rec[0];
      r->body = rec[1];
      r->conn_ud = conns[index].gen << 16 | index;
      field_value(head, rec[3], ":method", method, sizeof method);
      field_value(head, rec[3], ":path", r->path, sizeof r->path);
      if (trap_path && strcmp(r->path, trap_path) == 0) trap_armed = 1;
      r->has_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
      if (r->body) push(h2_body_data(r->body), UD(K_BODY, i));
      else answer(i); /* ended with its head */
    }
  }
}

static void on_task(h2_task task) {
  uint32_t type = h2_task_type(task), ud = h2_task_userdata(task);
  uint32_t kind = ud >> 24, index = ud & 0xFFFFFF;
  switch (kind) {
  case K_HANDSHAKE:
    if (type == H2_TASK_SERVERCONN) {
      conns[index].conn = h2_task_value(task);
      push(h2_serverconn_poll_requests(conns[index].conn), UD(K_ACCEPT, index));
      push(h2_serverconn_poll_close(conns[index].conn), UD(K_CLOSE, index));
    } else {
      close_conn(index); /* no preface: the peer went away or spoke something else */
    }
    break;
  case K_ACCEPT:
    if (type == H2_TASK_REQUEST) {
      take_requests(index);
      push(h2_serverconn_poll_requests(conns[index].conn), UD(K_ACCEPT, index));
    } /* EMPTY: no more requests on this connection; ERROR: poll_close reports it */
    break;
  case K_BODY:
    if (type == H2_TASK_BUF) {
      h2_buf buf = h2_task_value(task);
      reqs[index].received += h2_buf_len(buf);
      h2_buf_free(buf);
      push(h2_body_data(reqs[index].body), UD(K_BODY, index));
    } else if (type == H2_TASK_EMPTY) {
      answer(index);
    } else {
      free_req(index); /* the stream was reset or the connection failed */
    }
    break;
  case K_CLOSE:
    close_conn(index);
    break;
  }
  h2_task_free(task);
}

static void accept_all(int lfd) {
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) return;
    uint32_t slot = 0;
    while (slot < MAX_CONNS && conns[slot].fd >= 0) slot++;
    if (slot == MAX_CONNS || fd >= FD_SETSIZE || h2w_sock_prepare(fd) != 0) { close(fd); continue; }
    struct conn *c = &conns[slot];
    c->fd = fd;
    c->gen = next_gen++ & 0xFFFF;
    if (!c->gen) c->gen = next_gen++ & 0xFFFF;
    h2_io io = h2_io_new();
    h2_io_set_userdata(io, c->gen << 16 | slot);
    h2_serverconn_options opts = h2_serverconn_options_new();
    h2_serverconn_options_exec(opts, exec);
    h2_serverconn_options_set(opts, H2_OPT_MAX_CONCURRENT_STREAMS, 256);
    h2_serverconn_options_set(opts, H2_OPT_INITIAL_WINDOW_SIZE, 1u << 20);
    h2_serverconn_options_set(opts, H2_OPT_CONNECTION_WINDOW, 8u << 20);
    push(h2_serverconn_handshake(io, opts), UD(K_HANDSHAKE, slot)); /* io, opts taken */
  }
}

/*
 * The instance trapped (a bug in the module: it checks every size a peer or host decides
 * before it allocates): it is not entered again. Its connections are closed, their slots
 * and the requests' (handles of the old instance) forgotten, and a fresh instance and
 * executor serve whatever comes next.
 */
static void recover(wasm_rt_trap_t trap) {
  int failed = 0;
  for (int i = 0; i < MAX_CONNS; i++) {
    if (conns[i].fd < 0) continue;
    close(conns[i].fd);
    memset(&conns[i], 0, sizeof conns[i]);
    conns[i].fd = -1;
    failed++;
  }
  for (int i = 0; i < MAX_FILES; i++)
    if (files[i].fd >= 0) { close(files[i].fd); files[i].fd = -1; }
  if (reqs) memset(reqs, 0, nreqs * sizeof *reqs);
  trap_armed = 0;
  h2w_reinstantiate();
  exec = h2_executor_new();
  h2_executor_set_time(exec, h2w_now_ms());
  fprintf(stderr, "h2wasm: wasm trap (%s): the instance is replaced; %d connection(s) failed\n", wasm_rt_strerror(trap), failed);
}

int main(int argc, char *argv[]) {
  H2W_TRAP_GUARD();
  int port = 8080;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--inject-trap") == 0 && i + 1 < argc) trap_path = argv[++i];
    else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) docroot = argv[++i];
    else if (strcmp(argv[i], "--copy") == 0) copy_files = 1;
    else { fprintf(stderr, "usage: server [--port N] [--dir DIR [--copy]] [--inject-trap PATH]\n"); return 2; }
  }
  for (int i = 0; i < MAX_FILES; i++) files[i].fd = -1;
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < MAX_CONNS; i++) conns[i].fd = -1;

  h2w_init();
  exec = h2_executor_new();

  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 512) != 0) {
    perror("server: listen");
    return 1;
  }
  fcntl(lfd, F_SETFL, O_NONBLOCK);
  fprintf(stderr, "listening on http://127.0.0.1:%d\n", port);

  /* Time is told when an event fires, before the calls it leads to (accept, wakes, poll):
   * a handshake never starts with the time of the last event, however long ago. */
  h2_executor_set_time(exec, h2w_now_ms());
  for (;;) {
    /* A trap anywhere in this round lands here (setjmp: main's frame outlives it). */
    wasm_rt_trap_t trap = wasm_rt_impl_try();
    if (trap != WASM_RT_TRAP_NONE) recover(trap);
    h2_task task;
    while ((task = h2_executor_poll(exec)) != 0) on_task(task);

    fd_set rd, wr;
    FD_ZERO(&rd); FD_ZERO(&wr);
    FD_SET(lfd, &rd);
    int maxfd = lfd;
    for (int i = 0; i < MAX_CONNS; i++) {
      struct conn *c = &conns[i];
      if (c->fd < 0) continue;
      if (c->read_waker) FD_SET(c->fd, &rd);
      if (c->write_waker) FD_SET(c->fd, &wr);
      if ((c->read_waker || c->write_waker) && c->fd > maxfd) maxfd = c->fd;
    }
    int64_t wait_ms = 1000, deadline = h2_executor_next_deadline(exec);
    if (deadline >= 0) {
      int64_t d = deadline - h2w_now_ms();
      wait_ms = d < 0 ? 0 : d < wait_ms ? d : wait_ms;
    }
    struct timeval tv = {(time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000};
    int n = select(maxfd + 1, &rd, &wr, NULL, &tv);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("select");
      return 1;
    }
    h2_executor_set_time(exec, h2w_now_ms());
    if (FD_ISSET(lfd, &rd)) accept_all(lfd);
    for (int i = 0; i < MAX_CONNS; i++) {
      struct conn *c = &conns[i];
      if (c->fd < 0) continue;
      if (c->read_waker && FD_ISSET(c->fd, &rd)) { h2_waker_wake(c->read_waker); c->read_waker = 0; }
      if (c->write_waker && FD_ISSET(c->fd, &wr)) { h2_waker_wake(c->write_waker); c->write_waker = 0; }
    }
  }
}
