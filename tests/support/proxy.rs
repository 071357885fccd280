//! A TCP proxy on 127.0.0.1 that forwards to a server and replaces a byte
//! pattern in what clients send (same length, so framing is kept): a way to
//! take a feature away from a real server, e.g. turn a registry's blob mount
//! (`?mount=`) into a parameter it ignores.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Stopped on drop (open connections end when either side closes).
pub struct RewritingProxy {
    /// `host:port` it listens on.
    pub addr: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RewritingProxy {
    /// Forwards to `upstream` (`host:port`), replacing `from` by `to` in requests.
    pub fn start(upstream: &str, from: &'static [u8], to: &'static [u8]) -> RewritingProxy {
        assert_eq!(from.len(), to.len(), "the replacement keeps the length");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, upstream) = (stop.clone(), upstream.to_string());
        let thread = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(&upstream)) else { continue };
                let (client2, server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pump(client, server, Some((from, to))));
                std::thread::spawn(move || pump(server2, client2, None));
            }
        });
        RewritingProxy { addr, stop, thread: Some(thread) }
    }
}

/// Copies `from` → `to`, rewriting. A pattern split across two reads is
/// caught by holding back the last `pattern.len() - 1` bytes while more
/// arrive; they are sent when the sender pauses for 5 ms.
fn pump(mut from: TcpStream, mut to: TcpStream, rewrite: Option<(&[u8], &[u8])>) {
    let keep = rewrite.map(|(p, _)| p.len() - 1).unwrap_or(0);
    if keep > 0 {
        from.set_read_timeout(Some(std::time::Duration::from_millis(5))).unwrap();
    }
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if to.write_all(&pending).is_err() {
                    break;
                }
                pending.clear();
                continue;
            }
            Err(_) => break,
        };
        pending.extend_from_slice(&buf[..n]);
        if let Some((pattern, replacement)) = rewrite {
            let mut i = 0;
            while i + pattern.len() <= pending.len() {
                if &pending[i..i + pattern.len()] == pattern {
                    pending[i..i + pattern.len()].copy_from_slice(replacement);
                    i += pattern.len();
                } else {
                    i += 1;
                }
            }
        }
        let send = pending.len().saturating_sub(keep);
        if to.write_all(&pending[..send]).is_err() {
            break;
        }
        pending.drain(..send);
    }
    let _ = to.write_all(&pending);
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

impl Drop for RewritingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
