package h2wasm

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// maxQueued bounds each direction's queue: the reader stops reading and io_write answers
// PENDING beyond it.
const maxQueued = 1 << 20

// transport is one net.Conn as the io callbacks see it. Fields under mu are shared with
// the reader and writer goroutines; the wakers belong to the loop.
type transport struct {
	h    *Host
	id   uint32
	conn net.Conn

	mu      sync.Mutex
	cond    *sync.Cond // signalled when in shrinks, out grows, or closing
	in      []byte     // received, not yet given to io_read
	eof     bool       // the reader is done (EOF or error)
	readErr error
	out     []byte // given by io_write, not yet written
	spare   []byte
	writing bool  // the writer holds a batch
	werr    error // the writer failed: io_write answers IO_ERROR
	closing bool  // Close was called: the writer flushes and closes the conn

	queued atomic.Bool // on the host's ready list

	readWaker, writeWaker uint32 // loop only

	// raw: the socket itself, when conn is a plain TCP connection (not TLS): io_write
	// tries one non-blocking write on it from the loop before queueing for the writer.
	raw syscall.RawConn
}

// NewIO makes an h2_io for conn (its userdata names the transport) and starts the
// transport's reader and writer goroutines. Pass the io to a handshake, which takes it.
// Loop goroutine only.
func (h *Host) NewIO(conn net.Conn) (io uint32, close func()) {
	t := &transport{h: h, id: h.nextID, conn: conn}
	h.nextID++
	t.cond = sync.NewCond(&t.mu)
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			t.raw = raw
		}
	}
	h.transports[t.id] = t
	go t.readLoop()
	go t.writeLoop()
	io = h.Call("h2_io_new")
	h.Call("h2_io_set_userdata", uint64(io), uint64(t.id))
	return io, func() { h.closeTransport(t) }
}

// closeTransport flushes what io_write queued, then closes the conn. Loop only.
func (h *Host) closeTransport(t *transport) {
	delete(h.transports, t.id)
	for _, w := range []*uint32{&t.readWaker, &t.writeWaker} {
		if *w != 0 {
			h.Call("h2_waker_free", uint64(*w))
			*w = 0
		}
	}
	t.mu.Lock()
	t.closing = true
	t.cond.Broadcast()
	t.mu.Unlock()
}

// ready puts t on the host's ready list (once) and signals the loop.
// fail drops the transport at once, unsent output and all: its instance trapped, and its
// wakers died with it.
func (t *transport) fail() {
	t.readWaker, t.writeWaker = 0, 0
	t.mu.Lock()
	t.closing = true
	t.out = nil
	t.cond.Broadcast()
	t.mu.Unlock()
	t.conn.Close()
}

func (t *transport) ready() {
	if t.queued.Swap(true) {
		return
	}
	t.h.mu.Lock()
	t.h.ready = append(t.h.ready, t)
	t.h.mu.Unlock()
	t.h.signal()
}

func (t *transport) readLoop() {
	buf := make([]byte, 64<<10)
	for {
		n, err := t.conn.Read(buf)
		t.mu.Lock()
		t.in = append(t.in, buf[:n]...)
		if err != nil {
			t.eof = true
			if !errors.Is(err, io.EOF) {
				t.readErr = err
			}
		}
		for len(t.in) > maxQueued && !t.closing {
			t.cond.Wait()
		}
		done := t.eof || t.closing
		t.mu.Unlock()
		t.ready()
		if done {
			return
		}
	}
}

func (t *transport) writeLoop() {
	defer t.conn.Close()
	for {
		t.mu.Lock()
		for len(t.out) == 0 && !t.closing {
			t.cond.Wait()
		}
		if len(t.out) == 0 { // closing, all flushed
			t.mu.Unlock()
			return
		}
		batch := t.out
		t.out = t.spare[:0]
		t.writing = true
		t.mu.Unlock()

		_, err := t.conn.Write(batch)

		t.mu.Lock()
		t.writing = false
		t.spare = batch
		if err != nil {
			t.werr = err
		}
		t.mu.Unlock()
		t.ready()
		if err != nil {
			return
		}
	}
}

// wakeTransport wakes t's wakers whose condition holds now. Loop only.
func (h *Host) wakeTransport(t *transport) {
	t.mu.Lock()
	readable := len(t.in) > 0 || t.eof
	writable := len(t.out) < maxQueued || t.werr != nil
	t.mu.Unlock()
	if readable && t.readWaker != 0 {
		h.Call("h2_waker_wake", uint64(t.readWaker))
		t.readWaker = 0
	}
	if writable && t.writeWaker != 0 {
		h.Call("h2_waker_wake", uint64(t.writeWaker))
		t.writeWaker = 0
	}
}

func (h *Host) takeWaker(w *uint32, ctx uint32) {
	if *w != 0 {
		h.Call("h2_waker_free", uint64(*w))
	}
	*w = h.Call("h2_context_waker", uint64(ctx))
}

// ioRead is h2_host.io_read.
func (h *Host) ioRead(userdata, ctx, buf, n uint32) uint32 {
	t := h.transports[userdata]
	if t == nil {
		return IOError
	}
	t.mu.Lock()
	if len(t.in) == 0 {
		eof, rerr := t.eof, t.readErr
		t.mu.Unlock()
		switch {
		case rerr != nil:
			return IOError
		case eof:
			return 0
		}
		h.takeWaker(&t.readWaker, ctx)
		return IOPending
	}
	k := min(uint32(len(t.in)), n)
	h.mem.Write(buf, t.in[:k])
	t.in = t.in[k:]
	if len(t.in) == 0 {
		t.in = nil // let the backing array go; append starts a fresh one
	}
	t.cond.Broadcast() // the reader may be waiting for room
	t.mu.Unlock()
	return k
}

// ioWrite is h2_host.io_write.
func (h *Host) ioWrite(userdata, ctx, buf, n uint32) uint32 {
	if h.trapArmed {
		h.trapArmed = false
		panic(errors.New("unreachable (injected)"))
	}
	t := h.transports[userdata]
	if t == nil {
		return IOError
	}
	data, ok := h.mem.Read(buf, n)
	if !ok {
		return IOError
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.werr != nil || t.closing {
		return IOError
	}
	if len(t.out) >= maxQueued {
		h.takeWaker(&t.writeWaker, ctx)
		return IOPending
	}
	// WriteThrough, nothing queued and the writer idle: the socket directly, from the
	// loop, with one non-blocking write (what the socket does not take is queued as
	// before). The bytes leave now, while the rest of the round runs, instead of when the
	// loop next sleeps and the writer goroutine gets the processor.
	if h.WriteThrough && len(t.out) == 0 && !t.writing && t.raw != nil {
		k := t.writeNow(data)
		if k < 0 {
			t.werr = syscall.EPIPE
			return IOError
		}
		if k == len(data) {
			return n
		}
		data = data[k:]
	}
	t.out = append(t.out, data...)
	t.cond.Broadcast()
	return n
}

// writeNow makes one non-blocking write of b to the socket: the count written (0 when
// it would block), or -1 when the socket failed. t.mu held.
func (t *transport) writeNow(b []byte) int {
	written := 0
	failed := false
	err := t.raw.Write(func(fd uintptr) bool {
		for written < len(b) {
			k, err := syscall.Write(int(fd), b[written:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				failed = err != syscall.EAGAIN
				break
			}
			written += k
		}
		return true // never wait here: the writer goroutine takes the rest
	})
	if err != nil || failed {
		return -1
	}
	return written
}

// source is a data-source body (h2_body_new) handing out bytes from memory.
type source struct {
	data []byte
}

// NewBody makes a data-source body that sends data (body_read copies it in pieces).
// Set it on a request or response, which takes it. Loop only.
func (h *Host) NewBody(data []byte) uint32 {
	id := h.nextID
	h.nextID++
	h.sources[id] = &source{data: data}
	body := h.Call("h2_body_new")
	h.Call("h2_body_set_userdata", uint64(body), uint64(id))
	return body
}

// bodyRead is h2_host.body_read.
func (h *Host) bodyRead(userdata, ctx, buf, n uint32) uint32 {
	s := h.sources[userdata]
	if s == nil {
		return IOError
	}
	k := min(uint32(len(s.data)), n)
	if k == 0 {
		delete(h.sources, userdata)
		return 0
	}
	h.mem.Write(buf, s.data[:k])
	s.data = s.data[k:]
	return k
}
