/*
 * server.c — a small HTTP/2 server (h2c, prior knowledge) over the h2wasm ABI: one
 * executor, many connections, one epoll loop (Linux). Every request is read to its end and
 * answered 200 with a short text body; a request with a body (POST) is told how many
 * bytes arrived ("received N bytes").
 *
 *   server [--port N]        listens on 127.0.0.1:N (default 8080) until killed
 *          [--dir DIR]       a GET answers with the file DIR/path (DIR/path/index.html for a
 *                            path ending in /): up to 16 KiB whole, larger through zero-copy DATA:
 *                            the bytes go from the file to the socket with sendfile(2)
 *                            and never enter the module (404 when there is none)
 *          [--copy]          with --dir: copy the files through the module instead
 *                            (body_read fills its buffer), to measure the difference
 *          [--max-header-list BYTES]  the largest request head accepted (64 KiB by default);
 *                            a head past the bulk take's buffer is taken by h2_serverconn_accept
 *          [--inject-trap PATH]  for tests: a request for PATH makes the next io_write
 *                                trap inside the module, as a bug in the module would
 *
 * A trap does not end the server: the trapped instance is not entered again, its
 * connections are closed at once, one line says so, and new connections are served by a
 * fresh instance of the same module.
 *
 * How the loop spends its system calls (a turn: poll the executor until it has nothing
 * ready, write, wait):
 *   - One epoll set, every connection in it once, edge-triggered, for reading and writing
 *     (EPOLLIN | EPOLLOUT | EPOLLET): nothing is rebuilt or re-armed per turn, and a turn
 *     costs what its ready connections cost, not what the idle ones do. Edge-triggered
 *     because the host keeps what the edges said itself (conn.readable, conn.wblocked):
 *     level-triggered would report EPOLLOUT on every wait unless each write waker's
 *     arrival and departure were an epoll_ctl call.
 *   - Reads go straight from the socket into the module's read buffer (io_read's buf), no
 *     copy. The core reads until the host answers PENDING; a read shorter than asked for
 *     drained the socket, so the next io_read answers PENDING without a read() that could
 *     only fail with EAGAIN (any byte that arrives later is a new edge).
 *   - io_write appends to the connection's output buffer (OUT_CAP at most) and the buffer
 *     goes out once per turn, one send per connection, when the executor has nothing ready:
 *     the frames of the hundred responses a turn produces leave in one write, not one each.
 *     A write that would overflow the buffer goes out at once with what is buffered, in one
 *     sendmsg of two iovecs (large bodies are not copied). Bytes the socket does not take
 *     wait for its EPOLLOUT edge; io_write takes a waker (PENDING) only while the buffer is
 *     full and the socket takes nothing.
 *   - The listener is level-triggered and accept4(SOCK_NONBLOCK) takes every waiting
 *     connection in one readiness.
 *
 * Task userdata: KIND << 24 | index, where the index is a connection slot (handshake,
 * accept, close) or a request slot (body).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define H2W_HOST_IO_READ 1
#define H2W_HOST_IO_WRITE 1
#define H2W_HOST_BODY_READ 1
#define H2W_HOST_SEND_DATA 1
#include "h2wasm_host.h"

#define MAX_CONNS 16384 /* slots; the io userdata holds one in 16 bits */
#define OUT_CAP (64u << 10) /* a connection's output buffer, at most */
#define LINGER_MS 5000 /* how long a closed connection's last buffered bytes may wait */
enum { K_HANDSHAKE = 1, K_ACCEPT, K_ACCEPT_ONE, K_CLOSE, K_BODY };
#define UD(kind, index) ((uint32_t)(kind) << 24 | (uint32_t)(index))
#define LISTENER_EVENT UINT64_MAX

struct conn {
  int fd;               /* -1: slot free */
  uint32_t gen;         /* io userdata = gen << 16 | slot: a stale io never reaches a new fd */
  h2_serverconn conn;
  h2_waker read_waker, write_waker;
  uint8_t readable;     /* the socket may hold bytes not read yet (an edge came, no short read since) */
  uint8_t wblocked;     /* the socket took nothing last time: wait for its EPOLLOUT edge */
  uint8_t failed;       /* a write failed outside io_write: the next io call says so */
  uint8_t queued;       /* in the flush list */
  uint8_t closing;      /* the connection is over: the fd stays only until `out` is written */
  int64_t linger_until; /* closing: when the fd goes anyway */
  uint32_t nfiles;      /* files being sent on it (--dir) */
  uint8_t *out;         /* bytes io_write accepted that the socket has not taken: [out_off, out_len) */
  uint32_t out_off, out_len, out_cap;
};
static struct conn *conns;
static uint32_t free_slots[MAX_CONNS], nfree; /* a stack of free slots */
static uint32_t flush_list[MAX_CONNS], nflush; /* connections with output to write this turn */
static uint32_t lingering;                     /* closing connections */
static uint32_t next_gen = 1;
static int epfd = -1;
static int woke; /* a waker was woken outside poll: poll again before sleeping */

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
static uint32_t *free_reqs; /* a stack of free request slots */
static size_t nreqs, nfree_reqs;

static const char *trap_path; /* --inject-trap */
static int trap_armed;
static const char *docroot;   /* --dir */
static int copy_files;        /* --copy */
static uint32_t max_header_list; /* --max-header-list: SETTINGS_MAX_HEADER_LIST_SIZE (0: the default) */

/* A file being sent through zero-copy DATA: its data source's userdata is its slot. */
struct file {
  int fd;               /* -1: slot free */
  uint32_t conn_ud;     /* the connection's io userdata: where its frames go */
  off_t size, sent, announced;
};
#define MAX_FILES 4096
static struct file files[MAX_FILES];

/* Strings the answers use, written once into linear memory (again after a trap's fresh
 * instance) so that answering allocates and copies nothing: a header is two pointers. */
static const char HELLO[] = "hello from h2wasm (C, wasm2c)\n";
#define SCRATCH_LEN 512
/* Files up to this size go whole: read into linear memory right behind their head and
 * sent in one call (h2_respond_send_whole), cheaper than zero-copy's callbacks. */
#define SMALL_FILE 16384
/* Room for the requests one h2_serverconn_take_requests hands over: a batch, and always
 * one head of the default 64 KiB header list limit. */
#define TAKE_LEN (64u * 1024u + 16u)
static struct {
  h2_ptr base, text_head, hello, scratch, whole, take;
  uint32_t text_head_len;
} mem;

/* A one-field flat list (see "Field lists" in h2wasm.h) at `at`; its length. */
static uint32_t put_field(h2_ptr at, const char *name, const char *value, uint32_t value_len) {
  uint8_t *p = (uint8_t *)h2w_ptr(at);
  uint32_t nl = (uint32_t)strlen(name), fl = 0;
  memcpy(p, &nl, 4); memcpy(p + 4, &value_len, 4); memcpy(p + 8, &fl, 4);
  memcpy(p + 12, name, nl);
  memcpy(p + 12 + nl, value, value_len);
  return 12 + nl + value_len;
}

static void mem_init(void) {
  uint32_t head = 12 + 12 + 10;
  uint32_t total = head + (uint32_t)sizeof HELLO + SCRATCH_LEN + 64 + SMALL_FILE + TAKE_LEN;
  mem.base = h2_alloc(total);
  if (!mem.base) { fprintf(stderr, "server: h2_alloc failed\n"); exit(1); }
  mem.text_head = mem.base;
  mem.text_head_len = put_field(mem.text_head, "content-type", "text/plain", 10);
  mem.hello = mem.text_head + head;
  memcpy(h2w_ptr(mem.hello), HELLO, sizeof HELLO - 1);
  mem.scratch = mem.hello + (uint32_t)sizeof HELLO;
  mem.whole = mem.scratch + SCRATCH_LEN;
  mem.take = mem.whole + 64 + SMALL_FILE;
}

static struct conn *conn_of(uint32_t userdata) {
  uint32_t slot = userdata & 0xFFFF;
  if (slot >= MAX_CONNS || conns[slot].fd < 0 || conns[slot].closing || conns[slot].gen != (userdata >> 16)) return NULL;
  return &conns[slot];
}

static void take_waker(h2_waker *waker, h2_context ctx) {
  if (*waker) h2_waker_free(*waker);
  *waker = h2_context_waker(ctx);
}

static void wake(h2_waker *waker) {
  if (!*waker) return;
  h2_waker_wake(*waker);
  *waker = 0;
  woke = 1;
}

/* ---- Output: the connection's buffer and the socket ---------------------------------- */

/* A write failed: the connection's next io call reports it (its wakers bring that call). */
static void fail_conn(struct conn *c) {
  c->failed = 1;
  c->out_off = c->out_len = 0;
  wake(&c->read_waker);
  wake(&c->write_waker);
}

/* Writes what `out` holds, as far as the socket takes it. 0, or -1 when the socket failed. */
static int flush_out(struct conn *c) {
  while (c->out_off < c->out_len && !c->wblocked) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n > 0) { c->out_off += (uint32_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { c->wblocked = 1; break; }
    return -1;
  }
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  return 0;
}

static void queue_flush(struct conn *c) {
  if (c->queued) return;
  c->queued = 1;
  flush_list[nflush++] = (uint32_t)(c - conns);
}

/* Appends [p, p+n) to `out` (the caller checked the room). */
static void append_out(struct conn *c, const uint8_t *p, uint32_t n) {
  if (c->out_off > 0 && c->out_len + n > c->out_cap) { /* slide the unsent bytes to the front */
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
  }
  if (c->out_len + n > c->out_cap) {
    uint32_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + n) cap *= 2;
    uint8_t *b = realloc(c->out, cap);
    if (!b) { fprintf(stderr, "server: out of memory\n"); exit(1); }
    c->out = b;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
  queue_flush(c);
}

static void close_fd(struct conn *c) {
  uint32_t slot = (uint32_t)(c - conns);
  close(c->fd);
  if (c->closing) lingering--;
  free(c->out);
  memset(c, 0, sizeof *c);
  c->fd = -1;
  free_slots[nfree++] = slot;
}

/* ---- Imports ------------------------------------------------------------------------- */

uint32_t h2_host_io_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  struct conn *c = conn_of(userdata);
  if (!c || c->failed) return H2_IO_ERROR;
  if (c->readable) {
    for (;;) {
      ssize_t n = read(c->fd, h2w_ptr(buf), len);
      if (n >= 0) {
        if ((uint32_t)n < len && n > 0) c->readable = 0; /* drained: the next byte is a new edge */
        return (uint32_t)n;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return H2_IO_ERROR;
      break;
    }
    c->readable = 0;
  }
  take_waker(&c->read_waker, ctx);
  return H2_IO_PENDING;
}

uint32_t h2_host_io_write(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  if (trap_armed) {
    trap_armed = 0;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); /* unwinds through the module to main's loop */
  }
  struct conn *c = conn_of(userdata);
  if (!c || c->failed) return H2_IO_ERROR;
  const uint8_t *src = h2w_ptr(buf);
  uint32_t held = c->out_len - c->out_off;
  if (held + len <= OUT_CAP) { /* the common case: kept for the turn's one write */
    append_out(c, src, len);
    return len;
  }
  /* It would overflow the buffer: what is buffered and these bytes, in one call. */
  if (!c->wblocked) {
    struct iovec iov[2] = {{c->out + c->out_off, held}, {(void *)src, len}};
    struct msghdr msg = {0};
    msg.msg_iov = held ? iov : iov + 1;
    msg.msg_iovlen = held ? 2 : 1;
    ssize_t n;
    do n = sendmsg(c->fd, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) { fail_conn(c); return H2_IO_ERROR; }
      c->wblocked = 1;
      n = 0;
    }
    if ((uint32_t)n >= held) {
      c->out_off = c->out_len = 0;
      if ((uint32_t)n > held) return (uint32_t)n - held; /* the core offers the rest again */
    } else {
      c->out_off += (uint32_t)n;
    }
  }
  held = c->out_len - c->out_off;
  if (held < OUT_CAP) { /* take what fits */
    uint32_t k = OUT_CAP - held < len ? OUT_CAP - held : len;
    append_out(c, src, k);
    return k;
  }
  take_waker(&c->write_waker, ctx); /* full, and the socket takes nothing: its EPOLLOUT wakes it */
  return H2_IO_PENDING;
}

/* body_read: the file's bytes, announced at once as zero-copy (they stay in the file);
 * asked again once they were all written: 0, the end. */
static void file_done(struct file *f) {
  close(f->fd);
  f->fd = -1;
  uint32_t slot = f->conn_ud & 0xFFFF;
  if (slot < MAX_CONNS && conns[slot].gen == (f->conn_ud >> 16) && conns[slot].nfiles) conns[slot].nfiles--;
}

uint32_t h2_host_body_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  (void)ctx; (void)buf; (void)len;
  struct file *f = userdata < MAX_FILES ? &files[userdata] : NULL;
  if (!f || f->fd < 0) return H2_IO_ERROR;
  if (copy_files) { /* the copy path: through the module's buffer */
    ssize_t n = pread(f->fd, h2w_ptr(buf), len, f->sent);
    if (n < 0) return H2_IO_ERROR;
    f->sent += n;
    if (n == 0) file_done(f);
    return (uint32_t)n;
  }
  if (f->announced < f->size) {
    off_t n = f->size - f->announced;
    if (n > 0x7FFFFFFF) n = 0x7FFFFFFF;
    f->announced += n;
    return H2_DATA_NO_COPY | (uint32_t)n;
  }
  if (f->sent == f->size) {
    file_done(f);
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
 * the page cache with sendfile(2), then the padding. Whatever io_write buffered goes
 * first (the frames before this one); while the socket cannot take that, or nothing of
 * the frame is written yet and the socket is full: PENDING (the same frame comes again).
 * Once begun, the frame is finished. */
uint32_t h2_host_send_data(uint32_t userdata, h2_context ctx, h2_ptr prefix, uint32_t prefix_len, uint32_t data_len, uint32_t pad_len) {
  struct file *f = userdata < MAX_FILES ? &files[userdata] : NULL;
  struct conn *c = f && f->fd >= 0 ? conn_of(f->conn_ud) : NULL;
  if (!c || c->failed) return H2_IO_ERROR;
  /* The buffered frames and the prefix in one call; MSG_MORE: the prefix waits for the
   * data that follows, one segment instead of two. */
  uint32_t held = c->out_len - c->out_off;
  ssize_t w = -1;
  if (!c->wblocked) {
    struct iovec iov[2] = {{c->out + c->out_off, held}, {h2w_ptr(prefix), prefix_len}};
    struct msghdr msg = {0};
    msg.msg_iov = held ? iov : iov + 1;
    msg.msg_iovlen = held ? 2 : 1;
    do w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_MORE); while (w < 0 && errno == EINTR);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return H2_DATA_FAIL_CONNECTION;
  }
  if (w < 0) c->wblocked = 1;
  if (w < 0 || (uint32_t)w <= held) { /* nothing of the frame written */
    if (w > 0) c->out_off += (uint32_t)w;
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    take_waker(&c->write_waker, ctx);
    return H2_IO_PENDING;
  }
  c->out_off = c->out_len = 0;
  w -= (ssize_t)held;
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
  /* A directory's path ("/", "/docs/") names its index.html, as with nghttpd. */
  const char *index = plen > 0 && path[plen - 1] == '/' ? "index.html" : "";
  size_t rlen = strlen(docroot), ilen = strlen(index);
  if (rlen + (size_t)plen + ilen >= sizeof full) return -1;
  memcpy(full, docroot, rlen);
  memcpy(full + rlen, path, (size_t)plen);
  memcpy(full + rlen + (size_t)plen, index, ilen + 1);
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

/* The connection is over (poll_close finished, or no handshake): its handles go, and its
 * fd once the output it still holds is written (at most LINGER_MS). */
static void close_conn(uint32_t slot) {
  struct conn *c = &conns[slot];
  if (c->fd < 0 || c->closing) return;
  uint32_t ud = c->gen << 16 | slot;
  for (int i = 0; c->nfiles && i < MAX_FILES; i++) /* its files still being sent go with it */
    if (files[i].fd >= 0 && files[i].conn_ud == ud) file_done(&files[i]);
  if (c->conn) h2_serverconn_free(c->conn);
  if (c->read_waker) h2_waker_free(c->read_waker);
  if (c->write_waker) h2_waker_free(c->write_waker);
  c->conn = c->read_waker = c->write_waker = 0;
  if (!c->failed && flush_out(c) == 0 && c->out_len > 0) {
    c->closing = 1; /* the rest goes at its EPOLLOUT edges */
    c->linger_until = h2w_now_ms() + LINGER_MS;
    lingering++;
    return;
  }
  close_fd(c);
}

static uint32_t new_req(void) {
  if (nfree_reqs == 0) {
    size_t n = nreqs ? nreqs * 2 : 64;
    if (n > 0xFFFFFF) { fprintf(stderr, "server: too many requests in flight\n"); exit(1); }
    reqs = realloc(reqs, n * sizeof *reqs);
    free_reqs = realloc(free_reqs, n * sizeof *free_reqs);
    if (!reqs || !free_reqs) { fprintf(stderr, "server: out of memory\n"); exit(1); }
    memset(reqs + nreqs, 0, (n - nreqs) * sizeof *reqs);
    for (size_t i = n; i > nreqs; i--) free_reqs[nfree_reqs++] = (uint32_t)(i - 1);
    nreqs = n;
  }
  uint32_t i = free_reqs[--nfree_reqs];
  struct req *r = &reqs[i];
  r->used = 1;
  r->body = r->respond = 0;
  r->received = 0;
  r->has_body = 0;
  r->path[0] = 0;
  return i;
}

static void free_req(uint32_t i) {
  if (reqs[i].body) h2_body_free(reqs[i].body);
  if (reqs[i].respond) h2_respond_free(reqs[i].respond);
  reqs[i].used = 0;
  free_reqs[nfree_reqs++] = i;
}

/* Small files stay open, as nghttpd keeps its file descriptors: a request for one costs a
 * pread, not open + fstat + pread + close. An entry is checked against the file system (a
 * stat of its path: the same file, the same size and time) when it is older than a second,
 * so a file replaced or changed is seen within one. */
#define FILE_CACHE 64
#define FILE_CACHE_MS 1000
struct cached {
  char path[256];
  int fd;               /* -1: empty */
  uint32_t size;
  dev_t dev;
  ino_t ino;
  struct timespec mtime;
  int64_t checked;      /* when it was last checked (ms) */
};
static struct cached file_cache[FILE_CACHE];
static uint32_t file_cache_next; /* the entry the next new file replaces (round robin) */

static void cache_drop(struct cached *e) {
  if (e->fd >= 0) close(e->fd);
  e->fd = -1;
}

/* Is `e` still the file at its path? */
static int cache_fresh(struct cached *e) {
  char full[1024];
  struct stat st;
  const char *index = e->path[strlen(e->path) - 1] == '/' ? "index.html" : "";
  if (snprintf(full, sizeof full, "%s%s%s", docroot, e->path, index) >= (int)sizeof full || stat(full, &st) != 0) return 0;
  return st.st_dev == e->dev && st.st_ino == e->ino && (uint32_t)st.st_size == e->size &&
         st.st_mtim.tv_sec == e->mtime.tv_sec && st.st_mtim.tv_nsec == e->mtime.tv_nsec;
}

static struct cached *cached_file(const char *path) {
  if (strchr(path, '?')) return NULL;
  for (uint32_t i = 0; i < FILE_CACHE; i++) {
    struct cached *e = &file_cache[i];
    if (e->fd < 0 || strcmp(e->path, path) != 0) continue;
    int64_t now = h2w_now_ms();
    if (now - e->checked >= FILE_CACHE_MS) {
      if (!cache_fresh(e)) { cache_drop(e); return NULL; }
      e->checked = now;
    }
    return e;
  }
  return NULL;
}

/* Keeps `fd` (the small file at `path`, just answered) for later requests, or closes it. */
static void remember_file(const char *path, int fd, uint32_t size) {
  struct stat st;
  if (strlen(path) >= sizeof file_cache[0].path || strchr(path, '?') || fstat(fd, &st) != 0) { close(fd); return; }
  struct cached *e = &file_cache[file_cache_next];
  file_cache_next = (file_cache_next + 1) % FILE_CACHE;
  cache_drop(e);
  strcpy(e->path, path);
  e->fd = fd;
  e->size = size;
  e->dev = st.st_dev;
  e->ino = st.st_ino;
  e->mtime = st.st_mtim;
  e->checked = h2w_now_ms();
}

/* 200 with a small file's bytes, head and body in one call; an H2E code (nothing was
 * sent unless H2E_OK). */
static h2_code answer_small_file(h2_respond respond, int fd, uint32_t size) {
  char len[16];
  int k = sizeof len;
  uint32_t v = size;
  do { len[--k] = (char)('0' + v % 10); v /= 10; } while (v);
  uint32_t flen = put_field(mem.whole, "content-length", len + k, (uint32_t)(sizeof len - k));
  if (pread(fd, h2w_ptr(mem.whole + flen), size, 0) != (ssize_t)size) return H2E_ERROR;
  return h2_respond_send_whole(respond, 200, mem.whole, flen, mem.whole + flen, size);
}

/* A GET under --dir: the file whole (small), through zero-copy DATA, or 404. */
static void answer_file(h2_respond respond, const char *path, uint32_t conn_ud) {
  struct cached *hit = cached_file(path);
  if (hit && answer_small_file(respond, hit->fd, hit->size) == H2E_OK) return;
  off_t size = 0;
  int fd = open_file(path, &size);
  if (fd >= 0 && size <= SMALL_FILE && answer_small_file(respond, fd, (uint32_t)size) == H2E_OK) {
    remember_file(path, fd, (uint32_t)size); /* kept open for the next request (or closed) */
    return;
  }
  uint32_t slot = 0;
  while (fd >= 0 && slot < MAX_FILES && files[slot].fd >= 0) slot++;
  h2_response resp = h2_response_new();
  if (fd < 0 || slot == MAX_FILES) {
    if (fd >= 0) close(fd);
    h2_response_set_status(resp, 404);
    h2_respond_send_response(respond, resp, 1);
  } else {
    files[slot] = (struct file){fd, conn_ud, size, 0, 0};
    struct conn *c = conn_of(conn_ud);
    if (c) c->nfiles++;
    char len[32];
    int n = snprintf(len, sizeof len, "%lld", (long long)size);
    uint32_t flen = put_field(mem.scratch, "content-length", len, (uint32_t)n);
    h2_headers_set_all(h2_response_headers(resp), mem.scratch, flen);
    h2_body body = h2_body_new();
    h2_body_set_userdata(body, slot);
    h2_response_set_body(resp, body); /* body taken */
    h2_respond_send_response(respond, resp, 0);
  }
}

/* The whole request arrived: 200 with a short text body, head and body in one call. */
static void answer_text(h2_respond respond, int has_body, uint64_t received) {
  if (has_body) {
    char text[64];
    int n = snprintf(text, sizeof text, "received %llu bytes\n", (unsigned long long)received);
    memcpy(h2w_ptr(mem.scratch), text, (size_t)n);
    h2_respond_send_whole(respond, 200, mem.text_head, mem.text_head_len, mem.scratch, (uint32_t)n);
  } else {
    h2_respond_send_whole(respond, 200, mem.text_head, mem.text_head_len, mem.hello, sizeof HELLO - 1);
  }
}

static void answer(uint32_t i) {
  struct req *r = &reqs[i];
  if (!conn_of(r->conn_ud)) { free_req(i); return; } /* its connection closed meanwhile */
  if (docroot && !r->has_body) answer_file(r->respond, r->path, r->conn_ud);
  else answer_text(r->respond, r->has_body, r->received);
  free_req(i);
}

/* Requests answered once the executor has nothing ready: the responses a turn produces
 * are then written by one drive of their connection, not one drive (and one io_write)
 * each, as answering inside the task loop would have the next poll do. */
static uint32_t *answers;
static size_t nanswers, answers_cap;

static void later(uint32_t i) {
  if (nanswers == answers_cap) {
    answers_cap = answers_cap ? answers_cap * 2 : 256;
    answers = realloc(answers, answers_cap * sizeof *answers);
    if (!answers) { fprintf(stderr, "server: out of memory\n"); exit(1); }
  }
  answers[nanswers++] = i;
}

static void answer_all(void) {
  for (size_t k = 0; k < nanswers; k++) answer(answers[k]);
  nanswers = 0;
}

/* What the answer needs of a request head, picked in one walk (h2w_fields_foreach): its
 * method and its path as C strings; a path longer than the slot takes counts as none. */
struct head_fields {
  char method[16];
  char path[sizeof reqs[0].path];
  int has_path;
};

static int pick_field(const uint8_t *name, uint32_t name_len, const uint8_t *value, uint32_t value_len, uint32_t flags, void *arg) {
  struct head_fields *h = arg;
  (void)flags;
  if (name_len < 2 || name[0] != ':') return 1; /* the pseudo-headers come first: done */
  if (name_len == 7 && memcmp(name, ":method", 7) == 0 && value_len < sizeof h->method) {
    memcpy(h->method, value, value_len);
    h->method[value_len] = 0;
  } else if (name_len == 5 && memcmp(name, ":path", 5) == 0 && value_len < sizeof h->path) {
    memcpy(h->path, value, value_len);
    h->path[value_len] = 0;
    h->has_path = 1;
  }
  return 0;
}

/* A request into a fresh slot, with what its answer needs; its body tasks are the caller's.
 * `path` is NULL when it was absent or too long: no path (a 404), never a shortened one. */
static uint32_t new_request(uint32_t index, h2_respond respond, h2_body body, const char *method, const char *path) {
  uint32_t i = new_req();
  struct req *r = &reqs[i];
  r->respond = respond;
  r->body = body;
  r->conn_ud = conns[index].gen << 16 | index;
  r->has_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
  if (path) strcpy(r->path, path);
  if (trap_path && strcmp(r->path, trap_path) == 0) trap_armed = 1;
  return i;
}

/* A pseudo-header of an h2_request as a C string in `out` (through the scratch area): its
 * length, or -1 when absent or longer than `out` takes. */
static int request_pseudo(h2_request req, uint32_t which, char *out, size_t cap) {
  uint32_t n = h2_request_pseudo(req, which, mem.scratch, SCRATCH_LEN);
  out[0] = 0;
  if (n == 0xFFFFFFFFu || n >= cap || n > SCRATCH_LEN) return -1;
  memcpy(out, h2w_ptr(mem.scratch), n);
  out[n] = 0;
  return (int)n;
}

/* A request handed over by h2_serverconn_accept (a head too large for a take, or no handle
 * left to take one with): read by its handle, then answered as any other. */
static void on_request(uint32_t index, h2_request req) {
  char method[16], path[sizeof reqs[0].path];
  request_pseudo(req, H2_PSEUDO_METHOD, method, sizeof method);
  int has_path = request_pseudo(req, H2_PSEUDO_PATH, path, sizeof path) >= 0;
  h2_body body = h2_request_body(req);
  h2_respond respond = h2_request_respond(req);
  h2_request_free(req);
  if (h2_body_is_end(body)) { /* END_STREAM came with the head: no body tasks */
    h2_body_free(body);
    body = 0;
  }
  uint32_t i = new_request(index, respond, body, method, has_path ? path : NULL);
  if (body) push(h2_body_data(body), UD(K_BODY, i));
  else later(i);
}

/* Every request waiting on connection `index`, in one call per batch, heads flat (no
 * request handle, no task each); how many were taken. Read in place, so nothing enters the
 * module (which could grow, and move, its memory) until the batch is read: the body tasks
 * go after it. */
static uint32_t take_requests(uint32_t index) {
  static uint32_t reading[TAKE_LEN / 16];
  uint32_t n, taken = 0;
  while ((n = h2_serverconn_take_requests(conns[index].conn, mem.take, TAKE_LEN)) > 0) {
    uint32_t nreading = 0;
    const uint8_t *batch = (const uint8_t *)h2w_ptr(mem.take);
    for (uint32_t at = 0; at + 16 <= n; taken++) {
      uint32_t rec[4]; /* respond, body (0: it ended with its head), stream id, head length */
      memcpy(rec, batch + at, 16);
      struct head_fields h; /* not zeroed whole: a per-request memset of the path for nothing */
      h.method[0] = h.path[0] = 0;
      h.has_path = 0;
      h2w_fields_foreach(mem.take + at + 16, rec[3], pick_field, &h);
      at += 16 + rec[3];
      uint32_t i = new_request(index, rec[0], rec[1], h.method, h.has_path ? h.path : NULL);
      if (rec[1]) reading[nreading++] = i;
      else later(i);
    }
    for (uint32_t k = 0; k < nreading; k++) push(h2_body_data(reqs[reading[k]].body), UD(K_BODY, reading[k]));
  }
  return taken;
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
      /* Woken with requests waiting and none taken (a head too large for the buffer, or no
       * handle left): the next one by h2_serverconn_accept, which takes any head and fails
       * when no handle is left, rather than polling again at once. */
      if (take_requests(index) > 0) push(h2_serverconn_poll_requests(conns[index].conn), UD(K_ACCEPT, index));
      else push(h2_serverconn_accept(conns[index].conn), UD(K_ACCEPT_ONE, index));
    } /* EMPTY: no more requests on this connection; ERROR: poll_close reports it */
    break;
  case K_ACCEPT_ONE:
    if (type == H2_TASK_REQUEST) {
      on_request(index, h2_task_value(task));
      push(h2_serverconn_poll_requests(conns[index].conn), UD(K_ACCEPT, index));
    } /* EMPTY: no more requests; ERROR (no handle left): this connection takes no more */
    break;
  case K_BODY:
    if (type == H2_TASK_BUF) {
      h2_buf buf = h2_task_value(task);
      reqs[index].received += h2_buf_len(buf);
      h2_buf_free(buf);
      push(h2_body_data(reqs[index].body), UD(K_BODY, index));
    } else if (type == H2_TASK_EMPTY) {
      later(index);
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
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return; /* EAGAIN: all taken; EMFILE and the like: the listener stays ready, next turn */
    }
    if (nfree == 0) { close(fd); continue; }
    uint32_t slot = free_slots[--nfree];
    struct conn *c = &conns[slot];
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* HTTP/2 writes small frames */
    c->fd = fd;
    c->gen = next_gen++ & 0xFFFF;
    if (!c->gen) c->gen = next_gen++ & 0xFFFF;
    c->readable = 1; /* the preface may be here already */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = c->gen << 16 | slot};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) { close_fd(c); continue; }
    h2_io io = h2_io_new();
    h2_io_set_userdata(io, c->gen << 16 | slot);
    h2_serverconn_options opts = h2_serverconn_options_new();
    h2_serverconn_options_exec(opts, exec);
    h2_serverconn_options_set(opts, H2_OPT_MAX_CONCURRENT_STREAMS, 256);
    if (max_header_list) h2_serverconn_options_set(opts, H2_OPT_MAX_HEADER_LIST_SIZE, max_header_list);
    h2_serverconn_options_set(opts, H2_OPT_INITIAL_WINDOW_SIZE, 1u << 20);
    h2_serverconn_options_set(opts, H2_OPT_CONNECTION_WINDOW, 8u << 20);
    push(h2_serverconn_handshake(io, opts), UD(K_HANDSHAKE, slot)); /* io, opts taken */
  }
}

/* One readiness of a connection's socket. */
static void on_event(uint64_t data, uint32_t events) {
  uint32_t slot = (uint32_t)data & 0xFFFF;
  struct conn *c = &conns[slot];
  if (c->fd < 0 || c->gen != (uint32_t)(data >> 16)) return; /* stale: the slot moved on */
  if (c->closing) {
    if (events & (EPOLLERR | EPOLLHUP)) { close_fd(c); return; }
    c->wblocked = 0;
    if (flush_out(c) != 0 || c->out_len == 0) close_fd(c);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    c->readable = 1; /* also for EOF and errors: the read says which */
    wake(&c->read_waker);
  }
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    c->wblocked = 0;
    if (flush_out(c) != 0) { fail_conn(c); return; }
    if (c->out_len - c->out_off < OUT_CAP) wake(&c->write_waker);
  }
}

/* End of a turn: every connection's output in one send each. */
static void flush_all(void) {
  for (uint32_t i = 0; i < nflush; i++) {
    struct conn *c = &conns[flush_list[i]];
    c->queued = 0;
    if (c->fd < 0 || c->closing || c->failed) continue;
    if (flush_out(c) != 0) fail_conn(c);
    else if (c->write_waker && c->out_len - c->out_off < OUT_CAP && !c->wblocked) wake(&c->write_waker);
  }
  nflush = 0;
}

/* Closing connections whose last bytes waited long enough: closed now. */
static void expire_lingering(int64_t now) {
  for (uint32_t i = 0; lingering && i < MAX_CONNS; i++)
    if (conns[i].fd >= 0 && conns[i].closing && conns[i].linger_until <= now) close_fd(&conns[i]);
}

static void reset_conns(void) {
  nfree = nflush = lingering = 0;
  for (uint32_t i = MAX_CONNS; i > 0; i--) {
    conns[i - 1].fd = -1;
    free_slots[nfree++] = i - 1;
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
    free(conns[i].out);
    memset(&conns[i], 0, sizeof conns[i]);
    failed++;
  }
  reset_conns();
  for (int i = 0; i < MAX_FILES; i++)
    if (files[i].fd >= 0) { close(files[i].fd); files[i].fd = -1; }
  nfree_reqs = nanswers = 0;
  for (size_t i = nreqs; i > 0; i--) { reqs[i - 1].used = 0; free_reqs[nfree_reqs++] = (uint32_t)(i - 1); }
  trap_armed = 0;
  woke = 0;
  h2w_reinstantiate();
  mem_init();
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
    else if (strcmp(argv[i], "--max-header-list") == 0 && i + 1 < argc) max_header_list = (uint32_t)atol(argv[++i]);
    else { fprintf(stderr, "usage: server [--port N] [--dir DIR [--copy]] [--max-header-list BYTES] [--inject-trap PATH]\n"); return 2; }
  }
  for (int i = 0; i < MAX_FILES; i++) files[i].fd = -1;
  for (int i = 0; i < FILE_CACHE; i++) file_cache[i].fd = -1;
  signal(SIGPIPE, SIG_IGN);
  /* As many descriptors as the hard limit allows: no select() bound any more. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  conns = calloc(MAX_CONNS, sizeof *conns);
  if (!conns) { fprintf(stderr, "server: out of memory\n"); return 1; }
  reset_conns();

  h2w_init();
  mem_init();
  exec = h2_executor_new();

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 4096) != 0) {
    perror("server: listen");
    return 1;
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.u64 = LISTENER_EVENT}; /* level-triggered */
  if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0) {
    perror("server: epoll");
    return 1;
  }
  fprintf(stderr, "listening on http://127.0.0.1:%d\n", port);

  /* Time is told when an event fires, before the calls it leads to (accept, wakes, poll):
   * a handshake never starts with the time of the last event, however long ago. */
  h2_executor_set_time(exec, h2w_now_ms());
  struct epoll_event events[512];
  /* A trap anywhere in the loop lands here (setjmp: main's frame outlives it, and nothing
   * set before this point changes after it). Set once, not every turn: sigsetjmp saves the
   * signal mask with a system call. */
  wasm_rt_trap_t trap = wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) recover(trap);
  for (;;) {
    woke = 0;
    for (;;) {
      h2_task task;
      while ((task = h2_executor_poll(exec)) != 0) on_task(task);
      if (nanswers == 0) break;
      answer_all();
    }
    flush_all();

    /* A waker woken since the executor went quiet (a flush made room): poll again first. */
    int64_t wait_ms = 1000, deadline = woke ? 0 : h2_executor_next_deadline(exec), now = h2w_now_ms();
    if (deadline >= 0) {
      int64_t d = deadline - now;
      wait_ms = d < 0 ? 0 : d < wait_ms ? d : wait_ms;
    }
    if (lingering && wait_ms > 100) wait_ms = 100; /* closing connections' linger is checked then */
    int n = epoll_wait(epfd, events, (int)(sizeof events / sizeof *events), (int)wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    now = h2w_now_ms();
    h2_executor_set_time(exec, now);
    for (int i = 0; i < n; i++) {
      if (events[i].data.u64 == LISTENER_EVENT) accept_all(lfd);
      else on_event(events[i].data.u64, events[i].events);
    }
    if (lingering) expire_lingering(now);
  }
}
