//! How a registry asks to be authenticated and how [`crate::client`]
//! answers: the `WWW-Authenticate` challenge, the rule that credentials never go to a
//! plain-HTTP token realm of an HTTPS registry, the token endpoint's request
//! for docker's identity (refresh) tokens and its answer, and `Authorization`
//! values marked sensitive so that they never reach a log.

use base64::Engine as _;
use reqwest::header::HeaderValue;

use crate::limits;

/// The OAuth2 client id sent with identity-token exchanges.
const CLIENT_ID: &str = "deploykf-cmp";

/// `realm` and `service` of a `Bearer realm="…",service="…"` challenge.
pub fn parse_bearer_challenge(header: &str) -> Option<(String, Option<String>)> {
    let rest = header.trim().strip_prefix("Bearer ").or_else(|| header.trim().strip_prefix("bearer "))?;
    let mut realm = None;
    let mut service = None;
    let mut chars = rest.trim();
    while !chars.is_empty() {
        let eq = chars.find('=')?;
        let key = chars[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = &chars[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        chars = next.trim_start_matches(',').trim();
    }
    Some((realm?, service))
}

/// Whether credentials of a registry reached over `https` (or plain HTTP when
/// `registry_https` is false) may go to the token endpoint `realm`: an HTTPS
/// registry's only over HTTPS, on any host, as docker and containerd send them.
pub fn realm_may_get_credentials(registry_https: bool, realm: &str) -> bool {
    !registry_https || realm.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// The message refusing to send `host`'s credentials to the realm `realm`
/// (see [`realm_may_get_credentials`]).
pub fn cleartext_realm_refused(host: &str, realm: &str) -> String {
    format!(
        "{host} (https) sends clients to the plain-http token realm {}, which is not HTTPS: refusing to send the \
         credentials for {host} there, they are not sent in cleartext; the registry's token realm must be an https:// \
         URL (or pull anonymously)",
        limits::excerpt(realm, 200)
    )
}

/// The form posted to a token endpoint to exchange an identity (refresh)
/// token for an access token for `scope` (space-separated scopes).
pub fn refresh_token_form<'a>(token: &'a str, scope: &'a str, service: Option<&'a str>) -> Vec<(&'static str, &'a str)> {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", CLIENT_ID), ("scope", scope)];
    if let Some(service) = service {
        form.push(("service", service));
    }
    form
}

/// The access token of a token endpoint's JSON answer (`access_token`, else
/// `token`, as the distribution client reads it).
pub fn access_token(body: &[u8]) -> Result<String, String> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("unreadable answer: {e}"))?;
    let token = json.get("access_token").or_else(|| json.get("token")).and_then(|t| t.as_str()).filter(|t| !t.is_empty());
    token.map(str::to_string).ok_or_else(|| "the answer holds no access token".to_string())
}

/// `Basic base64(user:password)`, marked sensitive.
pub fn basic_header(user: &str, password: &str) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut h = HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header");
    h.set_sensitive(true);
    h
}

/// `Bearer <token>`, marked sensitive; `None` when the token holds characters
/// a header cannot carry.
pub fn bearer_header(token: &str) -> Option<HeaderValue> {
    let mut h = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    h.set_sensitive(true);
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let (realm, service) =
            parse_bearer_challenge(r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#).unwrap();
        assert_eq!(realm, "https://auth.example/token");
        assert_eq!(service.as_deref(), Some("registry.example"));
        assert!(parse_bearer_challenge(r#"Basic realm="Registry Realm""#).is_none());
    }

    #[test]
    fn credentials_of_an_https_registry_go_only_to_an_https_realm() {
        assert!(realm_may_get_credentials(true, "https://auth.other.example/token"));
        assert!(realm_may_get_credentials(true, "HTTPS://auth.example/token"));
        assert!(!realm_may_get_credentials(true, "http://auth.example/token"));
        assert!(!realm_may_get_credentials(true, "/token"));
        assert!(realm_may_get_credentials(false, "http://127.0.0.1:5000/token"));
        let message = cleartext_realm_refused("reg.example", "http://auth.example/token");
        assert!(message.contains("plain-http token realm http://auth.example/token") && message.contains("not sent in cleartext"), "{message}");
    }

    #[test]
    fn token_answers() {
        assert_eq!(access_token(br#"{"token":"t","access_token":"a"}"#).unwrap(), "a");
        assert_eq!(access_token(br#"{"token":"t"}"#).unwrap(), "t");
        assert!(access_token(br#"{"token":""}"#).unwrap_err().contains("no access token"));
        assert!(access_token(b"<html>").unwrap_err().contains("unreadable"));
        assert!(bearer_header("bad\ntoken").is_none());
        assert!(basic_header("u", "p").is_sensitive());
    }
}
