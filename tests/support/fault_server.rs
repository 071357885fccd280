//! A misbehaving HTTP(S) server on 127.0.0.1 for fault-injection tests: a
//! script maps each request to an [`Answer`], which may be an ordinary reply
//! or a fault (hang, drip-feed, endless body). It also serves as a plain HTTP
//! proxy target (absolute-form request targets are kept, so a test sees which
//! host a client meant). Every loop is bounded (stop flag, time and size caps)
//! and the server stops on drop.

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
    /// A 200 head (with `headers`), then one body byte every 100 ms.
    Drip { headers: Vec<(String, String)> },
    /// A 200 head (with `headers`, no length), then 64 KiB chunks as fast as they are read.
    Endless { headers: Vec<(String, String)> },
}

impl Answer {
    /// A complete answer with one `Content-Type`.
    pub fn reply(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer::Reply { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }
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
                    let mut stream: Box<dyn Stream> = match tls {
                        Some(config) => match rustls::ServerConnection::new(config) {
                            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, tcp)),
                            Err(_) => return,
                        },
                        None => Box::new(tcp),
                    };
                    if let Some(request) = read_request(&mut stream) {
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

/// The request head (at most 64 KiB) and a body of at most 1 MiB.
fn read_request(stream: &mut dyn Stream) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 << 10 || stream.read(&mut byte).ok()? != 1 {
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
    let mut body = vec![0u8; length.min(1 << 20)];
    stream.read_exact(&mut body).ok()?;
    Some(Request { method, target, headers, body })
}

fn head(status: u16, headers: &[(String, String)], length: Option<usize>) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
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
            let _ = stream.write_all(&[head(status, &headers, Some(body.len())), body].concat());
        }
        Answer::Hang => {
            while going() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Answer::Drip { headers } => {
            if stream.write_all(&head(200, &headers, None)).is_err() {
                return;
            }
            while going() && stream.write_all(b" ").and_then(|()| stream.flush()).is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Answer::Endless { headers } => {
            if stream.write_all(&head(200, &headers, None)).is_err() {
                return;
            }
            let chunk = vec![b'#'; 64 << 10];
            let mut sent = 0u64;
            while going() && sent < ENDLESS_MAX && stream.write_all(&chunk).is_ok() {
                sent += chunk.len() as u64;
            }
        }
    }
}
