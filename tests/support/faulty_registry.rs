//! A scripted misbehaving registry on 127.0.0.1 for fault-injection tests:
//! each request (method, path, `Authorization`) is logged and answered as the
//! test's script says: a full answer, silence, a drip-feed, an endless body.
//! Optionally over TLS (rustls, a certificate from `openssl`). Every loop is
//! bounded (no answer outlives [`MAX_SECONDS`], no body exceeds
//! [`MAX_ENDLESS`]) and the server stops on drop.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest any connection is served.
pub const MAX_SECONDS: u64 = 180;
/// The most bytes an [`Reply::Endless`] body sends.
pub const MAX_ENDLESS: usize = 768 << 20;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The `Authorization` header, empty when absent.
    pub authorization: String,
}

/// How to answer a request.
pub enum Reply {
    /// Status line text (`200 OK`), extra header lines (`Name: value\r\n`), body.
    Full(&'static str, String, Vec<u8>),
    /// Accept, read the request, never answer.
    Hang,
    /// Headers announcing `length` bytes, then one byte per `every`.
    Drip(&'static str, String, usize, Duration),
    /// Headers without a length, then bytes of `fill` until the client stops reading.
    Endless(&'static str, String, u8),
}

type Script = dyn Fn(&Request, &str) -> Reply + Send + Sync;

/// A running scripted server.
pub struct FaultyRegistry {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultyRegistry {
    /// Plain HTTP; `script(request, addr)` answers each request.
    pub fn start(script: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static) -> FaultyRegistry {
        Self::serve(None, Arc::new(script))
    }

    /// HTTPS with `cert_pem` and `key_pem` (files written by openssl).
    pub fn start_tls(cert_pem: &Path, key_pem: &Path, script: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static) -> FaultyRegistry {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert_pem).expect("read the test certificate").map(|c| c.unwrap()).collect();
        let key = PrivateKeyDer::from_pem_file(key_pem).expect("read the test key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("a valid test certificate");
        Self::serve(Some(Arc::new(config)), Arc::new(script))
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>, script: Arc<Script>) -> FaultyRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop2, log2, addr2) = (stop.clone(), log.clone(), addr.clone());
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(MAX_SECONDS);
            while !stop2.load(Ordering::SeqCst) && Instant::now() < end {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let (stop, log, script, addr, tls) = (stop2.clone(), log2.clone(), script.clone(), addr2.clone(), tls.clone());
                std::thread::spawn(move || {
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
                    let connection = Connection { stop, end };
                    match tls {
                        Some(config) => {
                            let Ok(server) = rustls::ServerConnection::new(config) else { return };
                            connection.handle(rustls::StreamOwned::new(server, stream), &log, &*script, &addr);
                        }
                        None => connection.handle(stream, &log, &*script, &addr),
                    }
                });
            }
        });
        FaultyRegistry { addr, stop, log, thread: Some(thread) }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FaultyRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Connection {
    stop: Arc<AtomicBool>,
    end: Instant,
}

impl Connection {
    fn live(&self) -> bool {
        !self.stop.load(Ordering::SeqCst) && Instant::now() < self.end
    }

    /// Reads one request (head, then a body of Content-Length bytes), answers, closes.
    fn handle(&self, mut stream: impl Read + Write, log: &Mutex<Vec<Request>>, script: &Script, addr: &str) {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            if !self.live() || head.len() > 64 << 10 {
                return;
            }
            match stream.read(&mut buf) {
                Ok(0) => return,
                // A TLS handshake sent to plain HTTP: answer as HTTP servers do.
                Ok(_) if head.is_empty() && buf[0] == 0x16 => {
                    let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                Ok(n) => head.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
        let split = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let text = String::from_utf8_lossy(&head[..split]).to_string();
        let header = |name: &str| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let mut first = text.split_whitespace();
        let request = Request {
            method: first.next().unwrap_or("").to_string(),
            path: first.next().unwrap_or("").to_string(),
            authorization: header("authorization").unwrap_or_default(),
        };
        let mut body = head.len() - split;
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while body < length.min(64 << 20) && self.live() {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => body += n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
        }
        log.lock().unwrap().push(request.clone());
        let start = |status: &str, headers: &str, length: Option<usize>| {
            let length = length.map(|n| format!("Content-Length: {n}\r\n")).unwrap_or_default();
            format!("HTTP/1.1 {status}\r\n{headers}{length}Connection: close\r\n\r\n")
        };
        match script(&request, addr) {
            Reply::Full(status, headers, body) => {
                let _ = stream.write_all(start(status, &headers, Some(body.len())).as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
            }
            Reply::Hang => {
                while self.live() {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Reply::Drip(status, headers, length, every) => {
                if stream.write_all(start(status, &headers, Some(length)).as_bytes()).and_then(|()| stream.flush()).is_err() {
                    return;
                }
                for _ in 0..length {
                    std::thread::sleep(every);
                    if !self.live() || stream.write_all(b" ").and_then(|()| stream.flush()).is_err() {
                        return;
                    }
                }
            }
            Reply::Endless(status, headers, fill) => {
                if stream.write_all(start(status, &headers, None).as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![fill; 64 << 10];
                let mut sent = 0;
                while sent < MAX_ENDLESS && self.live() && stream.write_all(&chunk).is_ok() {
                    sent += chunk.len();
                }
            }
        }
    }
}
