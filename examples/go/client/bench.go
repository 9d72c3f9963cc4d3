package main

import (
	"fmt"
	"os"
	"time"

	"example.com/h2wasm-go/h2wasm"
)

// benchResult is what bench mode reports: responses that were 2xx and read to their end,
// and the seconds from before the dial until the last response ended.
type benchResult struct {
	ok      int
	seconds float64
}

// bench sends total requests for rawURL over one connection, keeping at most streams of
// them in flight: each one that ends (well or not) frees a slot for the next, and the
// freed slots are refilled together once the executor is drained. Bodies are read chunk
// by chunk and each buf is freed where it is, in wasm memory.
func bench(rawURL, wasmPath, method, data string, insecure bool, timeout time.Duration, total, streams int) (r benchResult, err error) {
	s, err := newSession(rawURL, wasmPath, timeout)
	if err != nil {
		return r, err
	}
	defer s.close()
	u, ctx, h := s.u, s.ctx, s.h
	uri := u.String()

	t0 := time.Now()
	conn, err := dial(u, insecure)
	if err != nil {
		r.seconds = time.Since(t0).Seconds()
		return r, err
	}
	io, closeIO := h.NewIO(conn)
	defer closeIO()

	var failed error
	fail := func(e error) { failed = e; h.Stop() }
	started, finished, errs := 0, 0, 0
	var clientconn uint32
	var send func()

	// refill starts a request for every slot freed since the last refill. It runs as a
	// Post, after the loop drained the executor, so the HEADERS of all of them go out in
	// one io_write (as h2load batches its writes) instead of one write per request; and
	// at once when half the slots are free, so that the server has the next requests
	// while the rest of a batch of responses is still being read (the two sides work
	// side by side instead of taking turns).
	freed, refillPosted := 0, false
	refill := func() {
		for ; freed > 0 && started < total && failed == nil; freed-- {
			send()
		}
	}
	half := max(streams/2, 1)
	// over ends one request: counts it, reports the first few failures, frees its slot.
	over := func(e error) {
		if e != nil {
			if errs++; errs <= 3 {
				fmt.Fprintln(os.Stderr, "client:", e)
			}
		}
		if finished++; finished == total {
			h.Stop()
		} else if started < total {
			freed++
			if freed >= half {
				refill()
			} else if !refillPosted {
				refillPosted = true
				h.Post(func() { refillPosted = false; refill() })
			}
		}
	}

	send = func() {
		started++
		req, err := newRequest(h, uri, method, data)
		if err != nil {
			fail(err)
			return
		}
		var status, body uint32
		var readBody h2wasm.TaskFunc
		ended := func() {
			if status >= 200 && status < 300 {
				r.ok++
			}
			h.Call("h2_body_free", uint64(body))
			over(nil)
		}
		readBody = func(task, typ uint32) {
			switch typ {
			case h2wasm.TaskBuf: // read and discarded
				h.Call("h2_buf_free", uint64(h.TaskValue(task)))
				// The DATA with END_STREAM came with it (a small body does): the end
				// is known now, without another h2_body_data task to say so.
				if h.Call("h2_body_is_end", uint64(body)) == 1 {
					ended()
					return
				}
				if err := h.Push(h.Call("h2_body_data", uint64(body)), readBody); err != nil {
					fail(err)
				}
				return
			case h2wasm.TaskEmpty: // the end of the body
				ended()
			default:
				h.Call("h2_body_free", uint64(body))
				over(taskErr(h, task, typ, "body"))
			}
		}
		onResponse := responseHandler(h, nil, &status, &body, readBody, over, fail)
		if err := h.Push(h.Call("h2_clientconn_send", uint64(clientconn), uint64(req)), onResponse); err != nil {
			fail(err)
		}
	}

	opts := clientOptions(h)
	onHandshake := func(task, typ uint32) {
		if typ != h2wasm.TaskClientConn {
			fail(taskErr(h, task, typ, "handshake"))
			return
		}
		clientconn = h.TaskValue(task)
		for started < streams && failed == nil {
			send()
		}
	}
	if err := h.Push(h.Call("h2_clientconn_handshake", uint64(io), uint64(opts)), onHandshake); err != nil {
		return r, err
	}
	err = h.Run(ctx)
	r.seconds = time.Since(t0).Seconds()
	if err != nil {
		return r, err
	}
	if clientconn != 0 {
		h.Call("h2_clientconn_free", uint64(clientconn))
	}
	if failed == nil && errs > 3 {
		failed = fmt.Errorf("%d requests failed (the first 3 shown)", errs)
	}
	return r, failed
}
