//! server — an h2c (HTTP/2 prior knowledge) server on h2wasm under wasmtime:
//!
//!   server [--port 8080] [--host 127.0.0.1] [--wasm PATH] [--inject-trap PATH]
//!
//! Every request is read to its end and answered 200 with a short text body: a request
//! without a body (GET) gets a greeting, one with a body gets the byte count
//! ("received N bytes"), as examples/go/server and examples/c/server do. Try it with
//!
//!   curl --http2-prior-knowledge http://127.0.0.1:8080/
//!   curl --http2-prior-knowledge --data-binary @file http://127.0.0.1:8080/
//!   h2load -n 10000 -c 4 -m 20 http://127.0.0.1:8080/
//!
//! One thread, one executor, every connection: a non-blocking listener and sockets
//! multiplexed by Host::wait (poll(2)). Task userdata: KIND << 24 | index, where the index
//! is a connection slot (handshake, accept, close) or a request slot (body).
//!
//! A trap in the instance does not end the server: its connections fail, one line says
//! so, and new connections are served by a fresh instance of the same compiled module
//! (--inject-trap PATH, for tests, makes a request for PATH trap the instance).

use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::exit;
use std::time::Duration;

use h2host::*;

const K_HANDSHAKE: u32 = 1;
const K_ACCEPT: u32 = 2;
const K_CLOSE: u32 = 3;
const K_BODY: u32 = 4;
const fn ud(kind: u32, index: usize) -> u32 {
    kind << 24 | index as u32
}
const MAX_INDEX: usize = 1 << 24;

/// A connection: its socket's id in the host and, after the handshake, the h2_serverconn.
#[derive(Default)]
struct Conn {
    io_id: u32,
    conn: u32,
}

/// A request being read: its body, the right to answer, the bytes seen.
#[derive(Default)]
struct Req {
    body: u32,
    respond: u32,
    received: u64,
}

/// A slab: slots reused after they are freed, so indexes fit in the userdata's 24 bits.
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<usize>,
}

impl<T> Slab<T> {
    fn new() -> Self {
        Slab { items: Vec::new(), free: Vec::new() }
    }
    fn insert(&mut self, v: T) -> Option<usize> {
        if let Some(i) = self.free.pop() {
            self.items[i] = Some(v);
            return Some(i);
        }
        if self.items.len() >= MAX_INDEX {
            return None;
        }
        self.items.push(Some(v));
        Some(self.items.len() - 1)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i).and_then(Option::as_mut)
    }
    fn remove(&mut self, i: usize) -> Option<T> {
        let v = self.items.get_mut(i).and_then(Option::take);
        if v.is_some() {
            self.free.push(i);
        }
        v
    }
}

struct Server {
    h: Host,
    conns: Slab<Conn>,
    reqs: Slab<Req>,
    greeting: String,
    trap_path: Option<String>,
}

impl Server {
    fn start_conn(&mut self, stream: std::net::TcpStream) {
        let Ok((io, io_id)) = self.h.new_io(stream) else { return };
        let Some(index) = self.conns.insert(Conn { io_id, conn: 0 }) else {
            self.h.h2_io_free(io);
            self.h.close_io(io_id);
            return;
        };
        let opts = self.h.h2_serverconn_options_new();
        self.h.h2_serverconn_options_exec(opts, self.h.exec);
        self.h.h2_serverconn_options_set(opts, OPT_MAX_CONCURRENT_STREAMS, 256);
        self.h.h2_serverconn_options_set(opts, OPT_INITIAL_WINDOW_SIZE, 1 << 20);
        self.h.h2_serverconn_options_set(opts, OPT_CONNECTION_WINDOW, 8 << 20);
        let task = self.h.h2_serverconn_handshake(io, opts); // io and opts are taken
        if !self.h.push(task, ud(K_HANDSHAKE, index)) {
            self.close_conn(index);
        }
    }

    fn close_conn(&mut self, index: usize) {
        if let Some(c) = self.conns.remove(index) {
            if c.conn != 0 {
                self.h.h2_serverconn_free(c.conn);
            }
            self.h.close_io(c.io_id);
        }
    }

    fn free_req(&mut self, index: usize) {
        if let Some(r) = self.reqs.remove(index) {
            if r.body != 0 {
                self.h.h2_body_free(r.body);
            }
            if r.respond != 0 {
                self.h.h2_respond_free(r.respond);
            }
        }
    }

    /// The whole request arrived: 200 with a short body, HEADERS then one DATA with END_STREAM.
    fn answer(&mut self, index: usize) {
        let Some(r) = self.reqs.get_mut(index) else { return };
        let (respond, received) = (std::mem::take(&mut r.respond), r.received);
        let text = if received > 0 { format!("received {received} bytes\n") } else { self.greeting.clone() };
        let h = &mut self.h;
        let resp = h.h2_response_new();
        h.h2_response_set_status(resp, 200);
        let headers = h.h2_response_headers(resp);
        h.add_header(headers, "content-type", "text/plain");
        h.add_header(headers, "content-length", &text.len().to_string());
        let send = h.h2_respond_send_response(respond, resp, 0); // resp is taken
        if send != 0 {
            h.with_bytes(text.as_bytes(), |h, p, n| h.h2_send_stream_send_data(send, p, n, 1));
            h.h2_send_stream_free(send);
        }
        h.h2_respond_free(respond);
        self.free_req(index);
    }

    fn on_task(&mut self, task: u32, typ: u32, userdata: u32) {
        let (kind, index) = (userdata >> 24, (userdata & 0xFF_FFFF) as usize);
        match kind {
            K_HANDSHAKE if typ == TASK_SERVERCONN => {
                let conn = self.h.h2_task_value(task);
                match self.conns.get_mut(index) {
                    Some(c) => c.conn = conn,
                    None => {
                        self.h.h2_serverconn_free(conn);
                        return;
                    }
                }
                let accept = self.h.h2_serverconn_accept(conn);
                let close = self.h.h2_serverconn_poll_close(conn);
                if !self.h.push(accept, ud(K_ACCEPT, index)) || !self.h.push(close, ud(K_CLOSE, index)) {
                    self.close_conn(index);
                }
            }
            // No preface: the peer went away or spoke something else.
            K_HANDSHAKE => self.close_conn(index),
            K_ACCEPT if typ == TASK_REQUEST => {
                let req = self.h.h2_task_value(task);
                if self.trap_path.is_some() && self.trap_path.as_deref() == Some(self.h.pseudo(req, PSEUDO_PATH).as_str()) {
                    self.h.inject_trap();
                }
                let body = self.h.h2_request_body(req);
                let respond = self.h.h2_request_respond(req);
                self.h.h2_request_free(req);
                match self.reqs.insert(Req { body, respond, received: 0 }) {
                    Some(i) => {
                        let t = self.h.h2_body_data(body);
                        if !self.h.push(t, ud(K_BODY, i)) {
                            self.free_req(i);
                        }
                    }
                    None => {
                        self.h.h2_body_free(body);
                        self.h.h2_respond_free(respond);
                    }
                }
                if let Some(conn) = self.conns.get_mut(index).map(|c| c.conn) {
                    let t = self.h.h2_serverconn_accept(conn);
                    self.h.push(t, ud(K_ACCEPT, index));
                }
            }
            // EMPTY: no more requests on this connection; ERROR: poll_close reports it.
            K_ACCEPT => {}
            K_BODY if typ == TASK_BUF => {
                let buf = self.h.h2_task_value(task);
                let n = self.h.h2_buf_len(buf) as u64;
                self.h.h2_buf_free(buf);
                if let Some(r) = self.reqs.get_mut(index) {
                    r.received += n;
                    let body = r.body;
                    let t = self.h.h2_body_data(body);
                    if !self.h.push(t, ud(K_BODY, index)) {
                        self.free_req(index);
                    }
                }
            }
            K_BODY if typ == TASK_EMPTY => self.answer(index),
            // The stream was reset or the connection failed.
            K_BODY => self.free_req(index),
            K_CLOSE => self.close_conn(index),
            _ => {}
        }
    }
}

impl Server {
    /// One round: every ready task, then a wait for sockets (the listener among them).
    fn round(&mut self, listener: &TcpListener, lfd: RawFd) {
        while let Some((task, typ, userdata)) = self.h.poll() {
            self.on_task(task, typ, userdata);
            self.h.h2_task_free(task);
        }
        let ready = self.h.wait(&[lfd], Duration::from_secs(1)).unwrap_or_else(|e| {
            eprintln!("server: poll: {e}");
            exit(1)
        });
        if ready[0] {
            loop {
                match listener.accept() {
                    Ok((stream, _)) => self.start_conn(stream),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // Out of descriptors or a connection reset before accept: try later.
                    Err(_) => break,
                }
            }
        }
    }

    /// The instance trapped (a bug in the module: it checks every size a peer or host
    /// decides before it allocates): it is not entered again. Dropping its host closes
    /// every connection on it; the slots (handles of that instance) are forgotten; a fresh
    /// instance of the same compiled module serves what comes next.
    fn replace_instance(&mut self, trap: &Trap) {
        // A fresh instance that traps at once (in h2_executor_new) ends the server with a
        // message: there is nothing left to serve with.
        let fresh = match catch_unwind(AssertUnwindSafe(|| self.h.fresh())) {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                eprintln!("server: after a trap ({trap}), a fresh instance: {e}");
                exit(1)
            }
            Err(payload) => {
                let again = payload.downcast_ref::<Trap>().map(|t| t.to_string()).unwrap_or_else(|| "a panic".into());
                eprintln!("server: after a trap ({trap}), the fresh instance trapped too ({again})");
                exit(1)
            }
        };
        let failed = self.h.connections();
        self.h = fresh;
        self.conns = Slab::new();
        self.reqs = Slab::new();
        eprintln!("h2wasm: the module instance trapped ({trap}); {failed} connection(s) failed; new connections get a fresh instance");
    }
}

fn usage() -> ! {
    eprintln!("usage: server [--port N] [--host ADDR] [--wasm PATH] [--inject-trap PATH]");
    exit(2)
}

fn main() {
    let (mut port, mut host, mut wasm, mut trap_path) = (8080u16, "127.0.0.1".to_string(), default_wasm_path(), None);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" | "-port" => port = value().parse().unwrap_or_else(|_| usage()),
            "--host" | "-host" => host = value(),
            "--wasm" | "-wasm" => wasm = PathBuf::from(value()),
            "--inject-trap" | "-inject-trap" => trap_path = Some(value()),
            _ => usage(),
        }
    }
    let h = Host::new(&wasm).unwrap_or_else(|e| {
        eprintln!("server: {e}");
        exit(1)
    });
    let listener = TcpListener::bind((host.as_str(), port)).unwrap_or_else(|e| {
        eprintln!("server: listen on {host}:{port}: {e}");
        exit(1)
    });
    listener.set_nonblocking(true).expect("non-blocking listener");
    let addr = listener.local_addr().expect("local address");
    eprintln!("listening on http://{addr} (h2c, wasmtime {WASMTIME_VERSION})");
    let greeting = format!("hello from h2wasm (Rust host, wasmtime {WASMTIME_VERSION})\n");
    let mut s = Server { h, conns: Slab::new(), reqs: Slab::new(), greeting, trap_path };
    let lfd = listener.as_raw_fd();
    // A trap is said in one line by replace_instance, not by the panic hook.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<Trap>().is_none() {
            hook(info)
        }
    }));
    loop {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| s.round(&listener, lfd))) {
            match payload.downcast::<Trap>() {
                Ok(trap) => s.replace_instance(&trap),
                Err(other) => std::panic::resume_unwind(other),
            }
        }
    }
}
