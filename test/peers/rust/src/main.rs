//! h2peer: a hyper 1.x HTTP/2 peer (h2c, prior knowledge) for h2wasm's interop tests.
//!
//!   h2peer client URL --size N --chunk K [--resp-size M] [--resp-chunk J]
//!       POSTs N bytes of the shared pattern to URL, K bytes per DATA chunk, through a
//!       channel body, then the trailers `x-client-sha` and `x-client-len`. Asks for an
//!       M-byte response in J-byte chunks (headers `x-resp-size`, `x-resp-chunk`). Prints one
//!       line of JSON: status, headers, the sha256 and length of what it sent and of what it
//!       received, the response trailers.
//!
//!       --parallel P sends P such requests at once on the one connection and prints
//!       {"parallel":P,"results":[…]}.
//!
//!   h2peer server [--port P]
//!       Serves h2c on 127.0.0.1:P (0: any free port) and prints the bound address on
//!       stdout. Every request: reads the body to its end (sha256, length, trailers), then
//!       answers 200 with `x-req-sha` / `x-req-len`, a body of `x-resp-size` pattern bytes
//!       (default: the request's length) in `x-resp-chunk`-byte chunks (default 16384) and
//!       the trailers `x-sha`, `x-len`, `x-req-sha` and `x-echo-<name>` for every request
//!       trailer.
//!
//! Both roles take `--window W` (initial stream and connection receive windows), `--frame F`
//! (the SETTINGS_MAX_FRAME_SIZE advertised) and `--adaptive` (hyper's BDP-driven windows).
//!
//! The pattern: byte i is (i % 251), so chunk boundaries never line up with the cycle.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ChanBody = StreamBody<ReceiverStream<Result<Frame<Bytes>, Infallible>>>;

fn pattern(at: u64, len: usize) -> Bytes {
    (0..len as u64).map(|i| ((at + i) % 251) as u8).collect::<Vec<u8>>().into()
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_map(h: &HeaderMap) -> String {
    let m: BTreeMap<&str, String> =
        h.iter().map(|(k, v)| (k.as_str(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{}:{}", json_str(k), json_str(v))).collect();
    format!("{{{}}}", parts.join(","))
}

/// Streams `size` pattern bytes in `chunk`-byte DATA frames through a bounded channel, then
/// the trailers `make_trailers(sha, len)` builds. The channel's bound makes the producer wait
/// for hyper (and so for the peer's flow-control windows).
fn channel_body(size: u64, chunk: usize, make_trailers: impl FnOnce(String, u64) -> HeaderMap + Send + 'static) -> (ChanBody, String) {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
    let mut h = Sha256::new();
    let mut at = 0u64;
    while at < size {
        let n = chunk.min((size - at) as usize);
        h.update(&pattern(at, n));
        at += n as u64;
    }
    let sha = hex(&h.finalize());
    let sha2 = sha.clone();
    tokio::spawn(async move {
        let mut at = 0u64;
        while at < size {
            let n = chunk.min((size - at) as usize);
            if tx.send(Ok(Frame::data(pattern(at, n)))).await.is_err() {
                return;
            }
            at += n as u64;
        }
        let _ = tx.send(Ok(Frame::trailers(make_trailers(sha2, size)))).await;
    });
    (StreamBody::new(ReceiverStream::new(rx)), sha)
}

/// Reads a body to its end: (sha256, length, data frames, trailers).
async fn drain(mut body: Incoming) -> Result<(String, u64, u64, HeaderMap), BoxError> {
    let mut h = Sha256::new();
    let (mut len, mut frames) = (0u64, 0u64);
    let mut trailers = HeaderMap::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        match frame.into_data() {
            Ok(data) => {
                h.update(&data);
                len += data.len() as u64;
                frames += 1;
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers.extend(t);
                }
            }
        }
    }
    Ok((hex(&h.finalize()), len, frames, trailers))
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.parse().ok()
}

/// Connection settings a run may change from hyper's defaults.
#[derive(Clone, Copy, Default)]
struct Tune {
    /// initial stream and connection windows (SETTINGS_INITIAL_WINDOW_SIZE, WINDOW_UPDATE)
    window: Option<u32>,
    /// SETTINGS_MAX_FRAME_SIZE we advertise
    frame: Option<u32>,
    /// hyper's BDP-driven window (PINGs, then growing windows)
    adaptive: bool,
}

async fn one_request(
    mut sender: hyper::client::conn::http2::SendRequest<ChanBody>,
    uri: http::Uri,
    size: u64,
    chunk: usize,
    resp_size: u64,
    resp_chunk: usize,
) -> Result<String, BoxError> {
    let (body, sent_sha) = channel_body(size, chunk, |sha, len| {
        let mut t = HeaderMap::new();
        t.insert("x-client-sha", HeaderValue::from_str(&sha).unwrap());
        t.insert("x-client-len", HeaderValue::from(len));
        t
    });
    let req = Request::builder()
        .method("POST")
        .uri(uri)
        .header("x-resp-size", resp_size)
        .header("x-resp-chunk", resp_chunk)
        .header("content-type", "application/octet-stream")
        .body(body)?;
    sender.ready().await?;
    let res = sender.send_request(req).await?;
    let (parts, body) = res.into_parts();
    let (sha, len, frames, trailers) = drain(body).await?;
    Ok(format!(
        "{{\"status\":{},\"sent_sha\":{},\"sent_len\":{},\"headers\":{},\"resp_sha\":{},\"resp_len\":{},\"resp_frames\":{},\"trailers\":{}}}",
        parts.status.as_u16(),
        json_str(&sent_sha),
        size,
        json_map(&parts.headers),
        json_str(&sha),
        len,
        frames,
        json_map(&trailers)
    ))
}

#[allow(clippy::too_many_arguments)]
async fn client(url: &str, size: u64, chunk: usize, resp_size: u64, resp_chunk: usize, parallel: usize, tune: Tune) -> Result<(), BoxError> {
    let uri: http::Uri = url.parse()?;
    let authority = uri.authority().ok_or("URL without host")?.clone();
    let addr: SocketAddr = tokio::net::lookup_host(authority.as_str()).await?.next().ok_or("no address")?;
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
    if let Some(w) = tune.window {
        builder.initial_stream_window_size(w).initial_connection_window_size(w);
    }
    if let Some(f) = tune.frame {
        builder.max_frame_size(f);
    }
    if tune.adaptive {
        builder.adaptive_window(true);
    }
    let (sender, conn) = builder.handshake(TokioIo::new(tcp)).await?;
    let conn_task = tokio::spawn(async move { conn.await });

    let mut tasks = Vec::new();
    for _ in 0..parallel {
        tasks.push(tokio::spawn(one_request(sender.clone(), uri.clone(), size, chunk, resp_size, resp_chunk)));
    }
    drop(sender);
    let mut lines = Vec::new();
    for t in tasks {
        lines.push(t.await??);
    }
    if parallel == 1 {
        println!("{}", lines[0]);
    } else {
        println!("{{\"parallel\":{},\"results\":[{}]}}", parallel, lines.join(","));
    }
    // The connection ends once every sender is gone; a failure there is a failure of the run.
    match tokio::time::timeout(std::time::Duration::from_secs(5), conn_task).await {
        Ok(Ok(Err(e))) => Err(format!("connection: {e}").into()),
        _ => Ok(()),
    }
}

async fn handle(req: Request<Incoming>) -> Result<Response<ChanBody>, BoxError> {
    let (parts, body) = req.into_parts();
    let (req_sha, req_len, _frames, req_trailers) = drain(body).await?;
    let resp_size = header_u64(&parts.headers, "x-resp-size").unwrap_or(req_len);
    let resp_chunk = header_u64(&parts.headers, "x-resp-chunk").unwrap_or(16384).max(1) as usize;
    let req_sha2 = req_sha.clone();
    let (body, _sha) = channel_body(resp_size, resp_chunk, move |sha, len| {
        let mut t = HeaderMap::new();
        t.insert("x-sha", HeaderValue::from_str(&sha).unwrap());
        t.insert("x-len", HeaderValue::from(len));
        t.insert("x-req-sha", HeaderValue::from_str(&req_sha2).unwrap());
        for (k, v) in req_trailers.iter() {
            if let Ok(name) = HeaderName::from_bytes(format!("x-echo-{}", k.as_str()).as_bytes()) {
                t.append(name, v.clone());
            }
        }
        t
    });
    let res = Response::builder()
        .status(200)
        .header("content-type", "application/octet-stream")
        .header("x-req-sha", req_sha)
        .header("x-req-len", req_len)
        .header("x-req-method", parts.method.as_str())
        .header("x-req-path", parts.uri.path())
        .body(body)?;
    Ok(res)
}

async fn server(port: u16, tune: Tune) -> Result<(), BoxError> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("{}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush()?;
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
            if let Some(w) = tune.window {
                builder.initial_stream_window_size(w).initial_connection_window_size(w);
            }
            if let Some(f) = tune.frame {
                builder.max_frame_size(f);
            }
            if tune.adaptive {
                builder.adaptive_window(true);
            }
            if let Err(e) = builder.serve_connection(TokioIo::new(tcp), service).await {
                eprintln!("h2peer server: connection error: {e}");
            }
        });
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: h2peer client URL --size N --chunk K [--resp-size M] [--resp-chunk J] [--parallel P] [TUNE]\n       h2peer server [--port P] [TUNE]\nTUNE: [--window W] [--frame F] [--adaptive]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| -> Option<u64> {
        let i = args.iter().position(|a| a == name)?;
        Some(args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()))
    };
    let tune = Tune {
        window: opt("--window").map(|w| w as u32),
        frame: opt("--frame").map(|f| f as u32),
        adaptive: args.iter().any(|a| a == "--adaptive"),
    };
    let r = match args.first().map(String::as_str) {
        Some("client") => {
            let url = args.get(1).cloned().unwrap_or_else(|| usage());
            let size = opt("--size").unwrap_or(0);
            let chunk = opt("--chunk").unwrap_or(16384).max(1) as usize;
            let resp_size = opt("--resp-size").unwrap_or(size);
            let resp_chunk = opt("--resp-chunk").unwrap_or(chunk as u64).max(1) as usize;
            let parallel = opt("--parallel").unwrap_or(1).clamp(1, 1000) as usize;
            client(&url, size, chunk, resp_size, resp_chunk, parallel, tune).await
        }
        Some("server") => server(opt("--port").unwrap_or(0) as u16, tune).await,
        _ => usage(),
    };
    if let Err(e) = r {
        eprintln!("h2peer: {e}");
        std::process::exit(1);
    }
}
