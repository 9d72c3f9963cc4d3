/*
 * server.c — a small HTTP/2 server (h2c, prior knowledge) over the h2wasm ABI: one
 * executor, many connections, a select() loop. Every request is read to its end and
 * answered 200 with a short text body; a request with a body (POST) is told how many
 * bytes arrived ("received N bytes").
 *
 *   server [--port N]        listens on 127.0.0.1:N (default 8080) until killed
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
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define H2W_HOST_IO_READ 1
#define H2W_HOST_IO_WRITE 1
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
};
static struct req *reqs;
static size_t nreqs;

static const char *trap_path; /* --inject-trap */
static int trap_armed;

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

static h2_executor exec;

static void push(h2_task task, uint32_t userdata) {
  if (!task) return;
  h2_task_set_userdata(task, userdata);
  h2_executor_push(exec, task);
}

static void close_conn(uint32_t slot) {
  struct conn *c = &conns[slot];
  if (c->fd < 0) return;
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

/* The whole request arrived: 200 with a short body. */
static void answer(uint32_t i) {
  struct req *r = &reqs[i];
  char text[128];
  int n = r->has_body ? snprintf(text, sizeof text, "received %llu bytes\n", (unsigned long long)r->received)
                      : snprintf(text, sizeof text, "hello from h2wasm (C, wasm2c)\n");
  h2_response resp = h2_response_new();
  h2_response_set_status(resp, 200);
  h2w_headers_add(h2_response_headers(resp), "content-type", "text/plain");
  h2_send_stream send = h2_respond_send_response(r->respond, resp, 0); /* resp is taken */
  if (send) {
    h2_ptr p = h2w_copy_in(text, (size_t)n);
    h2_send_stream_send_data(send, p, (uint32_t)n, 1);
    h2_free(p);
    h2_send_stream_free(send);
  }
  free_req(i);
}

static void on_task(h2_task task) {
  uint32_t type = h2_task_type(task), ud = h2_task_userdata(task);
  uint32_t kind = ud >> 24, index = ud & 0xFFFFFF;
  switch (kind) {
  case K_HANDSHAKE:
    if (type == H2_TASK_SERVERCONN) {
      conns[index].conn = h2_task_value(task);
      push(h2_serverconn_accept(conns[index].conn), UD(K_ACCEPT, index));
      push(h2_serverconn_poll_close(conns[index].conn), UD(K_CLOSE, index));
    } else {
      close_conn(index); /* no preface: the peer went away or spoke something else */
    }
    break;
  case K_ACCEPT:
    if (type == H2_TASK_REQUEST) {
      h2_request req = h2_task_value(task);
      char method[16], path[256];
      h2w_request_pseudo(req, H2_PSEUDO_METHOD, method, sizeof method);
      if (trap_path && h2w_request_pseudo(req, H2_PSEUDO_PATH, path, sizeof path) >= 0 && strcmp(path, trap_path) == 0) trap_armed = 1;
      uint32_t i = new_req();
      reqs[i].has_body = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
      reqs[i].body = h2_request_body(req);
      reqs[i].respond = h2_request_respond(req);
      h2_request_free(req);
      push(h2_body_data(reqs[i].body), UD(K_BODY, i));
      push(h2_serverconn_accept(conns[index].conn), UD(K_ACCEPT, index));
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
    else { fprintf(stderr, "usage: server [--port N] [--inject-trap PATH]\n"); return 2; }
  }
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
