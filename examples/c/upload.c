/*
 * upload.c — hyper's capi/examples/upload.c over h2wasm (h2c, prior knowledge): the
 * client.c event loop, with a file streamed as the request body. The body is a data
 * source (h2_body_new + h2_body_set_userdata): the core calls the h2_host.body_read
 * import whenever the peer's flow-control windows let it send, and the callback reads
 * the next piece of the file straight into linear memory (0 at the end of the file).
 *
 *   upload HOST PORT PATH FILE
 *
 * POSTs FILE to PATH; the response body goes to stdout, status and headers to stderr.
 * Exit status 0 once the response body ended, 1 on any error.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define H2W_HOST_IO_READ 1
#define H2W_HOST_IO_WRITE 1
#define H2W_HOST_BODY_READ 1
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

/* The request body's data source (body userdata 1): the file, read as the core asks. */
static int upload_fd = -1;
static uint64_t upload_sent;

uint32_t h2_host_body_read(uint32_t userdata, h2_context ctx, h2_ptr buf, uint32_t len) {
  (void)ctx;
  if (userdata != 1) return H2_IO_ERROR;
  ssize_t n;
  do n = read(upload_fd, h2w_ptr(buf), len); while (n < 0 && errno == EINTR);
  if (n < 0) return H2_IO_ERROR; /* the stream is reset with INTERNAL_ERROR */
  upload_sent += (uint64_t)n;
  return (uint32_t)n;            /* 0: the end of the file, END_STREAM */
}

enum { EXAMPLE_NOT_SET = 0, EXAMPLE_HANDSHAKE, EXAMPLE_SEND, EXAMPLE_RESP_BODY };

static void fail_task(h2_task task, const char *what) {
  char msg[256];
  h2_error err = h2_task_value(task);
  fprintf(stderr, "upload: %s failed: %s (code %u)\n", what, h2w_error_message(err, msg, sizeof msg), h2_error_code(err));
  exit(1);
}

int main(int argc, char *argv[]) {
  if (argc != 5) {
    fprintf(stderr, "usage: upload HOST PORT PATH FILE\n");
    return 2;
  }
  const char *host = argv[1], *port = argv[2], *path = argv[3], *file = argv[4];
  upload_fd = open(file, O_RDONLY);
  struct stat st;
  if (upload_fd < 0 || fstat(upload_fd, &st) != 0) {
    fprintf(stderr, "upload: cannot open %s\n", file);
    return 1;
  }

  H2W_TRAP_GUARD();
  h2w_init();

  int fd = h2w_connect(host, port);
  if (fd < 0) {
    fprintf(stderr, "upload: cannot connect to %s:%s\n", host, port);
    return 1;
  }
  conn_data.fd = fd;

  h2_executor exec = h2_executor_new();
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
      switch (h2_task_userdata(task)) {
      case EXAMPLE_HANDSHAKE: {
        if (type == H2_TASK_ERROR) fail_task(task, "handshake");
        client = h2_task_value(task);
        h2_task_free(task);
        h2_request req = h2_request_new();
        char authority[300];
        snprintf(authority, sizeof authority, "%s:%s", host, port);
        if (h2w_request_set_method(req, "POST") || h2w_request_set_uri_parts(req, "http", authority, path)) {
          fprintf(stderr, "upload: bad request target\n");
          return 1;
        }
        h2w_headers_add(h2_request_headers(req), "user-agent", "h2wasm-c-upload");
        char length[32];
        snprintf(length, sizeof length, "%llu", (unsigned long long)st.st_size);
        h2w_headers_add(h2_request_headers(req), "content-length", length);
        h2_body upload = h2_body_new();
        h2_body_set_userdata(upload, 1);
        h2_request_set_body(req, upload); /* the body is taken */
        h2_task send = h2_clientconn_send(client, req); /* req is taken */
        h2_task_set_userdata(send, EXAMPLE_SEND);
        h2_executor_push(exec, send);
        break;
      }
      case EXAMPLE_SEND: {
        if (type == H2_TASK_ERROR) fail_task(task, "send");
        h2_response resp = h2_task_value(task);
        h2_task_free(task);
        fprintf(stderr, "Response Status: %u\n", h2_response_status(resp));
        h2_headers_foreach(h2_response_headers(resp), 0);
        fprintf(stderr, "\n");
        body = h2_response_body(resp);
        h2_response_free(resp);
        h2_task data = h2_body_data(body);
        h2_task_set_userdata(data, EXAMPLE_RESP_BODY);
        h2_executor_push(exec, data);
        break;
      }
      case EXAMPLE_RESP_BODY: {
        if (type == H2_TASK_ERROR) fail_task(task, "body");
        if (type == H2_TASK_BUF) {
          h2_buf buf = h2_task_value(task);
          h2_task_free(task);
          fwrite(h2w_ptr(h2_buf_bytes(buf)), 1, h2_buf_len(buf), stdout);
          h2_buf_free(buf);
          h2_task data = h2_body_data(body);
          h2_task_set_userdata(data, EXAMPLE_RESP_BODY);
          h2_executor_push(exec, data);
        } else { /* H2_TASK_EMPTY: the end of the body */
          h2_task_free(task);
          fprintf(stderr, "\n -- Done! (%llu bytes sent) -- \n", (unsigned long long)upload_sent);
          done = 1;
        }
        break;
      }
      default:
        h2_task_free(task);
        break;
      }
    }
    if (done) break;

    /* Nothing ready: wait for the socket (or the next timer). */
    if (h2w_wait_socket(fd, &conn_data.read_waker, &conn_data.write_waker, exec) < 0) {
      perror("select");
      return 1;
    }
  }

  fflush(stdout);
  h2_body_free(body);
  h2_clientconn_free(client);
  if (conn_data.read_waker) h2_waker_free(conn_data.read_waker);
  if (conn_data.write_waker) h2_waker_free(conn_data.write_waker);
  h2_executor_free(exec);
  close(fd);
  close(upload_fd);
  return 0;
}
