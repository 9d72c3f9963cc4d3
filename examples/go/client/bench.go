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

// benchRun is bench mode's state, owned by the loop.
type benchRun struct {
	h          *h2wasm.Host
	req        *requester
	clientconn uint32
	total      int
	started    int
	finished   int
	errs       int
	ok         int
	failed     error
	// free: slots freed since the last refill; ended: bodies read to their end, freed
	// together at the drain; drainPosted: b.drained waits for the drain (WhenDrained).
	free        []*benchSlot
	ended       []uint32
	drainPosted bool
	half        int

	fnSend, fnStatus, fnBody, fnRespFree, fnBodyData    *h2wasm.Fn
	fnIsEnd, fnBodyFree, fnRelease, fnBufLen, fnBufFree *h2wasm.Fn
	fnBodyRead                                          *h2wasm.Fn
	// readArea: wasm memory h2_body_read copies a body's buffered bytes into (0: none,
	// every body is read through tasks).
	readArea uint32
}

// readAreaSize: what h2_body_read may copy at once (bench mode discards it).
const readAreaSize = 16384

// benchSlot is one stream in flight: its response's status and body. Its task funcs are
// method values made once, so a request allocates nothing on the Go side.
type benchSlot struct {
	b              *benchRun
	status, body   uint32
	onResp, onBody h2wasm.TaskFunc
}

// bench sends total requests for rawURL over one connection, keeping at most streams of
// them in flight: each one that ends (well or not) frees a slot for the next. Bodies are
// read chunk by chunk and each buf is freed where it is, in wasm memory.
func bench(rawURL, wasmPath, method, data string, insecure bool, timeout time.Duration, total, streams int) (r benchResult, err error) {
	s, err := newSession(rawURL, wasmPath, timeout)
	if err != nil {
		return r, err
	}
	defer s.close()
	u, ctx, h := s.u, s.ctx, s.h

	t0 := time.Now()
	conn, err := dial(u, insecure)
	if err != nil {
		r.seconds = time.Since(t0).Seconds()
		return r, err
	}
	io, closeIO := h.NewIO(conn)
	defer closeIO()

	b := &benchRun{
		h: h, req: newRequester(h, u.String(), method, data), total: total, half: max(streams/2, 1),
		fnSend: h.Fn("h2_clientconn_send"), fnStatus: h.Fn("h2_response_status"), fnBody: h.Fn("h2_response_body"),
		fnRespFree: h.Fn("h2_response_free"), fnBodyData: h.Fn("h2_body_data"),
		fnIsEnd: h.Fn("h2_body_is_end"), fnBodyFree: h.Fn("h2_body_free"), fnRelease: h.Fn("h2_body_release"),
		fnBufLen: h.Fn("h2_buf_len"), fnBufFree: h.Fn("h2_buf_free"), fnBodyRead: h.Fn("h2_body_read"),
	}
	b.readArea = h.Call("h2_alloc", readAreaSize)
	b.free = make([]*benchSlot, 0, streams)
	slots := make([]benchSlot, streams)
	for i := range slots {
		sl := &slots[i]
		sl.b = b
		sl.onResp, sl.onBody = sl.response, sl.bodyTask
	}

	opts := clientOptions(h)
	// Manual release: reading a body does not give its bytes back to the windows (which
	// makes the executor drive the connection again at the next poll, once per request);
	// freeing it does, and bodies are freed together once the executor is drained (one
	// drive for all of them). The windows are 4 and 16 MiB, a round's bodies a few KiB.
	h.Call("h2_clientconn_options_set", uint64(opts), h2wasm.OptManualRelease, 1)
	onHandshake := func(task, typ uint32) {
		if typ != h2wasm.TaskClientConn {
			b.fail(taskErr(h, task, typ, "handshake"))
			return
		}
		b.clientconn = h.TaskValue(task)
		for i := range slots {
			if b.failed != nil {
				break
			}
			b.send(&slots[i])
		}
	}
	if err := h.Push(h.Call("h2_clientconn_handshake", uint64(io), uint64(opts)), onHandshake); err != nil {
		return r, err
	}
	err = h.Run(ctx)
	r.seconds = time.Since(t0).Seconds()
	r.ok = b.ok
	if err != nil {
		return r, err
	}
	b.freeEnded() // the last round's: Stop came before its drain
	if b.clientconn != 0 {
		h.Call("h2_clientconn_free", uint64(b.clientconn))
	}
	if b.failed == nil && b.errs > 3 {
		b.failed = fmt.Errorf("%d requests failed (the first 3 shown)", b.errs)
	}
	return r, b.failed
}

func (b *benchRun) fail(e error) { b.failed = e; b.h.Stop() }

// send starts the next request on slot sl.
func (b *benchRun) send(sl *benchSlot) {
	b.started++
	req, err := b.req.make()
	if err != nil {
		b.fail(err)
		return
	}
	sl.status, sl.body = 0, 0
	if err := b.h.PushLazy(b.fnSend.Call(uint64(b.clientconn), uint64(req)), sl.onResp); err != nil {
		b.fail(err)
	}
}

// refill starts a request on every slot freed since the last refill. It runs once the
// loop drained the executor (drained), so the HEADERS of all of them go out in one
// io_write (as h2load batches its writes) instead of one write per request; and at once
// when half the slots are free, so that the server has the next requests while the rest
// of a batch of responses is still being read (the two sides work side by side instead
// of taking turns).
func (b *benchRun) refill() {
	for len(b.free) > 0 && b.started < b.total && b.failed == nil {
		sl := b.free[len(b.free)-1]
		b.free = b.free[:len(b.free)-1]
		b.send(sl)
	}
	b.free = b.free[:0]
}

// drained runs once the executor is drained (WhenDrained): frees the bodies that ended
// in the round, then refills the slots freed since the last refill.
func (b *benchRun) drained() {
	b.drainPosted = false
	b.freeEnded()
	b.refill()
}

func (b *benchRun) freeEnded() {
	for _, body := range b.ended {
		b.fnBodyFree.Call(uint64(body))
	}
	b.ended = b.ended[:0]
}

func (b *benchRun) atDrain() {
	if !b.drainPosted {
		b.drainPosted = true
		b.h.WhenDrained(b.drained)
	}
}

// over ends the request on sl: counts it, reports the first few failures, frees the slot.
func (b *benchRun) over(sl *benchSlot, e error) {
	if e != nil {
		if b.errs++; b.errs <= 3 {
			fmt.Fprintln(os.Stderr, "client:", e)
		}
	}
	if b.finished++; b.finished == b.total {
		b.h.Stop()
		return
	}
	if b.started >= b.total {
		return
	}
	b.free = append(b.free, sl)
	if len(b.free) >= b.half {
		b.refill()
	} else {
		b.atDrain()
	}
}

// response is the send task's end: the response (its status and body kept, the rest
// freed) and the first read of its body. Pushed lazily (the type is not read): a
// response's status is never 0, and h2_response_status answers 0 for any other handle,
// such as the h2_error of a request that failed.
func (sl *benchSlot) response(task, _ uint32) {
	b := sl.b
	v := b.h.TaskValue(task)
	status := b.fnStatus.Call(uint64(v))
	if status == 0 {
		typ := b.h.TaskType(task)
		if typ == h2wasm.TaskError {
			b.over(sl, fmt.Errorf("response: %w", b.h.ErrorOf(v)))
		} else {
			b.over(sl, fmt.Errorf("response: unexpected task type %d", typ))
		}
		return
	}
	sl.status = status
	sl.body = b.fnBody.Call(uint64(v))
	b.fnRespFree.Call(uint64(v))
	// What came with the head is read in the call (h2_body_read: no task, no buf); a small
	// body that is then over ends the request here.
	if b.readArea != 0 {
		if n := b.fnBodyRead.Call(uint64(sl.body), uint64(b.readArea), readAreaSize); n > 0 {
			if b.fnIsEnd.Call(uint64(sl.body)) == 1 {
				sl.ended()
				return
			}
			b.fnRelease.Call(uint64(sl.body), uint64(n)) // more is coming: see bodyTask
		}
	}
	sl.readBody()
}

func (sl *benchSlot) readBody() {
	if err := sl.b.h.PushLazy(sl.b.fnBodyData.Call(uint64(sl.body)), sl.onBody); err != nil {
		sl.b.fail(err)
	}
}

// bodyTask is a body read's end: a buf (freed unread, with the task: bench mode discards
// bodies), the end of the body, or an error. Pushed lazily: the type is read only when
// the body is not over.
func (sl *benchSlot) bodyTask(task, _ uint32) {
	b := sl.b
	// END_STREAM came and every byte was read (a small body's one DATA frame came with
	// this buf): the end is known now, whatever the task was, without another
	// h2_body_data task to say so. The buf is left in the task, which the loop frees with
	// it when this returns (two calls fewer than taking and freeing it).
	if b.fnIsEnd.Call(uint64(sl.body)) == 1 {
		sl.ended()
		return
	}
	switch typ := b.h.TaskType(task); typ {
	case h2wasm.TaskBuf:
		// More is coming: give these bytes back to the windows now (release is manual),
		// or a body larger than the windows could never end.
		buf := b.h.TaskValue(task)
		b.fnRelease.Call(uint64(sl.body), uint64(b.fnBufLen.Call(uint64(buf))))
		b.fnBufFree.Call(uint64(buf))
		sl.readBody()
	case h2wasm.TaskEmpty: // the end of the body (trailers follow: not read)
		sl.ended()
	default:
		b.fnBodyFree.Call(uint64(sl.body))
		b.over(sl, taskErr(b.h, task, typ, "body"))
	}
}

func (sl *benchSlot) ended() {
	b := sl.b
	if sl.status >= 200 && sl.status < 300 {
		b.ok++
	}
	b.ended = append(b.ended, sl.body) // freed at the drain (see the manual release above)
	b.atDrain()
	b.over(sl, nil)
}
