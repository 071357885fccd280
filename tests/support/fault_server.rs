//! The one misbehaving HTTP(S) server of the fault-injection tests (registries
//! for `mirror`, chart repositories and registries for `plugin init`), on
//! 127.0.0.1: a script maps each request to an [`Answer`], which may be an
//! ordinary reply or a fault (hang, drip-feed, endless body). Over plain HTTP
//! it answers a TLS handshake with a 400, as HTTP servers do. It also serves as
//! a plain HTTP proxy target (absolute-form request targets are kept, so a test
//! sees which host a client meant). Every loop is bounded (stop flag, time and
//! size caps) and the server stops on drop.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any fault lasts at most.
const FAULT_MAX: Duration = Duration::from_secs(120);
/// How much an endless body sends at most.
const ENDLESS_MAX: u64 = 2 << 30;
/// How much of a request body is kept (the rest, up to [`BODY_MAX`], is read and dropped).
const BODY_KEPT: usize = 1 << 20;
/// The most of a request body read.
const BODY_MAX: usize = 64 << 20;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target: a path, or an absolute URL when sent to a proxy.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `Authorization` header, empty when absent.
    pub fn authorization(&self) -> &str {
        self.header("authorization").unwrap_or_default()
    }

    /// The target's path and query (the scheme and host of an absolute URL dropped).
    pub fn path(&self) -> &str {
        match self.target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => &self.target,
        }
    }
}

/// What the server does with a request.
pub enum Answer {
    /// A complete answer with `Content-Length`.
    Reply { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Reads the request and never answers.
    Hang,
    /// A head (announcing `length` bytes when set), then one body byte per `every`.
    Drip { status: u16, headers: Vec<(String, String)>, length: Option<usize>, every: Duration },
    /// A head without a length, then 64 KiB chunks of `fill` as fast as they are read.
    Endless { status: u16, headers: Vec<(String, String)>, fill: u8 },
}

impl Answer {
    /// A complete answer with one `Content-Type`.
    pub fn reply(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer::full(status, &[("Content-Type", content_type)], body)
    }

    /// A complete answer with `headers`.
    pub fn full(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Answer {
        Answer::Reply { status, headers: pairs(headers), body: body.into() }
    }
}

/// Header pairs as [`Answer`] holds them.
pub fn pairs(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

type Script = dyn Fn(&Request) -> Answer + Send + Sync;

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// The server; stops (and ends every fault in progress) on drop.
pub struct FaultServer {
    /// `127.0.0.1:port` it listens on.
    pub addr: String,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Plain HTTP, `script` answering every request.
    pub fn start(script: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> FaultServer {
        Self::serve(None, Arc::new(script))
    }

    /// HTTPS with `server.pem`/`server.key` of `cert_dir` (see
    /// `registry::make_certificates`), `script` answering every request.
    pub fn start_tls(cert_dir: &Path, script: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> FaultServer {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert_dir.join("server.pem")).unwrap().map(Result::unwrap).collect();
        let key = PrivateKeyDer::from_pem_file(cert_dir.join("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        Self::serve(Some(Arc::new(config)), Arc::new(script))
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>, script: Arc<Script>) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop2, requests2) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = tcp else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let (stop, requests, script, tls) = (stop2.clone(), requests2.clone(), script.clone(), tls.clone());
                std::thread::spawn(move || {
                    let shutdown = tcp.try_clone().ok();
                    let plain = tls.is_none();
                    let mut stream: Box<dyn Stream> = match tls {
                        Some(config) => match rustls::ServerConnection::new(config) {
                            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, tcp)),
                            Err(_) => return,
                        },
                        None => Box::new(tcp),
                    };
                    if let Some(request) = read_request(&mut stream, plain) {
                        let answer = script(&request);
                        requests.lock().unwrap().push(request);
                        respond(&mut stream, answer, &stop);
                    }
                    let _ = stream.flush();
                    if let Some(tcp) = shutdown {
                        let _ = tcp.shutdown(Shutdown::Both);
                    }
                });
            }
        });
        FaultServer { addr, stop, requests, thread: Some(thread) }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The request head (at most 64 KiB) and its body (the first [`BODY_KEPT`]
/// bytes kept). Over `plain` HTTP, a TLS handshake gets a 400 and no request.
fn read_request(stream: &mut dyn Stream, plain: bool) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 << 10 || stream.read(&mut byte).ok()? != 1 {
            return None;
        }
        if plain && head.is_empty() && byte[0] == 0x16 {
            let _ = stream.write_all(&head_of(400, &[], Some(0)));
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(0);
    let mut body = vec![0u8; length.min(BODY_KEPT)];
    stream.read_exact(&mut body).ok()?;
    let mut rest = length.min(BODY_MAX) - body.len();
    let mut buf = [0u8; 64 << 10];
    while rest > 0 {
        let n = stream.read(&mut buf[..rest.min(64 << 10)]).ok().filter(|n| *n > 0)?;
        rest -= n;
    }
    Some(Request { method, target, headers, body })
}

fn head_of(status: u16, headers: &[(String, String)], length: Option<usize>) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut text = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(length) = length {
        text.push_str(&format!("Content-Length: {length}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

fn respond(stream: &mut dyn Stream, answer: Answer, stop: &AtomicBool) {
    let started = Instant::now();
    let going = || !stop.load(Ordering::SeqCst) && started.elapsed() < FAULT_MAX;
    match answer {
        Answer::Reply { status, headers, body } => {
            let _ = stream.write_all(&[head_of(status, &headers, Some(body.len())), body].concat());
        }
        Answer::Hang => {
            while going() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Answer::Drip { status, headers, length, every } => {
            if stream.write_all(&head_of(status, &headers, length)).and_then(|()| stream.flush()).is_err() {
                return;
            }
            let mut sent = 0;
            while going() && length.is_none_or(|n| sent < n) {
                std::thread::sleep(every);
                if stream.write_all(b" ").and_then(|()| stream.flush()).is_err() {
                    return;
                }
                sent += 1;
            }
        }
        Answer::Endless { status, headers, fill } => {
            if stream.write_all(&head_of(status, &headers, None)).is_err() {
                return;
            }
            let chunk = vec![fill; 64 << 10];
            let mut sent = 0u64;
            while going() && sent < ENDLESS_MAX && stream.write_all(&chunk).is_ok() {
                sent += chunk.len() as u64;
            }
        }
    }
}
