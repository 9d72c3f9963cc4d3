// Command server is an h2c (HTTP/2 prior knowledge) server on h2wasm under wazero:
//
//	go run ./server [--port 8080] [--host 127.0.0.1] [-wasm PATH] [-inject-trap PATH]
//
// Every request is answered 200 with a short text body: GET (and any other method
// without a body) gets a greeting, a request with a body gets the byte count
// ("received N bytes"). Try it with
//
//	curl --http2-prior-knowledge http://127.0.0.1:8080/
//	curl --http2-prior-knowledge --data-binary @file http://127.0.0.1:8080/
//	h2load -n 10000 -c 4 -m 20 http://127.0.0.1:8080/
//
// One goroutine (the loop in h2wasm.Host.Run) owns the wasm instance and every
// connection; the accept goroutine hands new conns to it with Host.Post. A trap in the
// instance does not end the server: its connections fail, one line says so, and new
// connections are served by a fresh instance (-inject-trap PATH, for tests, makes a
// request for PATH trap the instance).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"example.com/h2wasm-go/h2wasm"
)

var trapPath string

func main() {
	port := flag.Int("port", 8080, "TCP port (0: any free one)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	wasmPath := flag.String("wasm", h2wasm.DefaultWasmPath(), "path to h2wasm.wasm")
	flag.StringVar(&trapPath, "inject-trap", "", "for tests: a request for this path makes the next io_write trap inside the module")
	flag.Parse()
	if err := serve(*host, *port, *wasmPath); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func serve(host string, port int, wasmPath string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := h2wasm.New(ctx, wasmPath)
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintf(os.Stderr, "listening on http://%s (h2c, wazero %s)\n", ln.Addr(), h2wasm.WazeroVersion)

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetNoDelay(true)
			}
			h.Post(func() { startConn(h, c) })
		}
	}()
	err = h.Run(ctx)
	if err == context.Canceled {
		return nil
	}
	return err
}

// startConn runs on the loop: handshake, then accept requests until the connection ends.
func startConn(h *h2wasm.Host, c net.Conn) {
	io, closeIO := h.NewIO(c)
	opts := h.Call("h2_serverconn_options_new")
	h.Call("h2_serverconn_options_exec", uint64(opts), uint64(h.Exec))
	var conn uint32
	var accept h2wasm.TaskFunc
	accept = func(task, typ uint32) {
		if typ != h2wasm.TaskRequest {
			return // EMPTY: no more requests on this connection (poll_close cleans up)
		}
		handle(h, h.TaskValue(task))
		h.Push(h.Call("h2_serverconn_accept", uint64(conn)), accept)
	}
	err := h.Push(h.Call("h2_serverconn_handshake", uint64(io), uint64(opts)), func(task, typ uint32) {
		if typ != h2wasm.TaskServerConn {
			if typ == h2wasm.TaskError {
				fmt.Fprintln(os.Stderr, "handshake:", h.TaskError(task))
			}
			closeIO()
			return
		}
		conn = h.TaskValue(task)
		h.Push(h.Call("h2_serverconn_accept", uint64(conn)), accept)
		h.Push(h.Call("h2_serverconn_poll_close", uint64(conn)), func(task, typ uint32) {
			h.Call("h2_serverconn_free", uint64(conn))
			closeIO()
		})
	})
	if err != nil {
		closeIO()
	}
}

// handle reads a request's body to the end, counting bytes, then answers it.
func handle(h *h2wasm.Host, req uint32) {
	if trapPath != "" && h.Pseudo(req, h2wasm.PseudoPath) == trapPath {
		h.InjectTrap()
	}
	body := h.Call("h2_request_body", uint64(req))
	respond := h.Call("h2_request_respond", uint64(req))
	h.Call("h2_request_free", uint64(req))
	received := 0
	var read h2wasm.TaskFunc
	read = func(task, typ uint32) {
		switch typ {
		case h2wasm.TaskBuf:
			buf := h.TaskValue(task)
			received += int(h.Call("h2_buf_len", uint64(buf)))
			h.Call("h2_buf_free", uint64(buf))
			h.Push(h.Call("h2_body_data", uint64(body)), read)
			return
		case h2wasm.TaskEmpty:
			text := "hello from h2wasm (Go host, wazero " + h2wasm.WazeroVersion + ")\n"
			if received > 0 {
				text = fmt.Sprintf("received %d bytes\n", received)
			}
			reply(h, respond, []byte(text))
		default: // the stream was reset or the connection failed
			h.Call("h2_respond_free", uint64(respond))
		}
		h.Call("h2_body_free", uint64(body))
	}
	h.Push(h.Call("h2_body_data", uint64(body)), read)
}

// reply sends 200 with body on a send stream: HEADERS, then one DATA with END_STREAM.
func reply(h *h2wasm.Host, respond uint32, body []byte) {
	resp := h.Call("h2_response_new")
	h.Call("h2_response_set_status", uint64(resp), 200)
	hdrs := h.Call("h2_response_headers", uint64(resp))
	h.AddHeader(hdrs, "content-type", "text/plain")
	h.AddHeader(hdrs, "content-length", strconv.Itoa(len(body)))
	if send := h.Call("h2_respond_send_response", uint64(respond), uint64(resp), 0); send != 0 {
		h.WithBytes(body, func(p, n uint32) uint32 {
			return h.Call("h2_send_stream_send_data", uint64(send), uint64(p), uint64(n), 1)
		})
		h.Call("h2_send_stream_free", uint64(send))
	}
	h.Call("h2_respond_free", uint64(respond))
}
