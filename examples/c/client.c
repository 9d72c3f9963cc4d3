/*
 * client.c — hyper's capi/examples/client.c over h2wasm (HTTP/2 with prior knowledge,
 * no TLS): a non-blocking TCP socket, select(), io callbacks that copy bytes or store a
 * waker and answer H2_IO_PENDING, an executor drained until it has nothing ready, tasks
 * told apart by their userdata: handshake, send, response, then body chunks.
 *
 *   client HOST PORT PATH
 *   client -n N -m M HOST PORT PATH      (bench mode, like h2load -n N -c 1 -m M)
 *
 * The response body, and nothing else, goes to stdout; the status and headers to stderr.
 * Exit status 0 once the body ended, 1 on any error.
 *
 * Bench mode sends N GETs of PATH over the one connection, keeping at most M in flight:
 * the same loop, with one slot per stream in flight (the slot is in the upper bits of a
 * task's userdata). Bodies are read and discarded, stdout stays empty, and the last line
 * on stderr is `requests=N ok=K seconds=S req/s=R` (ok: 2xx with the whole body; S from
 * before the TCP connect until the last response ended). Exit status 0 when ok == N.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define H2W_HOST_IO_READ 1
#define H2W_HOST_IO_WRITE 1
#include "h2wasm_host.h"

/* The connection as the io callbacks see it (userdata 1: this example has one). */
struct conn_data {
  int fd;
  h2_waker read_waker;
  h2_waker write_waker;
};
static struct conn_data conn_data = {-1, 0, 0};

uint32_t h2_host_io_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  if (userdata != 1) return H2_IO_ERROR;
  return h2w_sock_read(conn_data.fd, &conn_data.read_waker, ctx, buf, len);
}

uint32_t h2_host_io_write(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  if (userdata != 1) return H2_IO_ERROR;
  return h2w_sock_write(conn_data.fd, &conn_data.write_waker, ctx, buf, len);
}

enum { EXAMPLE_NOT_SET = 0, EXAMPLE_HANDSHAKE, EXAMPLE_SEND, EXAMPLE_RESP_BODY };

/* A task's userdata: what it is (low byte) and, for SEND and RESP_BODY, which slot (one
 * per stream in flight; always 0 outside bench mode, so the values are hyper's). */
#define TASK_ID(kind, slot) ((uint32_t)(kind) | (uint32_t)(slot) << 8)
#define TASK_KIND(userdata) ((userdata) & 0xFFu)
#define TASK_SLOT(userdata) ((userdata) >> 8)

/* Bench mode's request slots: the body being read and the response status. */
struct slot {
  h2_body body;
  uint32_t status;
};

static void print_task_error(h2_task task, const char *what) {
  char msg[256];
  h2_error err = h2_task_value(task);
  fprintf(stderr, "client: %s failed: %s (code %u)\n", what, h2w_error_message(err, msg, sizeof msg), h2_error_code(err));
  h2_error_free(err);
}

static void fail_task(h2_task task, const char *what) {
  print_task_error(task, what);
  exit(1);
}

/* Sends GET path on the connection; the response comes back as an EXAMPLE_SEND task of `slot`. */
static int send_request(h2_executor exec, h2_clientconn client, const char *authority, const char *path, uint32_t slot) {
  h2_request req = h2_request_new();
  if (h2w_request_set_method(req, "GET") || h2w_request_set_uri_parts(req, "http", authority, path)) {
    h2_request_free(req);
    fprintf(stderr, "client: bad request target\n");
    return -1;
  }
  h2w_headers_add(h2_request_headers(req), "user-agent", "h2wasm-c-client");
  h2_task send = h2_clientconn_send(client, req); /* req is taken */
  h2_task_set_userdata(send, TASK_ID(EXAMPLE_SEND, slot));
  h2_executor_push(exec, send);
  return 0;
}

/* Where h2_body_read copies what a body has buffered (in wasm memory; made at start). */
#define READ_AREA 65536
static h2_ptr read_area;
static int bench;

/* Reads what the body has buffered now, in the call (h2_body_read: no task, no buf), and
 * writes it out unless in bench mode. 1 when the body is over: nothing more will come. */
static int read_ready(h2_body body) {
  uint32_t n;
  while (read_area && (n = h2_body_read(body, read_area, READ_AREA)) > 0)
    if (!bench) fwrite(h2w_ptr(read_area), 1, n, stdout);
  return h2_body_is_end(body) == 1;
}

/* Asks for the next chunk of a body, as an EXAMPLE_RESP_BODY task of `slot`. */
static void read_body(h2_executor exec, h2_body body, uint32_t slot) {
  h2_task data = h2_body_data(body);
  h2_task_set_userdata(data, TASK_ID(EXAMPLE_RESP_BODY, slot));
  h2_executor_push(exec, data);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Bench mode (-n/-m): total requests, most in flight at once. File scope, so the trap
 * guard's setjmp in main() cannot clobber them. */
static long total = 1, max_streams = 1;

static int positive_arg(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == 0 || *end != 0 || v < 1 || v > 100000000) return -1;
  *out = v;
  return 0;
}

int main(int argc, char *argv[]) {
  /* Bench mode: -n N and/or -m M before the positional arguments (h2load's defaults: 1). */
  int arg = 1;
  while (arg + 1 < argc && (!strcmp(argv[arg], "-n") || !strcmp(argv[arg], "-m"))) {
    if (positive_arg(argv[arg + 1], argv[arg][1] == 'n' ? &total : &max_streams)) {
      fprintf(stderr, "client: %s needs a positive number, got %s\n", argv[arg], argv[arg + 1]);
      return 2;
    }
    bench = 1;
    arg += 2;
  }
  if (argc - arg != 3) {
    fprintf(stderr, "usage: client [-n N -m M] HOST PORT PATH\n");
    return 2;
  }
  const char *host = argv[arg], *port = argv[arg + 1], *path = argv[arg + 2];
  if (max_streams > total) max_streams = total;
  char authority[300];
  snprintf(authority, sizeof authority, "%s:%s", host, port);

  H2W_TRAP_GUARD();
  h2w_init();

  struct slot *slots = calloc((size_t)max_streams, sizeof *slots);
  uint32_t *free_slots = calloc((size_t)max_streams, sizeof *free_slots), free_count = 0;
  long started = 0, finished = 0, ok = 0, errors = 0;
  double t0 = now_seconds();

  int fd = h2w_connect(host, port);
  if (fd < 0) {
    fprintf(stderr, "client: cannot connect to %s:%s\n", host, port);
    return 1;
  }
  conn_data.fd = fd;

  h2_executor exec = h2_executor_new();
  read_area = h2_alloc(READ_AREA); /* 0: every body is read through tasks */
  h2_executor_set_time(exec, h2w_now_ms()); /* before the handshake, as at every event */
  h2w_client_handshake(exec, EXAMPLE_HANDSHAKE);

  h2_clientconn client = 0;
  h2_body body = 0;
  int done = 0;
  while (!done) {
    h2_executor_set_time(exec, h2w_now_ms());
    /* Drain the executor: every task that is ready. */
    h2_task task;
    while (!done && (task = h2_executor_poll(exec)) != 0) {
      uint32_t type = h2_task_type(task);
      uint32_t userdata = h2_task_userdata(task), slot = TASK_SLOT(userdata);
      int request_over = 0; /* bench mode: this slot's request ended, well or not */
      switch (TASK_KIND(userdata)) {
      case EXAMPLE_HANDSHAKE: {
        if (type == H2_TASK_ERROR) fail_task(task, "handshake");
        client = h2_task_value(task);
        h2_task_free(task);
        /* One request, or in bench mode the first M: one per slot. */
        for (; started < max_streams; started++)
          if (send_request(exec, client, authority, path, (uint32_t)started)) return 1;
        break;
      }
      case EXAMPLE_SEND: {
        if (type == H2_TASK_ERROR) {
          if (!bench) fail_task(task, "send");
          if (++errors <= 3) print_task_error(task, "send");
          h2_task_free(task);
          request_over = 1;
          break;
        }
        h2_response resp = h2_task_value(task);
        h2_task_free(task);
        if (bench) {
          slots[slot].status = h2_response_status(resp);
          slots[slot].body = h2_response_body(resp);
          h2_response_free(resp);
          /* A small body came with its head: read it now, and the request is over. */
          if (!read_ready(slots[slot].body)) {
            read_body(exec, slots[slot].body, slot);
            break;
          }
          if (slots[slot].status >= 200 && slots[slot].status < 300) ok++;
          h2_body_free(slots[slot].body);
          slots[slot].body = 0;
          request_over = 1;
          break;
        }
        fprintf(stderr, "Response Status: %u\n", h2_response_status(resp));
        h2_headers_foreach(h2_response_headers(resp), 0);
        fprintf(stderr, "\n");
        body = h2_response_body(resp);
        h2_response_free(resp);
        read_body(exec, body, slot);
        break;
      }
      case EXAMPLE_RESP_BODY: {
        if (type == H2_TASK_ERROR) {
          if (!bench) fail_task(task, "body");
          if (++errors <= 3) print_task_error(task, "body");
          h2_task_free(task);
          h2_body_free(slots[slot].body);
          slots[slot].body = 0;
          request_over = 1;
          break;
        }
        if (type == H2_TASK_BUF) {
          h2_buf buf = h2_task_value(task);
          h2_task_free(task);
          if (!bench) fwrite(h2w_ptr(h2_buf_bytes(buf)), 1, h2_buf_len(buf), stdout);
          h2_buf_free(buf); /* bench mode: read and discarded */
          read_body(exec, bench ? slots[slot].body : body, slot);
          break;
        }
        /* H2_TASK_EMPTY: the end of the body */
        h2_task_free(task);
        if (!bench) {
          fprintf(stderr, "\n -- Done! -- \n");
          done = 1;
          break;
        }
        if (slots[slot].status >= 200 && slots[slot].status < 300) ok++;
        h2_body_free(slots[slot].body);
        slots[slot].body = 0;
        request_over = 1;
        break;
      }
      default:
        h2_task_free(task);
        break;
      }
      /* Bench mode: the request that ended frees its slot for the next one. */
      if (request_over) {
        if (++finished == total) done = 1;
        else free_slots[free_count++] = slot;
      }
    }
    if (done) break;

    /* Bench mode: M requests in flight. The slots freed in this round get their next
     * requests together, so the next poll writes all their HEADERS at once (as h2load
     * does); then drain again before waiting. */
    if (free_count > 0 && started < total) {
      while (free_count > 0 && started < total) {
        if (send_request(exec, client, authority, path, free_slots[--free_count])) return 1;
        started++;
      }
      continue;
    }

    /* Nothing ready: wait for the socket (or the next timer). */
    if (h2w_wait_socket(fd, &conn_data.read_waker, &conn_data.write_waker, exec) < 0) {
      perror("select");
      return 1;
    }
  }

  double seconds = now_seconds() - t0;
  fflush(stdout);
  if (bench) {
    /* The record line: requests asked for, the 2xx ones read to their end, the time. */
    if (errors > 3) fprintf(stderr, "client: %ld requests failed (the first 3 shown)\n", errors);
    fprintf(stderr, "requests=%ld ok=%ld seconds=%.3f req/s=%.0f\n", total, ok, seconds, seconds > 0 ? (double)ok / seconds : 0.0);
  }
  free(slots);
  free(free_slots);
  h2_body_free(body);
  h2_clientconn_free(client);
  if (conn_data.read_waker) h2_waker_free(conn_data.read_waker);
  if (conn_data.write_waker) h2_waker_free(conn_data.write_waker);
  h2_executor_free(exec);
  close(fd);
  return bench && ok != total ? 1 : 0;
}
