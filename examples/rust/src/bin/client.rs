//! client — fetches one URL over HTTP/2 with h2wasm under wasmtime.
//!
//!   client [-k] [--wasm PATH] [-X METHOD] [-d DATA] URL
//!   client -n N -m M [-k] [--wasm PATH] URL        (bench mode, like h2load -n N -c 1 -m M)
//!
//! http:// is h2c with prior knowledge; https:// is TLS (rustls) with ALPN h2, -k skipping
//! the certificate check.
//!
//! Fetch mode: the response body, and nothing else, goes to stdout; the status line and
//! headers go to stderr. Exit status 1 on any failure, 2 for a status of 400 or more.
//!
//! Bench mode: N requests on ONE connection, at most M streams in flight; bodies are read
//! to their end and discarded, stdout stays empty, and the last stderr line is
//! `requests=N ok=K seconds=S req/s=R` (K: responses 2xx with their whole body; S from
//! before connecting to the last response's end; R = K / S). Exit status 1 unless K = N.
//!
//! Task userdata: KIND << 24 | slot (the in-flight request's slot in bench mode).

use std::io::{BufWriter, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::exit;
use std::time::{Duration, Instant};

use h2host::*;

const K_HANDSHAKE: u32 = 1;
const K_SEND: u32 = 2;
const K_BODY: u32 = 3;
const fn ud(kind: u32, slot: u32) -> u32 {
    kind << 24 | slot
}

struct Args {
    wasm: PathBuf,
    method: String,
    data: Option<Vec<u8>>,
    bench: Option<(u64, u32)>,
    insecure: bool,
    timeout: Duration,
    url: String,
}

fn usage() -> ! {
    eprintln!("usage: client [-k] [--wasm PATH] [-X METHOD] [-d DATA] [-n N -m M] [--timeout SECONDS] URL");
    exit(1)
}

fn parse_args() -> Args {
    let mut a = Args { wasm: default_wasm_path(), method: String::new(), data: None, bench: None, insecure: false, timeout: Duration::from_secs(300), url: String::new() };
    let (mut n, mut m) = (None::<u64>, None::<u32>);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--wasm" | "-wasm" => a.wasm = PathBuf::from(value()),
            "-X" => a.method = value(),
            "-k" => a.insecure = true,
            "-d" => a.data = Some(value().into_bytes()),
            "-n" => n = Some(value().parse().unwrap_or_else(|_| usage())),
            "-m" => m = Some(value().parse().unwrap_or_else(|_| usage())),
            "--timeout" => a.timeout = Duration::from_secs_f64(value().parse().unwrap_or_else(|_| usage())),
            s if s.starts_with('-') || !a.url.is_empty() => usage(),
            s => a.url = s.to_string(),
        }
    }
    if a.url.is_empty() {
        usage();
    }
    if n.is_some() || m.is_some() {
        let (n, m) = (n.unwrap_or(1), m.unwrap_or(1));
        if n == 0 || m == 0 || m >= 1 << 24 {
            usage();
        }
        a.bench = Some((n, m));
    }
    if a.method.is_empty() {
        a.method = if a.data.is_some() { "POST" } else { "GET" }.to_string();
    }
    a
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("client: {msg}");
    exit(1)
}

/// Connects to the URL's authority: plain TCP for http://, TLS with ALPN h2 for https://.
fn dial(url: &str, insecure: bool) -> Result<(TcpStream, Option<tls::TlsConnection>), String> {
    let (https, rest) = match url.split_once("://") {
        Some(("http", rest)) => (false, rest),
        Some(("https", rest)) => (true, rest),
        _ => return Err(format!("not an http:// or https:// URL: {url}")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("no host in {url}"));
    }
    let has_port = match authority.rfind(']') {
        Some(i) => authority[i..].contains(':'),
        None => authority.contains(':'),
    };
    let target = match (has_port, https) {
        (true, _) => authority.to_string(),
        (false, false) => format!("{authority}:80"),
        (false, true) => format!("{authority}:443"),
    };
    let addrs = target.to_socket_addrs().map_err(|e| format!("{target}: {e}"))?;
    let mut last = Err(format!("{target}: no address"));
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
            Ok(s) => {
                last = Ok(s);
                break;
            }
            Err(e) => last = Err(format!("connect {addr}: {e}")),
        }
    }
    let mut stream = last?;
    if !https {
        return Ok((stream, None));
    }
    // The host name for SNI and the certificate check: the authority less port and brackets.
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None if has_port => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        None => authority,
    };
    let conn = tls::handshake(&mut stream, host, insecure)?;
    Ok((stream, Some(conn)))
}

/// Makes the client options (large receive windows: bodies stream without waiting on
/// WINDOW_UPDATE round trips) and starts the handshake on `stream`.
fn handshake(h: &mut Host, (stream, tls): (TcpStream, Option<tls::TlsConnection>)) {
    let io = match tls {
        Some(tls) => h.new_tls_io(stream, tls),
        None => h.new_io(stream),
    };
    let (io, _) = io.unwrap_or_else(|e| fail(e));
    let opts = h.h2_clientconn_options_new();
    h.h2_clientconn_options_exec(opts, h.exec);
    h.h2_clientconn_options_set(opts, OPT_INITIAL_WINDOW_SIZE, 4 << 20);
    h.h2_clientconn_options_set(opts, OPT_CONNECTION_WINDOW, 16 << 20);
    let task = h.h2_clientconn_handshake(io, opts); // io and opts are taken
    if !h.push(task, ud(K_HANDSHAKE, 0)) {
        fail("h2_clientconn_handshake failed");
    }
}

fn unexpected(h: &mut Host, task: u32, typ: u32, what: &str) -> String {
    if typ == TASK_ERROR {
        format!("{what}: {}", h.task_error(task))
    } else {
        format!("{what}: unexpected task type {typ}")
    }
}

/// Fetch mode: one request, the body to stdout.
fn fetch(h: &mut Host, a: &Args) -> u32 {
    let deadline = Instant::now() + a.timeout;
    let stream = dial(&a.url, a.insecure).unwrap_or_else(|e| fail(e));
    handshake(h, stream);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(256 << 10, stdout.lock());
    let (mut conn, mut body, mut status) = (0, 0, 0);
    let mut result: Option<Result<(), String>> = None;
    while result.is_none() {
        while let Some((task, typ, userdata)) = h.poll() {
            match userdata >> 24 {
                K_HANDSHAKE if typ == TASK_CLIENTCONN => {
                    conn = h.h2_task_value(task);
                    let req = h.h2_request_new();
                    let rc = h.with_bytes(a.method.as_bytes(), |h, p, n| h.h2_request_set_method(req, p, n));
                    let rc = rc | h.with_bytes(a.url.as_bytes(), |h, p, n| h.h2_request_set_uri(req, p, n));
                    if rc != 0 {
                        h.h2_request_free(req);
                        result = Some(Err(format!("bad method or URL (code {rc})")));
                    } else {
                        let headers = h.h2_request_headers(req);
                        h.add_header(headers, "user-agent", &format!("h2wasm-rust/wasmtime-{WASMTIME_VERSION}"));
                        if let Some(d) = &a.data {
                            let b = h.new_body(d.clone());
                            h.h2_request_set_body(req, b);
                        }
                        let send = h.h2_clientconn_send(conn, req); // req is taken
                        if !h.push(send, ud(K_SEND, 0)) {
                            result = Some(Err("h2_clientconn_send failed".into()));
                        }
                    }
                }
                K_HANDSHAKE => result = Some(Err(unexpected(h, task, typ, "handshake"))),
                K_SEND if typ == TASK_RESPONSE => {
                    let resp = h.h2_task_value(task);
                    status = h.h2_response_status(resp);
                    let hdrs = h.h2_response_headers(resp);
                    let mut head = format!("HTTP/2 {status}\n");
                    for (n, v) in h.headers(hdrs) {
                        head += &format!("{n}: {v}\n");
                    }
                    eprint!("{head}");
                    body = h.h2_response_body(resp);
                    h.h2_response_free(resp);
                    let t = h.h2_body_data(body);
                    if !h.push(t, ud(K_BODY, 0)) {
                        result = Some(Err("h2_body_data failed".into()));
                    }
                }
                K_SEND => result = Some(Err(unexpected(h, task, typ, "request"))),
                K_BODY if typ == TASK_BUF => {
                    let buf = h.h2_task_value(task);
                    let (p, n) = (h.h2_buf_bytes(buf) as usize, h.h2_buf_len(buf) as usize);
                    if let Err(e) = out.write_all(&h.mem()[p..p + n]) {
                        result = Some(Err(format!("stdout: {e}")));
                    }
                    h.h2_buf_free(buf);
                    let t = h.h2_body_data(body);
                    if result.is_none() && !h.push(t, ud(K_BODY, 0)) {
                        result = Some(Err("h2_body_data failed".into()));
                    }
                }
                K_BODY if typ == TASK_EMPTY => result = Some(Ok(())),
                K_BODY => result = Some(Err(unexpected(h, task, typ, "body"))),
                _ => {}
            }
            h.h2_task_free(task);
            if result.is_some() {
                break;
            }
        }
        if result.is_some() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            result = Some(Err(format!("timed out after {:?}", a.timeout)));
            break;
        }
        if let Err(e) = h.wait(&[], left.min(Duration::from_secs(1))) {
            result = Some(Err(format!("poll: {e}")));
        }
    }
    if let Err(e) = out.flush() {
        fail(format!("stdout: {e}"));
    }
    if body != 0 {
        h.h2_body_free(body);
    }
    if conn != 0 {
        h.h2_clientconn_free(conn);
    }
    if let Some(Err(e)) = result {
        fail(e);
    }
    status
}

/// One in-flight request of the bench.
#[derive(Clone, Copy, Default)]
struct Slot {
    body: u32,
    status: u32,
}

/// Bench mode: N requests, at most M in flight, one connection.
fn bench(h: &mut Host, a: &Args, n: u64, m: u32) -> bool {
    let t0 = Instant::now();
    let deadline = t0 + a.timeout;
    let stream = dial(&a.url, a.insecure).unwrap_or_else(|e| fail(e));
    handshake(h, stream);
    // The method and URL stay in linear memory for the whole run: each request is
    // h2_request_new, set_method, set_uri, send (both setters copy).
    let (method, method_len) = (h.copy_in(a.method.as_bytes()), a.method.len() as u32);
    let (url, url_len) = (h.copy_in(a.url.as_bytes()), a.url.len() as u32);
    let mut slots = vec![Slot::default(); m.min(n.min(u32::MAX as u64) as u32) as usize];
    let (mut conn, mut sent, mut done, mut ok) = (0u32, 0u64, 0u64, 0u64);
    let mut fatal: Option<String> = None;

    // Sends the next request on `slot`, or counts it failed when it cannot be sent.
    fn send(h: &mut Host, conn: u32, slot: u32, method: (u32, u32), url: (u32, u32)) -> bool {
        let req = h.h2_request_new();
        if h.h2_request_set_method(req, method.0, method.1) != 0 || h.h2_request_set_uri(req, url.0, url.1) != 0 {
            h.h2_request_free(req);
            return false;
        }
        let task = h.h2_clientconn_send(conn, req);
        h.push(task, ud(K_SEND, slot))
    }

    while done < n && fatal.is_none() {
        while let Some((task, typ, userdata)) = h.poll() {
            let slot = userdata & 0xFF_FFFF;
            let mut finished = None; // Some(ok?) when the slot's request ended
            match userdata >> 24 {
                K_HANDSHAKE if typ == TASK_CLIENTCONN => {
                    conn = h.h2_task_value(task);
                    for s in 0..slots.len() as u32 {
                        sent += 1;
                        if !send(h, conn, s, (method, method_len), (url, url_len)) {
                            done += 1;
                        }
                    }
                }
                K_HANDSHAKE => fatal = Some(unexpected(h, task, typ, "handshake")),
                K_SEND if typ == TASK_RESPONSE => {
                    let resp = h.h2_task_value(task);
                    let s = &mut slots[slot as usize];
                    s.status = h.h2_response_status(resp);
                    let body = h.h2_response_body(resp);
                    slots[slot as usize].body = body;
                    h.h2_response_free(resp);
                    let t = h.h2_body_data(body);
                    if !h.push(t, ud(K_BODY, slot)) {
                        finished = Some(false);
                    }
                }
                K_SEND => finished = Some(false),
                K_BODY if typ == TASK_BUF => {
                    let t = h.h2_body_data(slots[slot as usize].body); // the buf goes with the task
                    if !h.push(t, ud(K_BODY, slot)) {
                        finished = Some(false);
                    }
                }
                K_BODY => finished = Some(typ == TASK_EMPTY && (200..300).contains(&slots[slot as usize].status)),
                _ => {}
            }
            h.h2_task_free(task);
            if let Some(good) = finished {
                let s = std::mem::take(&mut slots[slot as usize]);
                if s.body != 0 {
                    h.h2_body_free(s.body);
                }
                done += 1;
                ok += good as u64;
                // Refill the slot; a request that cannot even be sent ends at once.
                while sent < n {
                    sent += 1;
                    if send(h, conn, slot, (method, method_len), (url, url_len)) {
                        break;
                    }
                    done += 1;
                }
            }
            if done >= n || fatal.is_some() {
                break;
            }
        }
        if done >= n || fatal.is_some() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            fatal = Some(format!("timed out after {:?} ({done} of {n} requests done)", a.timeout));
            break;
        }
        if let Err(e) = h.wait(&[], left.min(Duration::from_secs(1))) {
            fatal = Some(format!("poll: {e}"));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    for s in slots.iter().filter(|s| s.body != 0) {
        h.h2_body_free(s.body);
    }
    if conn != 0 {
        h.h2_clientconn_free(conn);
    }
    h.h2_free(method);
    h.h2_free(url);
    if let Some(e) = &fatal {
        eprintln!("client: {e}");
    }
    let rate = if secs > 0.0 { (ok as f64 / secs).round() as u64 } else { 0 };
    eprintln!("requests={n} ok={ok} seconds={secs:.3} req/s={rate}");
    ok == n
}

fn main() {
    let a = parse_args();
    let mut h = Host::new(&a.wasm).unwrap_or_else(|e| fail(e));
    match a.bench {
        Some((n, m)) => {
            let all = bench(&mut h, &a, n, m);
            drop(h);
            exit(if all { 0 } else { 1 });
        }
        None => {
            let status = fetch(&mut h, &a);
            drop(h);
            exit(if status >= 400 { 2 } else { 0 });
        }
    }
}
