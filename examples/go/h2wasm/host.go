// Package h2wasm runs build/h2wasm.wasm under wazero (pure Go, no cgo) and binds its
// h2_host.* imports to net.Conns. It is a thin host: the HTTP/2 engine is entirely in the
// wasm module; this package moves bytes, wakes wakers and dispatches finished tasks.
//
// # How I/O works
//
// A wazero module instance is not safe for concurrent calls, so exactly one goroutine —
// the loop, the one that calls (*Host).Run — ever calls into the instance. Every export
// wrapper (Call, Alloc, ...) and every Push/NewIO must happen on it: in a task callback or
// in a function handed to (*Host).Post, which other goroutines use to get work onto it.
//
// Each connection (a transport) has two goroutines that never touch the instance:
//
//   - the reader loops conn.Read into a private 64 KiB buffer and appends what it got to
//     the transport's input queue (under the transport's mutex). It stops reading while
//     more than maxQueued bytes wait (backpressure: TCP windows close, the peer slows).
//   - the writer sleeps on a sync.Cond until the output queue is non-empty, swaps it out
//     and conn.Writes it, so a slow socket never blocks the loop.
//
// The imports run on the loop, inside h2_executor_poll:
//
//   - io_read copies queued input into wasm memory and returns the count; with nothing
//     queued it takes a waker (h2_context_waker), remembers it on the transport and
//     returns H2_IO_PENDING; at EOF it returns 0.
//   - io_write appends the bytes to the output queue and returns len; once more than
//     maxQueued bytes are queued it takes a waker and returns H2_IO_PENDING instead.
//     With Host.WriteThrough (the client sets it) and nothing queued, it first tries
//     one non-blocking write of its own on the socket, and queues only what is left.
//
// When a reader/writer goroutine changes a transport's state (bytes arrived, EOF, the
// output queue drained) it puts the transport on the host's ready list and does a
// non-blocking send on a 1-slot channel. The loop, woken by that channel (or by a Post,
// or by the timer set to h2_executor_next_deadline), wakes the wakers whose condition
// now holds (h2_waker_wake), tells the executor the time, and polls it until it returns
// 0, calling the callback that was registered with each finished task (a table from
// task handle to callback). Since wakers are only taken and woken on the loop, and a
// goroutine always enqueues after changing state, no wake-up is lost.
//
// # A trap
//
// A trap is a bug in the module (it checks every size a peer or host decides before it
// allocates), but a server must outlive it. An export that traps panics with a *Trap;
// Run recovers it, never enters that instance again, closes every connection on it at
// once, drops the callbacks of its tasks, tells OnTrap (one line on stderr by default)
// and goes on with a fresh instance of the same compiled module and a new executor.
package h2wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Values of include/h2wasm.h.
const (
	IOPending = 0xFFFFFFFF
	IOError   = 0xFFFFFFFE

	TaskEmpty      = 0
	TaskError      = 1
	TaskClientConn = 2
	TaskResponse   = 3
	TaskBuf        = 4
	TaskServerConn = 5
	TaskRequest    = 6
	TaskTrailers   = 7
	TaskCapacity   = 8
	TaskReset      = 9
	TaskPing       = 10

	PseudoMethod    = 0
	PseudoScheme    = 1
	PseudoAuthority = 2
	PseudoPath      = 3

	OptMaxConcurrentStreams = 3
	OptInitialWindowSize    = 4
	OptConnectionWindow     = 100
	OptManualRelease        = 101
)

// WazeroVersion is the wazero release this package was built and tested with (go.mod).
const WazeroVersion = "v1.12.0"

// TaskFunc is called on the loop when a pushed task finishes. The task is freed after it
// returns (with its value, unless the callback took it with h.TaskValue).
type TaskFunc func(task, typ uint32)

// TypeUnread is the typ a PushLazy callback gets: h.TaskType(task) tells it.
const TypeUnread = 0xFFFFFFFF

// Trap is the panic of an export call that trapped (or failed): Run recovers it.
type Trap struct {
	Export string
	Err    error
}

func (t *Trap) Error() string { return fmt.Sprintf("h2wasm: %s: %v", t.Export, t.Err) }

// Host is one wasm instance, its executor and the transports it drives.
type Host struct {
	ctx      context.Context
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	mod      api.Module
	mem      api.Memory
	// gen counts instances (a trap makes a fresh one); an Fn resolved for another
	// generation resolves again.
	gen  uint32
	fns  map[string]*Fn
	Exec uint32
	// The exports every round and every task use, resolved once.
	fnPoll, fnTaskType, fnTaskValue, fnTaskFree, fnPush, fnSetTime, fnDeadline *Fn

	start time.Time

	// Owned by the loop.
	transports map[uint32]*transport
	tasks      taskTable
	nextID     uint32
	stopped    bool

	// Shared with the I/O goroutines.
	mu    sync.Mutex
	ready []*transport
	posts []func()
	wake  chan struct{}

	// Headers collects fields during h.Headers (headers_foreach is synchronous).
	fields          [][2]string
	sources         map[uint32]*source
	onInformational func(userdata, status uint32)

	// OnTrap hears, on the loop, that the instance trapped and how many connections it
	// failed; a fresh instance serves from then on. Nil: one line on stderr.
	OnTrap func(err error, connections int)
	// WriteThrough: io_write tries the socket at once, from the loop (one non-blocking
	// write when nothing is queued), for a client whose few writes are each worth sending
	// now (the next requests, while the server's earlier responses are still being read).
	// Off (the default): io_write queues and the writer goroutine writes what a round
	// queued together, as a server answering many streams wants. Plain TCP only.
	WriteThrough bool
	trapArmed    bool // InjectTrap
	// broken: the instance trapped; no call enters it again (Call answers 0), so cleanup
	// deferred by the frames the trap unwinds cannot run on its half-updated heap.
	broken bool
	// running: the posted calls of the round in progress, so a trap does not lose the ones
	// it did not reach (each may hold a freshly accepted connection).
	running []func()
	// drained: WhenDrained's calls, run once the executor has no task ready, in the same
	// round; spare is the other slice they swap with.
	drained, drainedSpare []func()

	// stacks: one argument/result stack per nesting depth of export calls (an import
	// calls exports while an export runs), reused so that a call allocates nothing.
	stacks [][]uint64
	depth  int
	// interned: strings written once into this instance's memory (Intern).
	interned map[string][2]uint32
}

// Fn is an export looked up by name once (h.Fn), so that calling it costs no lookup: its
// function and how many parameters and results it has, taken from its definition once
// per instance.
type Fn struct {
	h        *Host
	name     string
	gen      uint32
	fn       api.Function
	nparams  int
	nresults int
}

// DefaultWasmPath finds build/h2wasm.wasm: $H2WASM_WASM, then the repository's build/
// relative to this source file (examples/go/h2wasm → ../../../build), then walking up
// from the working directory.
func DefaultWasmPath() string {
	if p := os.Getenv("H2WASM_WASM"); p != "" {
		return p
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		p := filepath.Join(filepath.Dir(file), "..", "..", "..", "build", "h2wasm.wasm")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, "build", "h2wasm.wasm")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return filepath.Join("build", "h2wasm.wasm")
}

// New compiles and instantiates the module at wasmPath (compiled code is cached under
// the user cache dir, so later starts are fast) and makes an executor.
func New(ctx context.Context, wasmPath string) (*Host, error) {
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, err
	}
	cfg := wazero.NewRuntimeConfig()
	if dir, err := os.UserCacheDir(); err == nil {
		if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "h2wasm-wazero")); err == nil {
			cfg = cfg.WithCompilationCache(cache)
		}
	}
	h := &Host{
		ctx:        ctx,
		rt:         wazero.NewRuntimeWithConfig(ctx, cfg),
		fns:        map[string]*Fn{},
		start:      time.Now(),
		transports: map[uint32]*transport{},
		sources:    map[uint32]*source{},
		nextID:     1,
		wake:       make(chan struct{}, 1),
	}
	if err := h.hostModule(); err != nil {
		return nil, err
	}
	h.fnPoll = h.Fn("h2_executor_poll")
	h.fnTaskType = h.Fn("h2_task_type")
	h.fnTaskValue = h.Fn("h2_task_value")
	h.fnTaskFree = h.Fn("h2_task_free")
	h.fnPush = h.Fn("h2_executor_push")
	h.fnSetTime = h.Fn("h2_executor_set_time")
	h.fnDeadline = h.Fn("h2_executor_next_deadline")
	if h.compiled, err = h.rt.CompileModule(ctx, wasm); err != nil {
		return nil, fmt.Errorf("compile %s: %w", wasmPath, err)
	}
	if err := h.instantiate(); err != nil {
		return nil, fmt.Errorf("instantiate %s: %w", wasmPath, err)
	}
	return h, nil
}

// instantiate makes the module instance and its executor.
func (h *Host) instantiate() (err error) {
	mod, err := h.rt.InstantiateModule(h.ctx, h.compiled, wazero.NewModuleConfig().WithName("h2wasm"))
	if err != nil {
		return err
	}
	h.mod = mod
	h.mem = mod.Memory()
	h.gen++
	h.interned = map[string][2]uint32{}
	h.broken = false
	defer func() {
		// A trap this early (in h2_executor_new) is an error to return, not a panic.
		if r := recover(); r != nil {
			trap, ok := r.(*Trap)
			if !ok {
				panic(r)
			}
			err = trap
		}
	}()
	if h.Exec = h.Call("h2_executor_new"); h.Exec == 0 {
		return errors.New("h2_executor_new failed")
	}
	return nil
}

// replaceInstance is what a trap leads to: the trapped instance is closed without another
// call into it, its connections fail at once, the callbacks of its tasks are dropped (their
// handles died with it), and a fresh instance of the compiled module takes over.
func (h *Host) replaceInstance(trap *Trap) error {
	failed := len(h.transports)
	for _, t := range h.transports {
		t.fail()
	}
	h.transports = map[uint32]*transport{}
	h.tasks = taskTable{}
	h.sources = map[uint32]*source{}
	h.fields = nil
	h.trapArmed = false
	h.drained = nil // their handles died with the instance
	h.Exec = 0
	// The posted calls the trapped round did not reach go to the fresh instance.
	if len(h.running) > 0 {
		h.mu.Lock()
		h.posts = append(h.running, h.posts...)
		h.mu.Unlock()
		h.running = nil
	}
	h.mod.Close(h.ctx)
	if err := h.instantiate(); err != nil {
		return fmt.Errorf("after a trap (%v), a fresh instance: %w", trap.Err, err)
	}
	if h.OnTrap != nil {
		h.OnTrap(trap, failed)
	} else {
		// One line: wazero's error goes on with the wasm stack trace.
		first, _, _ := strings.Cut(trap.Error(), "\n")
		fmt.Fprintf(os.Stderr, "h2wasm: the module instance trapped (%s); %d connection(s) failed; new connections get a fresh instance\n", first, failed)
	}
	return nil
}

// InjectTrap is for tests: the next io_write traps inside the module, as a bug in the
// module would (the import panics; wazero unwinds the call with an error).
func (h *Host) InjectTrap() { h.trapArmed = true }

// Close frees the executor and the runtime.
func (h *Host) Close() {
	if h.Exec != 0 {
		h.Call("h2_executor_free", uint64(h.Exec))
		h.Exec = 0
	}
	h.rt.Close(h.ctx)
}

func (h *Host) hostModule() error {
	i32 := api.ValueTypeI32
	b := h.rt.NewHostModuleBuilder("h2_host")
	fn := func(name string, nparams, nresults int, f func(stack []uint64)) {
		params := make([]api.ValueType, nparams)
		for i := range params {
			params[i] = i32
		}
		results := make([]api.ValueType, nresults)
		for i := range results {
			results[i] = i32
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			f(stack)
		}), params, results).Export(name)
	}
	u := func(v uint64) uint32 { return uint32(v) }
	fn("io_read", 4, 1, func(s []uint64) { s[0] = uint64(h.ioRead(u(s[0]), u(s[1]), u(s[2]), u(s[3]))) })
	fn("io_write", 4, 1, func(s []uint64) { s[0] = uint64(h.ioWrite(u(s[0]), u(s[1]), u(s[2]), u(s[3]))) })
	fn("body_read", 4, 1, func(s []uint64) { s[0] = uint64(h.bodyRead(u(s[0]), u(s[1]), u(s[2]), u(s[3]))) })
	// Zero-copy DATA is not used by this host (body_read never answers H2_DATA_NO_COPY),
	// so send_data is never called; it fails the stream if it were.
	fn("send_data", 6, 1, func(s []uint64) { s[0] = IOError })
	fn("headers_foreach", 5, 1, func(s []uint64) {
		name, _ := h.mem.Read(u(s[1]), u(s[2]))
		value, _ := h.mem.Read(u(s[3]), u(s[4]))
		h.fields = append(h.fields, [2]string{string(name), string(value)})
		s[0] = 0
	})
	fn("informational", 2, 0, func(s []uint64) {
		if f := h.onInformational; f != nil {
			f(u(s[0]), h.Call("h2_response_status", s[1]))
		}
	})
	_, err := b.Instantiate(h.ctx)
	return err
}

// Call calls an export with u32/i64 arguments and returns its result as u32 (0 for
// void). Loop goroutine only. Reentrant calls (an import calling an export) are fine as
// long as they are not the same export, which this host never does. Calls made for every
// request go through an Fn instead (no lookup by name).
func (h *Host) Call(name string, args ...uint64) uint32 {
	return uint32(h.Fn(name).Call64(args...))
}

// Call64 is Call for an i64 result.
func (h *Host) Call64(name string, args ...uint64) uint64 {
	return h.Fn(name).Call64(args...)
}

// Generation names the instance: it changes when a trap replaces it (what was written
// into the old one's memory, as by Intern, is gone).
func (h *Host) Generation() uint32 { return h.gen }

// Fn returns the export name, to call again and again. Loop goroutine only.
func (h *Host) Fn(name string) *Fn {
	f := h.fns[name]
	if f == nil {
		f = &Fn{h: h, name: name}
		h.fns[name] = f
	}
	return f
}

// Call is h.Call for this export.
func (f *Fn) Call(args ...uint64) uint32 { return uint32(f.Call64(args...)) }

// Call64 is h.Call64 for this export.
func (f *Fn) Call64(args ...uint64) uint64 {
	h := f.h
	if h.broken {
		return 0
	}
	if f.gen != h.gen {
		fn := h.mod.ExportedFunction(f.name)
		if fn == nil {
			panic("h2wasm: no export " + f.name)
		}
		def := fn.Definition()
		f.fn, f.nparams, f.nresults, f.gen = fn, len(def.ParamTypes()), len(def.ResultTypes()), h.gen
	}
	if len(args) != f.nparams {
		panic(fmt.Sprintf("h2wasm: %s takes %d arguments, got %d", f.name, f.nparams, len(args)))
	}
	// Calls nest (imports call exports), so each depth has its own stack.
	if h.depth == len(h.stacks) {
		h.stacks = append(h.stacks, make([]uint64, 8))
	}
	stack := h.stacks[h.depth]
	if n := max(len(args), 1); n > len(stack) {
		stack = make([]uint64, n)
		h.stacks[h.depth] = stack
	}
	copy(stack, args)
	h.depth++
	// Not h.ctx: wazero looks values up in the context at every call, and a
	// Background one answers at once (the calls need neither its values nor its end).
	err := f.fn.CallWithStack(context.Background(), stack)
	h.depth--
	if err != nil {
		h.broken = true
		h.depth = 0
		panic(&Trap{Export: f.name, Err: err})
	}
	if f.nresults == 0 {
		return 0
	}
	return stack[0]
}

// Intern returns s written into wasm memory: allocated and copied at its first use on
// this instance and kept for the instance's life (for the strings a program sends again
// and again: a method, a URL, a header). Never free it.
func (h *Host) Intern(s string) (ptr, n uint32) {
	if v, ok := h.interned[s]; ok {
		return v[0], v[1]
	}
	p := h.Call("h2_alloc", uint64(max(len(s), 1)))
	if p == 0 {
		panic("h2wasm: h2_alloc failed")
	}
	h.mem.WriteString(p, s)
	h.interned[s] = [2]uint32{p, uint32(len(s))}
	return p, uint32(len(s))
}

// WithBytes copies b into wasm memory for the duration of fn(ptr, len).
func (h *Host) WithBytes(b []byte, fn func(ptr, n uint32) uint32) uint32 {
	p := h.Call("h2_alloc", uint64(max(len(b), 1)))
	if p == 0 {
		panic("h2wasm: h2_alloc failed")
	}
	defer h.Call("h2_free", uint64(p))
	h.mem.Write(p, b)
	return fn(p, uint32(len(b)))
}

// Bytes copies [ptr, ptr+n) out of wasm memory.
func (h *Host) Bytes(ptr, n uint32) []byte {
	b, ok := h.mem.Read(ptr, n)
	if !ok {
		return nil
	}
	return append([]byte(nil), b...)
}

// Headers returns the fields of a headers handle, in order.
func (h *Host) Headers(headers uint32) [][2]string {
	h.fields = nil
	h.Call("h2_headers_foreach", uint64(headers), 0)
	out := h.fields
	h.fields = nil
	return out
}

// AddHeader adds one field to a headers handle.
func (h *Host) AddHeader(headers uint32, name, value string) uint32 {
	return h.WithBytes([]byte(name), func(np, nl uint32) uint32 {
		return h.WithBytes([]byte(value), func(vp, vl uint32) uint32 {
			return h.Call("h2_headers_add", uint64(headers), uint64(np), uint64(nl), uint64(vp), uint64(vl))
		})
	})
}

// Pseudo returns a request pseudo-header (PseudoMethod, PseudoPath, ...).
func (h *Host) Pseudo(req, which uint32) string {
	const capacity = 8192
	p := h.Call("h2_alloc", capacity)
	defer h.Call("h2_free", uint64(p))
	n := h.Call("h2_request_pseudo", uint64(req), uint64(which), uint64(p), capacity)
	if n == 0xFFFFFFFF {
		return ""
	}
	return string(h.Bytes(p, min(n, capacity)))
}

// ErrorMessage prints an h2_error.
func (h *Host) ErrorMessage(err uint32) string {
	p := h.Call("h2_alloc", 512)
	defer h.Call("h2_free", uint64(p))
	n := h.Call("h2_error_print", uint64(err), uint64(p), 512)
	return fmt.Sprintf("%s (code %d, reason %d)", h.Bytes(p, n), h.Call("h2_error_code", uint64(err)), h.Call("h2_error_reason", uint64(err)))
}

// TaskValue takes a finished task's value.
func (h *Host) TaskValue(task uint32) uint32 { return h.fnTaskValue.Call(uint64(task)) }

// TaskType is a finished task's type (TaskResponse, TaskError, ...).
func (h *Host) TaskType(task uint32) uint32 { return h.fnTaskType.Call(uint64(task)) }

// TaskError turns an error task into a Go error (taking and freeing the h2_error).
func (h *Host) TaskError(task uint32) error { return h.ErrorOf(h.TaskValue(task)) }

// ErrorOf turns an h2_error the caller owns into a Go error, and frees it.
func (h *Host) ErrorOf(e uint32) error {
	defer h.Call("h2_error_free", uint64(e))
	return errors.New(h.ErrorMessage(e))
}

// TakeBuf copies a TaskBuf task's bytes out and frees the buf.
func (h *Host) TakeBuf(task uint32) []byte {
	buf := h.TaskValue(task)
	defer h.Call("h2_buf_free", uint64(buf))
	return h.Bytes(h.Call("h2_buf_bytes", uint64(buf)), h.Call("h2_buf_len", uint64(buf)))
}

// Push hands a task to the executor; fn runs on the loop when it finishes. A 0 task (the
// call that made it failed) is an error. The callback is found by the task's handle,
// which poll answers with (no userdata to set and read back: two calls fewer per task).
func (h *Host) Push(task uint32, fn TaskFunc) error { return h.push(task, taskEntry{fn: fn}) }

// PushLazy is Push for a callback that does not always need the task's type: it gets
// TypeUnread and asks h.TaskType(task) when it does (one export call fewer when the
// outcome shows otherwise, as a response's status does).
func (h *Host) PushLazy(task uint32, fn TaskFunc) error {
	return h.push(task, taskEntry{fn: fn, lazy: true})
}

func (h *Host) push(task uint32, fn taskEntry) error {
	if task == 0 {
		return errors.New("h2wasm: no task (0 handle)")
	}
	if rc := h.fnPush.Call(uint64(h.Exec), uint64(task)); rc != 0 {
		h.fnTaskFree.Call(uint64(task))
		return fmt.Errorf("h2_executor_push: %d", rc)
	}
	h.tasks.put(task, fn)
	return nil
}

// Post runs fn on the loop goroutine. Safe from any goroutine.
func (h *Host) Post(fn func()) {
	h.mu.Lock()
	h.posts = append(h.posts, fn)
	h.mu.Unlock()
	h.signal()
}

// WhenDrained runs fn on the loop once the executor has no task ready, in the round in
// progress (which then polls again for what fn started): for work to batch across the
// tasks of one round (the requests whose HEADERS should go out in one write), without
// the extra round a Post would cost. Loop goroutine only.
func (h *Host) WhenDrained(fn func()) { h.drained = append(h.drained, fn) }

// Stop ends Run after the current round. Loop goroutine only (or through Post).
func (h *Host) Stop() { h.stopped = true }

func (h *Host) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *Host) now() int64 { return time.Since(h.start).Milliseconds() }

// Run is the loop: it polls the executor until no task is ready, then sleeps until an
// I/O goroutine or Post signals, or the executor's next deadline. It returns when Stop
// was called or ctx is done (or when no fresh instance can be made after a trap).
func (h *Host) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait, err := h.guardedRound()
		if err != nil {
			return err
		}
		if h.stopped {
			return nil
		}
		timer.Reset(wait)
		select {
		case <-h.wake:
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// guardedRound runs a round; a trap in it replaces the instance, and the next round comes
// at once (for what was posted meanwhile).
func (h *Host) guardedRound() (wait time.Duration, err error) {
	defer func() {
		if r := recover(); r != nil {
			trap, ok := r.(*Trap)
			if !ok {
				panic(r)
			}
			wait, err = 0, h.replaceInstance(trap)
		}
	}()
	return h.round(), nil
}

// round wakes what its I/O goroutines made ready, runs the posted calls, polls the executor
// until no task is ready, and returns how long it may sleep.
func (h *Host) round() time.Duration {
	h.mu.Lock()
	ready := h.ready
	h.running = append(h.running, h.posts...)
	h.ready, h.posts = nil, nil
	h.mu.Unlock()
	// The time first: the posted calls (a handshake, a request) are stamped with it.
	h.fnSetTime.Call(uint64(h.Exec), uint64(h.now()))
	for _, t := range ready {
		t.queued.Store(false)
		h.wakeTransport(t)
	}
	for len(h.running) > 0 {
		fn := h.running[0]
		h.running = h.running[1:]
		fn()
	}
	for !h.stopped {
		task := h.fnPoll.Call(uint64(h.Exec))
		if task == 0 {
			if len(h.drained) == 0 {
				break
			}
			fns := h.drained
			h.drained = h.drainedSpare[:0]
			for i, fn := range fns {
				fns[i] = nil
				fn()
			}
			h.drainedSpare = fns[:0]
			continue
		}
		if e := h.tasks.take(task); e.fn != nil {
			typ := uint32(TypeUnread)
			if !e.lazy {
				typ = h.fnTaskType.Call(uint64(task))
			}
			e.fn(task, typ)
		}
		h.fnTaskFree.Call(uint64(task))
	}
	wait := time.Hour
	if d := int64(h.fnDeadline.Call64(uint64(h.Exec))); d >= 0 {
		wait = max(time.Duration(d-h.now())*time.Millisecond, 0)
	}
	return wait
}

// SetInformational sets the handler for 1xx responses.
func (h *Host) SetInformational(fn func(userdata, status uint32)) { h.onInformational = fn }
