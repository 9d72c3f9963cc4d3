// Command client fetches one URL over HTTP/2 with h2wasm running under wazero:
//
//	go run ./client [-k] [-wasm PATH] [-X METHOD] [-d DATA] URL
//	go run ./client -n N -m M [other flags] URL      (bench mode, like h2load -n N -c 1 -m M)
//
// http:// is h2c with prior knowledge; https:// is TLS with ALPN h2 (-k skips
// certificate verification). The response body, and nothing else, goes to stdout; the
// status line and headers go to stderr. Exit status 1 on any failure, 2 for a status
// of 400 or more.
//
// Bench mode (-n and/or -m given) sends N requests over one connection, at most M in
// flight, reads every body and discards it (the bufs are freed in wasm memory, never
// copied out), writes nothing to stdout, and ends stderr with the line
// `requests=N ok=K seconds=S req/s=R` (ok: 2xx with the whole body; S from before the
// dial until the last response ended). Exit status 0 when ok == N, else 1.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime/pprof"
	"time"

	"example.com/h2wasm-go/h2wasm"
)

func main() {
	wasmPath := flag.String("wasm", h2wasm.DefaultWasmPath(), "path to h2wasm.wasm")
	insecure := flag.Bool("k", false, "https: do not verify the server's certificate")
	method := flag.String("X", "GET", "request method")
	data := flag.String("d", "", "request body")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	total := flag.Int("n", 1, "bench mode: total requests")
	streams := flag.Int("m", 1, "bench mode: most requests in flight at once")
	cpuProfile := flag.String("cpuprofile", "", "write a pprof CPU profile of the run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "client: -cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile() // os.Exit below skips it: bench mode stops it itself
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: client [-n N -m M] [-k] [-wasm PATH] [-X METHOD] [-d DATA] URL")
		os.Exit(1)
	}
	benchMode := false
	flag.Visit(func(f *flag.Flag) { benchMode = benchMode || f.Name == "n" || f.Name == "m" })
	if benchMode {
		if *total < 1 || *streams < 1 {
			fmt.Fprintln(os.Stderr, "client: -n and -m need positive numbers")
			os.Exit(1)
		}
		r, err := bench(flag.Arg(0), *wasmPath, *method, *data, *insecure, *timeout, *total, min(*streams, *total))
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
		}
		rate := 0.0
		if r.seconds > 0 {
			rate = float64(r.ok) / r.seconds
		}
		fmt.Fprintf(os.Stderr, "requests=%d ok=%d seconds=%.3f req/s=%.0f\n", *total, r.ok, r.seconds, rate)
		pprof.StopCPUProfile()
		if err != nil || r.ok != *total {
			os.Exit(1)
		}
		return
	}
	status, err := fetch(flag.Arg(0), *wasmPath, *method, *data, *insecure, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	if status >= 400 {
		os.Exit(2)
	}
}

func dial(u *url.URL, insecure bool) (net.Conn, error) {
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	switch u.Scheme {
	case "http":
		return conn, nil
	case "https":
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"h2"}, InsecureSkipVerify: insecure})
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return nil, err
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			tc.Close()
			return nil, fmt.Errorf("server did not negotiate h2 over ALPN (got %q)", p)
		}
		return tc, nil
	}
	conn.Close()
	return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
}

// session is what fetch and bench both start from: the URL (an empty path made /), and
// h2wasm loaded from wasmPath under a context that ends after timeout.
type session struct {
	u   *url.URL
	ctx context.Context
	h   *h2wasm.Host
	// close closes h, then ends ctx.
	close func()
}

func newSession(rawURL, wasmPath string, timeout time.Duration) (*session, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Path == "" {
		u.Path = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	h, err := h2wasm.New(ctx, wasmPath)
	if err != nil {
		cancel()
		return nil, err
	}
	h.WriteThrough = true
	return &session{u: u, ctx: ctx, h: h, close: func() { h.Close(); cancel() }}, nil
}

// clientOptions makes the connection options both modes use: h's executor, and large
// receive windows, so that bodies stream without waiting on WINDOW_UPDATE round trips.
func clientOptions(h *h2wasm.Host) uint32 {
	opts := h.Call("h2_clientconn_options_new")
	h.Call("h2_clientconn_options_exec", uint64(opts), uint64(h.Exec))
	h.Call("h2_clientconn_options_set", uint64(opts), h2wasm.OptInitialWindowSize, 4<<20)
	h.Call("h2_clientconn_options_set", uint64(opts), h2wasm.OptConnectionWindow, 16<<20)
	return opts
}

func fetch(rawURL, wasmPath, method, data string, insecure bool, timeout time.Duration) (status uint32, err error) {
	s, err := newSession(rawURL, wasmPath, timeout)
	if err != nil {
		return 0, err
	}
	defer s.close()
	u, ctx, h := s.u, s.ctx, s.h
	conn, err := dial(u, insecure)
	if err != nil {
		return 0, err
	}
	io, closeIO := h.NewIO(conn)
	defer closeIO()

	out := bufio.NewWriterSize(os.Stdout, 256<<10)
	defer out.Flush()
	var failed error
	fail := func(e error) { failed = e; h.Stop() }

	opts := clientOptions(h)

	var clientconn, body uint32
	var readBody h2wasm.TaskFunc
	readBody = func(task, typ uint32) {
		switch typ {
		case h2wasm.TaskBuf:
			if _, err := out.Write(h.TakeBuf(task)); err != nil {
				fail(err)
				return
			}
			if err := h.Push(h.Call("h2_body_data", uint64(body)), readBody); err != nil {
				fail(err)
			}
		case h2wasm.TaskEmpty: // the end of the body
			h.Stop()
		case h2wasm.TaskError:
			fail(h.TaskError(task))
		}
	}
	// The status line and the headers go to stderr.
	printHead := func(resp, status uint32) {
		fmt.Fprintf(os.Stderr, "HTTP/2 %d\n", status)
		for _, f := range h.Headers(h.Call("h2_response_headers", uint64(resp))) {
			fmt.Fprintf(os.Stderr, "%s: %s\n", f[0], f[1])
		}
	}
	onResponse := responseHandler(h, printHead, &status, &body, readBody, fail, fail)
	onHandshake := func(task, typ uint32) {
		if typ != h2wasm.TaskClientConn {
			fail(taskErr(h, task, typ, "handshake"))
			return
		}
		clientconn = h.TaskValue(task)
		req, err := newRequest(h, u.String(), method, data)
		if err != nil {
			fail(err)
			return
		}
		if err := h.Push(h.Call("h2_clientconn_send", uint64(clientconn), uint64(req)), onResponse); err != nil {
			fail(err)
		}
	}
	if err := h.Push(h.Call("h2_clientconn_handshake", uint64(io), uint64(opts)), onHandshake); err != nil {
		return 0, err
	}
	if err := h.Run(ctx); err != nil {
		return status, err
	}
	if body != 0 {
		h.Call("h2_body_free", uint64(body))
	}
	if clientconn != 0 {
		h.Call("h2_clientconn_free", uint64(clientconn))
	}
	return status, failed
}

// userAgent is the user-agent header every request carries.
const userAgent = "h2wasm-go/" + h2wasm.WazeroVersion

// newRequest makes the request that fetch sends: method, URI, a user-agent header and,
// when data is not empty, data as its body. When the engine refuses the URI the request
// is freed and an error comes back instead. uri is u.String(), computed once by the caller.
func newRequest(h *h2wasm.Host, uri, method, data string) (uint32, error) {
	return newRequester(h, uri, method, data).make()
}

// requester makes the same request again and again (bench mode sends thousands): the
// strings are interned in wasm memory (written once, not allocated, copied and freed for
// every request) and the exports are looked up once.
type requester struct {
	h                            *h2wasm.Host
	uri, method, data            string
	gen                          uint32 // the instance the interned strings below belong to
	inMethod, inURI              [2]uint64
	inUAName, inUAValue          [2]uint64
	fnNew, fnSetMethod, fnSetURI *h2wasm.Fn
	fnHeaders, fnAddHeader       *h2wasm.Fn
}

func newRequester(h *h2wasm.Host, uri, method, data string) *requester {
	return &requester{
		h: h, uri: uri, method: method, data: data,
		fnNew: h.Fn("h2_request_new"), fnSetMethod: h.Fn("h2_request_set_method"), fnSetURI: h.Fn("h2_request_set_uri"),
		fnHeaders: h.Fn("h2_request_headers"), fnAddHeader: h.Fn("h2_headers_add"),
	}
}

func (q *requester) intern(s string) [2]uint64 {
	p, n := q.h.Intern(s)
	return [2]uint64{uint64(p), uint64(n)}
}

func (q *requester) make() (uint32, error) {
	h := q.h
	if g := h.Generation(); q.gen != g { // a trap replaced the instance: intern again
		q.inMethod, q.inURI = q.intern(q.method), q.intern(q.uri)
		q.inUAName, q.inUAValue = q.intern("user-agent"), q.intern(userAgent)
		q.gen = g
	}
	req := q.fnNew.Call()
	if q.method != "GET" { // a new request is a GET (include/h2wasm.h): one call fewer
		q.fnSetMethod.Call(uint64(req), q.inMethod[0], q.inMethod[1])
	}
	if rc := q.fnSetURI.Call(uint64(req), q.inURI[0], q.inURI[1]); rc != 0 {
		h.Call("h2_request_free", uint64(req))
		return 0, fmt.Errorf("h2_request_set_uri: code %d", rc)
	}
	q.fnAddHeader.Call(uint64(q.fnHeaders.Call(uint64(req))), q.inUAName[0], q.inUAName[1], q.inUAValue[0], q.inUAValue[1])
	if q.data != "" {
		h.Call("h2_request_set_body", uint64(req), uint64(h.NewBody([]byte(q.data))))
	}
	return req, nil
}

// responseHandler makes the task func that a sent request's response goes to, in fetch
// and in bench: it stores the status in *status, lets head (when not nil) see the
// response and its status, stores the body in *body, frees the response and starts
// reading the body with readBody. A task that ended without a response goes to
// noResponse; a body read that cannot start, to fail.
func responseHandler(h *h2wasm.Host, head func(resp, status uint32), status, body *uint32, readBody h2wasm.TaskFunc, noResponse, fail func(error)) h2wasm.TaskFunc {
	return func(task, typ uint32) {
		if typ != h2wasm.TaskResponse {
			noResponse(taskErr(h, task, typ, "response"))
			return
		}
		resp := h.TaskValue(task)
		*status = h.Call("h2_response_status", uint64(resp))
		if head != nil {
			head(resp, *status)
		}
		*body = h.Call("h2_response_body", uint64(resp))
		h.Call("h2_response_free", uint64(resp))
		if err := h.Push(h.Call("h2_body_data", uint64(*body)), readBody); err != nil {
			fail(err)
		}
	}
}

func taskErr(h *h2wasm.Host, task, typ uint32, what string) error {
	if typ == h2wasm.TaskError {
		return fmt.Errorf("%s: %w", what, h.TaskError(task))
	}
	return errors.New(what + ": unexpected task type " + fmt.Sprint(typ))
}
