//! h2host — build/h2wasm.wasm under wasmtime, its `h2_host.*` imports bound to
//! `std::net::TcpStream`s. A thin host: the HTTP/2 engine is entirely in the wasm module;
//! this crate moves bytes, takes and wakes wakers, and lets a program call the exports.
//!
//! # How I/O works: non-blocking sockets and one poll(2) loop, on one thread
//!
//! A wasmtime `Store` is not `Sync` (and this host's state holds `Rc`s, so not `Send`
//! either): one thread owns the [`Host`] and is the only one that ever calls into the
//! instance. Every socket is non-blocking, so the imports never block that thread:
//!
//! - `io_read` reads straight from the socket into linear memory and returns the count
//!   (0 at EOF). On `WouldBlock` it takes a waker (`h2_context_waker`), remembers it on
//!   the connection and returns `H2_IO_PENDING`.
//! - `io_write` appends to the connection's output buffer (64 KiB at most; a larger
//!   write into an empty buffer goes straight to the socket) and returns the count. While
//!   the buffer is full and the socket takes nothing it takes a waker and answers PENDING.
//! - [`Host::wait`] first writes every connection's buffered output, then puts every
//!   socket that holds a waker or output the kernel did not take into one `poll(2)` call
//!   (POLLIN for a read waker, POLLOUT for a write waker or leftover output, plus any
//!   extra descriptor such as a listener), bounded by the executor's next deadline, and
//!   wakes (`h2_waker_wake`) the wakers whose socket became ready — or failed or hung
//!   up, so that the next call sees the error or EOF.
//!
//! The output buffer is flushed once per loop turn, when the executor has nothing left to
//! do, so the frames of many streams leave in one `write` instead of one each (a bench
//! of small requests otherwise spends a third of its time in `sendto`); nothing waits
//! longer than the engine's own work. A write error found while flushing is kept and
//! returned by the connection's next io call, and its wakers are woken so that the call
//! comes. Wakers are only taken and woken on the owning thread, right around a readiness
//! check that the kernel makes level-triggered, so no wake-up can be lost. (`poll` is
//! POSIX: this example runs on Linux and macOS, not on Windows.)
//!
//! Over TLS (client only, [`tls`]) the same socket carries a rustls `ClientConnection`:
//! `io_read` hands out decrypted bytes and reads more records only when none are left;
//! `io_write` encrypts into rustls, whose own buffer (64 KiB) plays the part of the
//! output buffer, flushed the same way.
//!
//! # Calling the exports
//!
//! [`Abi`] has one method per export this host uses (named as in include/h2wasm.h, wasm
//! i32 as `u32`, i64 as `i64`). It is implemented for the [`Host`] and for the
//! `Caller` an import receives, since imports call exports too (`h2_context_waker`,
//! `h2_waker_free`). A wasm trap (or a failed call) panics with a [`Trap`]: a program that
//! does not catch it ends as on any panic. From then on every export answers 0 without
//! entering the instance (so dropping the [`Host`] cannot trap again); a server catches
//! the panic, drops the host (its sockets close) and goes on with [`Host::fresh`], a new
//! instance of the same compiled module (examples/rust/src/bin/server.rs does).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

pub mod tls;

use wasmtime::{
    AsContext, AsContextMut, Caller, Config, Engine, Instance, Linker, Memory, Module, Store,
    StoreContext, StoreContextMut, TypedFunc,
};

/// The wasmtime release this example is built and tested with (Cargo.lock).
pub const WASMTIME_VERSION: &str = "48.0.8";

// Values of include/h2wasm.h.
pub const IO_PENDING: u32 = 0xFFFF_FFFF;
pub const IO_ERROR: u32 = 0xFFFF_FFFE;

pub const TASK_EMPTY: u32 = 0;
pub const TASK_ERROR: u32 = 1;
pub const TASK_CLIENTCONN: u32 = 2;
pub const TASK_RESPONSE: u32 = 3;
pub const TASK_BUF: u32 = 4;
pub const TASK_SERVERCONN: u32 = 5;
pub const TASK_REQUEST: u32 = 6;

pub const PSEUDO_METHOD: u32 = 0;
pub const PSEUDO_PATH: u32 = 3;

pub const OPT_MAX_CONCURRENT_STREAMS: u32 = 3;
pub const OPT_INITIAL_WINDOW_SIZE: u32 = 4;
pub const OPT_CONNECTION_WINDOW: u32 = 100;

/// The panic payload of an export call that trapped (or failed).
#[derive(Debug)]
pub struct Trap {
    pub export: &'static str,
    pub message: String,
}

impl std::fmt::Display for Trap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wasm trap in {}: {}", self.export, self.message)
    }
}

macro_rules! exports {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// The typed exports, looked up once after instantiation.
        struct Exports {
            $($name: TypedFunc<($($ty,)*), $ret>,)*
        }

        impl Exports {
            fn load(store: &mut Store<State>, instance: &Instance) -> wasmtime::Result<Exports> {
                Ok(Exports {
                    $($name: instance.get_typed_func(&mut *store, stringify!($name))?,)*
                })
            }
        }

        /// The exports of h2wasm.wasm this host uses, callable on anything that gives
        /// access to the store: the [`Host`], or an import's `Caller`.
        pub trait Abi: AsContextMut<Data = State> + Sized {
            $(
                #[allow(clippy::too_many_arguments)]
                fn $name(&mut self, $($arg: $ty),*) -> $ret {
                    if self.as_context().data().broken {
                        return Default::default(); // a trapped instance is not entered again
                    }
                    let ex = self.as_context().data().exports();
                    match ex.$name.call(&mut *self, ($($arg,)*)) {
                        Ok(v) => v,
                        Err(e) => {
                            self.as_context_mut().data_mut().broken = true;
                            // One line, the cause: wasmtime's message leads with the wasm backtrace.
                            let message = e.root_cause().to_string().lines().next().unwrap_or_default().to_string();
                            std::panic::panic_any(Trap { export: stringify!($name), message })
                        }
                    }
                }
            )*
        }
    };
}

exports! {
    h2_alloc(len: u32) -> u32;
    h2_free(ptr: u32) -> u32;
    h2_handle_count() -> u32;
    h2_io_new() -> u32;
    h2_io_set_userdata(io: u32, userdata: u32) -> u32;
    h2_io_free(io: u32) -> u32;
    h2_context_waker(ctx: u32) -> u32;
    h2_waker_wake(waker: u32) -> u32;
    h2_waker_free(waker: u32) -> u32;
    h2_executor_new() -> u32;
    h2_executor_push(exec: u32, task: u32) -> u32;
    h2_executor_poll(exec: u32) -> u32;
    h2_executor_set_time(exec: u32, now_ms: i64) -> u32;
    h2_executor_next_deadline(exec: u32) -> i64;
    h2_executor_free(exec: u32) -> u32;
    h2_task_type(task: u32) -> u32;
    h2_task_value(task: u32) -> u32;
    h2_task_set_userdata(task: u32, userdata: u32) -> u32;
    h2_task_userdata(task: u32) -> u32;
    h2_task_free(task: u32) -> u32;
    h2_error_code(err: u32) -> u32;
    h2_error_reason(err: u32) -> u32;
    h2_error_print(err: u32, buf: u32, cap: u32) -> u32;
    h2_error_free(err: u32) -> u32;
    h2_clientconn_options_new() -> u32;
    h2_clientconn_options_exec(opts: u32, exec: u32) -> u32;
    h2_clientconn_options_set(opts: u32, key: u32, value: i64) -> u32;
    h2_clientconn_handshake(io: u32, opts: u32) -> u32;
    h2_clientconn_send(conn: u32, req: u32) -> u32;
    h2_clientconn_free(conn: u32) -> u32;
    h2_serverconn_options_new() -> u32;
    h2_serverconn_options_exec(opts: u32, exec: u32) -> u32;
    h2_serverconn_options_set(opts: u32, key: u32, value: i64) -> u32;
    h2_serverconn_handshake(io: u32, opts: u32) -> u32;
    h2_serverconn_accept(conn: u32) -> u32;
    h2_serverconn_poll_close(conn: u32) -> u32;
    h2_serverconn_free(conn: u32) -> u32;
    h2_request_new() -> u32;
    h2_request_free(req: u32) -> u32;
    h2_request_set_method(req: u32, ptr: u32, len: u32) -> u32;
    h2_request_set_uri(req: u32, ptr: u32, len: u32) -> u32;
    h2_request_pseudo(req: u32, which: u32, buf: u32, cap: u32) -> u32;
    h2_request_headers(req: u32) -> u32;
    h2_request_set_body(req: u32, body: u32) -> u32;
    h2_request_body(req: u32) -> u32;
    h2_request_respond(req: u32) -> u32;
    h2_response_new() -> u32;
    h2_response_free(resp: u32) -> u32;
    h2_response_status(resp: u32) -> u32;
    h2_response_set_status(resp: u32, status: u32) -> u32;
    h2_response_headers(resp: u32) -> u32;
    h2_response_body(resp: u32) -> u32;
    h2_respond_send_response(respond: u32, resp: u32, end_of_stream: u32) -> u32;
    h2_respond_free(respond: u32) -> u32;
    h2_headers_add(headers: u32, name: u32, name_len: u32, value: u32, value_len: u32) -> u32;
    h2_headers_foreach(headers: u32, userdata: u32) -> u32;
    h2_body_new() -> u32;
    h2_body_set_userdata(body: u32, userdata: u32) -> u32;
    h2_body_data(body: u32) -> u32;
    h2_body_free(body: u32) -> u32;
    h2_buf_bytes(buf: u32) -> u32;
    h2_buf_len(buf: u32) -> u32;
    h2_buf_free(buf: u32) -> u32;
    h2_send_stream_send_data(stream: u32, data: u32, len: u32, end_of_stream: u32) -> u32;
    h2_send_stream_free(stream: u32) -> u32;
}

impl<C: AsContextMut<Data = State>> Abi for C {}

/// Output io_write accepted and the socket has not taken yet is kept at most this big.
const OUT_CAP: usize = 64 << 10;

/// One socket as the io callbacks see it. The wakers belong to the owning thread.
struct Conn {
    stream: TcpStream,
    /// TLS on top of the socket (client, https).
    tls: Option<tls::TlsConnection>,
    /// Plain sockets: bytes io_write accepted, written out by Host::wait (or once full).
    out: Vec<u8>,
    /// A write failed outside io_write: the next io call reports it.
    failed: bool,
    /// close_io was called: dropped once the output is out.
    closing: bool,
    read_waker: u32,
    write_waker: u32,
}

impl Conn {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        match self.tls.as_mut() {
            Some(tls) => tls_read(&self.stream, tls, dst),
            None => (&self.stream).read(dst),
        }
    }

    fn write(&mut self, src: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if let Some(tls) = self.tls.as_mut() {
            let n = tls.writer().write(src)?;
            if n > 0 || src.is_empty() {
                return Ok(n);
            }
            // rustls's buffer is full: push records out first (WouldBlock: PENDING).
            tls_flush(&self.stream, tls)?;
            return match tls.writer().write(src)? {
                0 => Err(io::ErrorKind::WouldBlock.into()),
                n => Ok(n),
            };
        }
        if self.out.len() >= OUT_CAP {
            match self.flush() {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                _ if self.out.len() >= OUT_CAP => return Err(io::ErrorKind::WouldBlock.into()),
                _ => {}
            }
        }
        if self.out.is_empty() && src.len() >= OUT_CAP {
            return (&self.stream).write(src);
        }
        let n = src.len().min(OUT_CAP - self.out.len());
        self.out.extend_from_slice(&src[..n]);
        Ok(n)
    }

    /// True while output waits for the socket.
    fn pending(&self) -> bool {
        match &self.tls {
            Some(tls) => tls.wants_write(),
            None => !self.out.is_empty(),
        }
    }

    /// Writes buffered output until none is left (Ok) or the socket is full (WouldBlock).
    fn flush(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_mut() {
            return tls_flush(&self.stream, tls);
        }
        let mut at = 0;
        let r = loop {
            if at == self.out.len() {
                break Ok(());
            }
            match (&self.stream).write(&self.out[at..]) {
                Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => at += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.out.drain(..at);
        r
    }
}

/// Reads decrypted bytes; `WouldBlock` only when rustls has none and the socket none either.
fn tls_read(stream: &TcpStream, tls: &mut tls::TlsConnection, dst: &mut [u8]) -> io::Result<usize> {
    loop {
        match tls.reader().read(dst) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // The peer closed the TCP connection without close_notify: EOF all the same.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
            Err(e) => return Err(e),
        }
        if tls.read_tls(&mut &*stream)? == 0 {
            return Ok(0);
        }
        tls.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        // Answers the peer may need (alerts, key updates) go out with the next write or wait.
        let _ = tls_flush(stream, tls);
    }
}

/// Writes queued TLS records to the socket until none are left (or `WouldBlock`).
fn tls_flush(stream: &TcpStream, tls: &mut tls::TlsConnection) -> io::Result<()> {
    while tls.wants_write() {
        tls.write_tls(&mut &*stream)?;
    }
    Ok(())
}


/// A data-source body (h2_body_new) handing out bytes from host memory.
struct Source {
    data: Vec<u8>,
    at: usize,
}

/// The store's data: what the imports need.
pub struct State {
    exports: Option<Rc<Exports>>,
    memory: Option<Memory>,
    conns: HashMap<u32, Conn>,
    sources: HashMap<u32, Source>,
    next_id: u32,
    /// Filled by headers_foreach during [`Host::headers`].
    fields: Vec<(String, String)>,
    /// The instance trapped: no export is called again.
    broken: bool,
    /// [`Host::inject_trap`]: the next io_write traps.
    trap_armed: bool,
}

impl State {
    fn exports(&self) -> Rc<Exports> {
        self.exports.clone().expect("h2wasm: exports called before instantiation")
    }
    fn memory(&self) -> Memory {
        self.memory.expect("h2wasm: memory used before instantiation")
    }
    fn id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }
}

/// The bytes [ptr, ptr+len) of `data`, or None when out of range.
fn range(data: &mut [u8], ptr: u32, len: u32) -> Option<&mut [u8]> {
    let start = ptr as usize;
    data.get_mut(start..start.checked_add(len as usize)?)
}

/// After WouldBlock: replaces the connection's read or write waker with one for `ctx`.
fn take_waker(caller: &mut Caller<'_, State>, id: u32, ctx: u32, write: bool) -> u32 {
    let old = match caller.data_mut().conns.get_mut(&id) {
        Some(c) if write => std::mem::take(&mut c.write_waker),
        Some(c) => std::mem::take(&mut c.read_waker),
        None => return IO_ERROR,
    };
    if old != 0 {
        caller.h2_waker_free(old);
    }
    let waker = caller.h2_context_waker(ctx);
    if let Some(c) = caller.data_mut().conns.get_mut(&id) {
        if write {
            c.write_waker = waker;
        } else {
            c.read_waker = waker;
        }
    }
    IO_PENDING
}

fn io_read(mut caller: Caller<'_, State>, id: u32, ctx: u32, buf: u32, len: u32) -> u32 {
    let memory = caller.data().memory();
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let (Some(conn), Some(dst)) = (state.conns.get_mut(&id), range(data, buf, len)) else {
        return IO_ERROR;
    };
    loop {
        match conn.read(dst) {
            Ok(n) => return n as u32,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => return IO_ERROR,
        }
    }
    take_waker(&mut caller, id, ctx, false)
}

fn io_write(mut caller: Caller<'_, State>, id: u32, ctx: u32, buf: u32, len: u32) -> wasmtime::Result<u32> {
    if std::mem::take(&mut caller.data_mut().trap_armed) {
        return Err(wasmtime::Error::msg("unreachable (injected)"));
    }
    Ok(io_write_socket(caller, id, ctx, buf, len))
}

fn io_write_socket(mut caller: Caller<'_, State>, id: u32, ctx: u32, buf: u32, len: u32) -> u32 {
    let memory = caller.data().memory();
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let (Some(conn), Some(src)) = (state.conns.get_mut(&id), range(data, buf, len)) else {
        return IO_ERROR;
    };
    loop {
        match conn.write(src) {
            Ok(0) => return IO_ERROR,
            Ok(n) => return n as u32,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => return IO_ERROR,
        }
    }
    take_waker(&mut caller, id, ctx, true)
}

fn body_read(mut caller: Caller<'_, State>, id: u32, _ctx: u32, buf: u32, len: u32) -> u32 {
    let memory = caller.data().memory();
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let (Some(src), Some(dst)) = (state.sources.get_mut(&id), range(data, buf, len)) else {
        return IO_ERROR;
    };
    let n = dst.len().min(src.data.len() - src.at);
    dst[..n].copy_from_slice(&src.data[src.at..src.at + n]);
    src.at += n;
    if n == 0 {
        state.sources.remove(&id);
    }
    n as u32
}

fn headers_foreach(mut caller: Caller<'_, State>, _ud: u32, name: u32, name_len: u32, value: u32, value_len: u32) -> u32 {
    let memory = caller.data().memory();
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let n = range(data, name, name_len).map(|b| String::from_utf8_lossy(b).into_owned());
    let v = range(data, value, value_len).map(|b| String::from_utf8_lossy(b).into_owned());
    if let (Some(n), Some(v)) = (n, v) {
        state.fields.push((n, v));
    }
    0
}

/// Finds build/h2wasm.wasm: `$H2WASM_WASM`, then the repository's build/ relative to
/// this crate (examples/rust → ../../build), then walking up from the working directory.
pub fn default_wasm_path() -> PathBuf {
    if let Some(p) = std::env::var_os("H2WASM_WASM") {
        return PathBuf::from(p);
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../build/h2wasm.wasm");
    if here.exists() {
        return here;
    }
    if let Ok(mut dir) = std::env::current_dir() {
        loop {
            let p = dir.join("build/h2wasm.wasm");
            if p.exists() {
                return p;
            }
            if !dir.pop() {
                break;
            }
        }
    }
    PathBuf::from("build/h2wasm.wasm")
}

/// One wasm instance, its executor and the sockets it drives. Owned by one thread.
pub struct Host {
    module: Module,
    linker: Linker<State>,
    store: Store<State>,
    memory: Memory,
    /// The executor every connection of this host runs on.
    pub exec: u32,
    start: Instant,
    pollfds: Vec<libc::pollfd>,
    pollids: Vec<u32>,
}

impl AsContext for Host {
    type Data = State;
    fn as_context(&self) -> StoreContext<'_, State> {
        self.store.as_context()
    }
}

impl AsContextMut for Host {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, State> {
        self.store.as_context_mut()
    }
}

impl Host {
    /// Compiles (Cranelift) and instantiates the module at `path`, and makes an executor.
    pub fn new(path: &Path) -> Result<Host, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let engine = Engine::new(&Config::new()).map_err(|e| format!("wasmtime: {e:#}"))?;
        let module = Module::new(&engine, &bytes).map_err(|e| format!("{}: {e:#}", path.display()))?;
        let mut linker: Linker<State> = Linker::new(&engine);
        let link = |r: wasmtime::Result<&mut Linker<State>>| r.map(|_| ()).map_err(|e| format!("wasmtime: {e:#}"));
        link(linker.func_wrap("h2_host", "io_read", io_read))?;
        link(linker.func_wrap("h2_host", "io_write", io_write))?;
        link(linker.func_wrap("h2_host", "body_read", body_read))?;
        // Zero-copy DATA is not used here (body_read never answers H2_DATA_NO_COPY), so
        // send_data is never called; were it called, the stream fails.
        link(linker.func_wrap("h2_host", "send_data", |_: u32, _: u32, _: u32, _: u32, _: u32, _: u32| IO_ERROR))?;
        link(linker.func_wrap("h2_host", "headers_foreach", headers_foreach))?;
        link(linker.func_wrap("h2_host", "informational", |_: u32, _: u32| {}))?;
        Host::instantiate(module, linker)
    }

    /// A new instance of this host's compiled module, with its own executor and no
    /// sockets: what a server goes on with after a [`Trap`].
    pub fn fresh(&self) -> Result<Host, String> {
        Host::instantiate(self.module.clone(), self.linker.clone())
    }

    fn instantiate(module: Module, linker: Linker<State>) -> Result<Host, String> {
        let state = State {
            exports: None,
            memory: None,
            conns: HashMap::new(),
            sources: HashMap::new(),
            next_id: 0,
            fields: Vec::new(),
            broken: false,
            trap_armed: false,
        };
        let mut store = Store::new(module.engine(), state);
        let instance = linker.instantiate(&mut store, &module).map_err(|e| format!("instantiate h2wasm.wasm: {e:#}"))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| "h2wasm.wasm exports no memory".to_string())?;
        let exports = Exports::load(&mut store, &instance).map_err(|e| format!("h2wasm.wasm: {e:#}"))?;
        store.data_mut().exports = Some(Rc::new(exports));
        store.data_mut().memory = Some(memory);
        let mut host = Host { module, linker, store, memory, exec: 0, start: Instant::now(), pollfds: Vec::new(), pollids: Vec::new() };
        host.exec = host.h2_executor_new();
        if host.exec == 0 {
            return Err("h2_executor_new failed".into());
        }
        Ok(host)
    }

    /// For tests: the next io_write traps inside the module, as a bug in the module would.
    pub fn inject_trap(&mut self) {
        self.store.data_mut().trap_armed = true;
    }

    /// How many sockets this host holds (open, or closing with output left).
    pub fn connections(&self) -> usize {
        self.store.data().conns.len()
    }

    /// Linear memory as it is now (it can move when memory grows: take it again after calls).
    pub fn mem(&self) -> &[u8] {
        self.memory.data(&self.store)
    }

    /// Copies `[ptr, ptr+len)` out of linear memory (empty when out of range).
    pub fn bytes(&self, ptr: u32, len: u32) -> Vec<u8> {
        let start = ptr as usize;
        self.mem().get(start..start + len as usize).map(<[u8]>::to_vec).unwrap_or_default()
    }

    /// Copies `b` into a new h2_alloc buffer; the caller h2_frees it.
    pub fn copy_in(&mut self, b: &[u8]) -> u32 {
        let p = self.h2_alloc(b.len().max(1) as u32);
        if p == 0 {
            eprintln!("h2wasm: h2_alloc({}) failed", b.len());
            std::process::exit(70);
        }
        self.memory.data_mut(&mut self.store)[p as usize..p as usize + b.len()].copy_from_slice(b);
        p
    }

    /// Runs `f(host, ptr, len)` with `b` copied into linear memory for the call.
    pub fn with_bytes<R>(&mut self, b: &[u8], f: impl FnOnce(&mut Host, u32, u32) -> R) -> R {
        let p = self.copy_in(b);
        let r = f(self, p, b.len() as u32);
        self.h2_free(p);
        r
    }

    /// Adds one field to a headers handle.
    pub fn add_header(&mut self, headers: u32, name: &str, value: &str) -> u32 {
        let n = self.copy_in(name.as_bytes());
        let v = self.copy_in(value.as_bytes());
        let rc = self.h2_headers_add(headers, n, name.len() as u32, v, value.len() as u32);
        self.h2_free(n);
        self.h2_free(v);
        rc
    }

    /// The fields of a headers handle, in order.
    pub fn headers(&mut self, headers: u32) -> Vec<(String, String)> {
        self.store.data_mut().fields.clear();
        self.h2_headers_foreach(headers, 0);
        std::mem::take(&mut self.store.data_mut().fields)
    }

    /// A request pseudo-header (0 :method, 1 :scheme, 2 :authority, 3 :path); "" when absent.
    pub fn pseudo(&mut self, req: u32, which: u32) -> String {
        const CAP: u32 = 8192;
        let p = self.h2_alloc(CAP);
        let n = self.h2_request_pseudo(req, which, p, CAP);
        let s = if n == 0xFFFF_FFFF { Vec::new() } else { self.bytes(p, n.min(CAP)) };
        self.h2_free(p);
        String::from_utf8_lossy(&s).into_owned()
    }

    /// An h2_error's message, code and reason (the error stays the caller's).
    pub fn error_message(&mut self, err: u32) -> String {
        let p = self.h2_alloc(512);
        let n = self.h2_error_print(err, p, 512);
        let msg = String::from_utf8_lossy(&self.bytes(p, n)).into_owned();
        self.h2_free(p);
        format!("{msg} (code {}, reason {})", self.h2_error_code(err), self.h2_error_reason(err))
    }

    /// Takes an ERROR task's value and returns its message (the error is freed).
    pub fn task_error(&mut self, task: u32) -> String {
        let err = self.h2_task_value(task);
        let msg = self.error_message(err);
        self.h2_error_free(err);
        msg
    }

    /// Sets a task's userdata and pushes it. False (and nothing pushed) for a 0 task.
    pub fn push(&mut self, task: u32, userdata: u32) -> bool {
        if task == 0 {
            return false;
        }
        self.h2_task_set_userdata(task, userdata);
        if self.h2_executor_push(self.exec, task) != 0 {
            self.h2_task_free(task);
            return false;
        }
        true
    }

    fn now_ms(&self) -> i64 {
        self.start.elapsed().as_millis() as i64
    }

    /// Tells the executor the time: at every event, before the calls it leads to.
    pub fn tell_time(&mut self) {
        let now = self.now_ms();
        self.h2_executor_set_time(self.exec, now);
    }

    /// Tells the executor the time, then returns the next finished task as
    /// (task, type, userdata), or None when nothing is ready. Free the task after use.
    pub fn poll(&mut self) -> Option<(u32, u32, u32)> {
        self.tell_time();
        let task = self.h2_executor_poll(self.exec);
        if task == 0 {
            return None;
        }
        Some((task, self.h2_task_type(task), self.h2_task_userdata(task)))
    }

    /// A new h2_io for `stream` (made non-blocking, Nagle off). Pass it to a handshake,
    /// which takes it; the socket stays registered until [`Host::close_io`].
    pub fn new_io(&mut self, stream: TcpStream) -> io::Result<(u32, u32)> {
        self.new_io_with(stream, None)
    }

    /// [`Host::new_io`] for a socket that carries TLS (after [`tls::handshake`]).
    pub fn new_tls_io(&mut self, stream: TcpStream, tls: tls::TlsConnection) -> io::Result<(u32, u32)> {
        self.new_io_with(stream, Some(tls))
    }

    fn new_io_with(&mut self, stream: TcpStream, tls: Option<tls::TlsConnection>) -> io::Result<(u32, u32)> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        let id = self.store.data_mut().id();
        self.store.data_mut().conns.insert(id, Conn { stream, tls, out: Vec::new(), failed: false, closing: false, read_waker: 0, write_waker: 0 });
        let io = self.h2_io_new();
        self.h2_io_set_userdata(io, id);
        Ok((io, id))
    }

    /// Frees the socket's wakers and closes it once its buffered output is written
    /// (by [`Host::wait`]; at once when there is none or the socket failed).
    pub fn close_io(&mut self, id: u32) {
        let Some(c) = self.store.data_mut().conns.get_mut(&id) else { return };
        let wakers = [std::mem::take(&mut c.read_waker), std::mem::take(&mut c.write_waker)];
        c.closing = true;
        if c.failed || c.flush().is_err() || !c.pending() {
            self.store.data_mut().conns.remove(&id);
        }
        for w in wakers {
            if w != 0 {
                self.h2_waker_free(w);
            }
        }
    }

    /// A data-source body that sends `data` (body_read copies it in pieces). Set it on a
    /// request or response, which takes it.
    pub fn new_body(&mut self, data: Vec<u8>) -> u32 {
        let id = self.store.data_mut().id();
        self.store.data_mut().sources.insert(id, Source { data, at: 0 });
        let body = self.h2_body_new();
        self.h2_body_set_userdata(body, id);
        body
    }

    /// Sleeps in poll(2) until a socket holding a waker is ready, one of `extra` is
    /// readable, the executor's next deadline, or `max`; then wakes the wakers whose
    /// socket is ready. Returns, for each of `extra`, whether it is readable.
    pub fn wait(&mut self, extra: &[RawFd], max: Duration) -> io::Result<Vec<bool>> {
        self.pollfds.clear();
        self.pollids.clear();
        let mut wake = Vec::new();
        let mut gone = Vec::new();
        for (&id, c) in self.store.data_mut().conns.iter_mut() {
            let mut events = 0;
            // Output the engine already counted as written.
            if c.pending() && !c.failed {
                match c.flush() {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => events |= libc::POLLOUT,
                    Err(_) => {
                        c.failed = true;
                        wake.extend([std::mem::take(&mut c.read_waker), std::mem::take(&mut c.write_waker)]);
                    }
                }
            }
            if c.closing && (c.failed || !c.pending()) {
                gone.push(id);
                continue;
            }
            if c.read_waker != 0 {
                events |= libc::POLLIN;
            }
            if c.write_waker != 0 {
                events |= libc::POLLOUT;
            }
            if events != 0 {
                self.pollfds.push(libc::pollfd { fd: c.stream.as_raw_fd(), events, revents: 0 });
                self.pollids.push(id);
            }
        }
        for id in gone {
            self.store.data_mut().conns.remove(&id);
        }
        // A write failed: let the engine see it now rather than sleep.
        wake.retain(|&w| w != 0);
        if !wake.is_empty() {
            for w in wake {
                self.h2_waker_wake(w);
            }
            return Ok(vec![false; extra.len()]);
        }
        for &fd in extra {
            self.pollfds.push(libc::pollfd { fd, events: libc::POLLIN, revents: 0 });
        }
        let mut timeout = max.as_millis().min(i32::MAX as u128) as i64;
        let deadline = self.h2_executor_next_deadline(self.exec);
        if deadline >= 0 {
            timeout = timeout.min((deadline - self.now_ms()).max(0));
        }
        // SAFETY: pollfds is a valid, initialised array of pollfd of the length given.
        let n = unsafe { libc::poll(self.pollfds.as_mut_ptr(), self.pollfds.len() as libc::nfds_t, timeout as i32) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(vec![false; extra.len()]) } else { Err(e) };
        }
        let ids = std::mem::take(&mut self.pollids);
        let fds = std::mem::take(&mut self.pollfds);
        for (pfd, id) in fds.iter().zip(&ids) {
            let r = pfd.revents;
            if r == 0 {
                continue;
            }
            let failed = r & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0;
            let Some(c) = self.store.data_mut().conns.get_mut(id) else { continue };
            let rw = if r & libc::POLLIN != 0 || failed { std::mem::take(&mut c.read_waker) } else { 0 };
            let ww = if r & libc::POLLOUT != 0 || failed { std::mem::take(&mut c.write_waker) } else { 0 };
            for w in [rw, ww] {
                if w != 0 {
                    self.h2_waker_wake(w);
                }
            }
        }
        let ready = fds[ids.len()..].iter().map(|p| p.revents != 0).collect();
        self.pollfds = fds;
        self.pollids = ids;
        // An event fired: the time, before the caller accepts a connection or sends.
        self.tell_time();
        Ok(ready)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let ids: Vec<u32> = self.store.data().conns.keys().copied().collect();
        for id in ids {
            self.close_io(id);
        }
        self.store.data_mut().conns.clear();
        if self.exec != 0 {
            self.h2_executor_free(self.exec);
            self.exec = 0;
        }
    }
}
