//! Why a request got no (complete) answer: the one classification of
//! transport errors (plain HTTP where TLS was expected, TLS, timeout,
//! connection) shared by the registry client and a caller's own downloads
//! (chart repository indexes), each of which words its own advice from the
//! [`Cause`].

/// What went wrong below HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// TLS was spoken to a server answering in plain HTTP.
    PlainHttp,
    /// The TLS handshake failed (untrusted CA, wrong host name, an alert).
    Tls,
    /// No answer, or no next byte, in time.
    Timeout,
    /// No connection (refused, DNS).
    Connect,
    /// Anything else (a broken body, a protocol error).
    Other,
}

/// The text of an error and all its sources.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The cause of a failed request, and the error's whole text.
pub fn classify(error: &reqwest::Error) -> (Cause, String) {
    let text = chain(error);
    let lower = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let cause = if has(&["invalidcontenttype", "wrong version number", "corrupt message"]) {
        Cause::PlainHttp
    } else if has(&["certificate", "handshake", "fatal alert"]) || (error.is_connect() && has(&["tls"])) {
        Cause::Tls
    } else if error.is_timeout() || has(&["timed out"]) {
        Cause::Timeout
    } else if error.is_connect() {
        Cause::Connect
    } else {
        Cause::Other
    };
    (cause, text)
}

/// `host[:port]` of `url` (the port only when the URL names one).
pub fn host_port(url: &reqwest::Url) -> String {
    format!("{}{}", url.host_str().unwrap_or_default(), url.port().map(|p| format!(":{p}")).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of an `https://` request to a server that answers `answer` in plain HTTP.
    fn https_error_against(answer: &'static [u8]) -> reqwest::Error {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(answer);
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let error = runtime.block_on(async { reqwest::get(format!("https://{addr}/v2/")).await.unwrap_err() });
        server.join().unwrap();
        error
    }

    #[test]
    fn tls_spoken_to_plain_http_and_refused_connections_are_told_apart() {
        let (cause, text) = classify(&https_error_against(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
        assert_eq!(cause, Cause::PlainHttp, "{text}");
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let error = runtime.block_on(async { reqwest::get(format!("http://{closed}/v2/")).await.unwrap_err() });
        assert_eq!(classify(&error).0, Cause::Connect);
        let url = reqwest::Url::parse("https://registry.example:5000/v2/").unwrap();
        assert_eq!(host_port(&url), "registry.example:5000");
    }
}
