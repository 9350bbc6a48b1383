//! One HTTP exchange as the runtime makes it, for calls and token requests alike: reqwest
//! follows no redirect and sends no `Referer`; a redirect is followed only when the caller's
//! rule allows its target, re-sent whole; a body is read under a cap.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{StatusCode, Url};

use crate::error::TransportError;

/// The most redirects one exchange follows.
const MAX_HOPS: usize = 5;

/// What is reserved for a body before it arrives, whatever length it announces.
const INITIAL_CAPACITY: usize = 256 * 1024;

/// Why an exchange gave no body to decode.
#[derive(Debug)]
pub(crate) enum Failure {
    Transport(TransportError),
    /// A 3xx that was not followed; the location as resolved (or as sent, if it is no URL).
    Redirect {
        status: u16,
        location: Option<String>,
    },
    /// The body is longer than the cap.
    TooLarge {
        limit: usize,
    },
}

/// The reqwest client calls and token requests use unless the user brings their own.
pub(crate) fn client(
    timeout: Duration,
    connect_timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    builder(timeout, connect_timeout).build()
}

/// The settings of [`client`], to add to.
pub(crate) fn builder(timeout: Duration, connect_timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .user_agent(concat!("b24-runtime/", env!("CARGO_PKG_VERSION")))
}

/// Sends `request` and reads the body (at most `limit` bytes). A redirect is followed, at most
/// [`MAX_HOPS`] times, only when `follow` allows its target; it is then sent again with the
/// same method, headers and body.
///
/// A client that followed a redirect on its own (a user's reqwest client with its default
/// policy) is caught too: an answer from another URL than the one asked is a redirect error.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    limit: usize,
    follow: impl Fn(&Url) -> bool,
) -> Result<(u16, Bytes), Failure> {
    let mut hops = 0;
    loop {
        let asked = request.url().clone();
        let again = request.try_clone();
        let resp = http
            .execute(request)
            .await
            .map_err(|e| Failure::Transport(TransportError::new(e)))?;
        let status = resp.status();
        if resp.url() != &asked {
            return Err(Failure::Redirect {
                status: status.as_u16(),
                location: Some(resp.url().to_string()),
            });
        }
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let target = location.as_deref().and_then(|l| asked.join(l).ok());
            match (target, again) {
                (Some(target), Some(mut again))
                    if is_followable(status) && hops < MAX_HOPS && follow(&target) =>
                {
                    hops += 1;
                    *again.url_mut() = target;
                    request = again;
                    continue;
                }
                (target, _) => {
                    return Err(Failure::Redirect {
                        status: status.as_u16(),
                        location: target.map(String::from).or(location),
                    })
                }
            }
        }
        return Ok((status.as_u16(), read_body(resp, limit).await?));
    }
}

fn is_followable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Whether `to` is on the same site as `origin`: the same host, and the same scheme and port,
/// or `http` upgraded to `https` on its default port. Never another host, never a downgrade.
pub(crate) fn same_site(origin: &Url, to: &Url) -> bool {
    let same_host = match (origin.host_str(), to.host_str()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    let same_origin = origin.scheme() == to.scheme()
        && origin.port_or_known_default() == to.port_or_known_default();
    let upgrade = origin.scheme() == "http"
        && to.scheme() == "https"
        && to.port_or_known_default() == Some(443);
    same_host && (same_origin || upgrade) && to.username().is_empty() && to.password().is_none()
}

/// Reads a body of at most `limit` bytes: a declared length above it is refused before
/// reading, a longer stream as soon as it passes the limit. Never holds more than `limit`
/// bytes plus the chunk in hand.
async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, Failure> {
    let declared = resp
        .content_length()
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    if declared.is_some_and(|n| n > limit) {
        return Err(Failure::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(INITIAL_CAPACITY));
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| Failure::Transport(TransportError::new(e)))?
    {
        let len = body
            .len()
            .checked_add(chunk.len())
            .filter(|&n| n <= limit)
            .ok_or(Failure::TooLarge { limit })?;
        if len > body.capacity() {
            // Doubling, but never past the limit.
            let capacity = len.max(body.capacity().saturating_mul(2)).min(limit);
            body.reserve_exact(capacity - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn same_site_is_the_same_host_and_never_a_downgrade() {
        let portal = url("http://portal.example:8080/rest/1/c/m.json");
        assert!(same_site(&portal, &url("http://portal.example:8080/other")));
        assert!(same_site(&portal, &url("http://PORTAL.example:8080/other")));
        assert!(!same_site(
            &portal,
            &url("http://portal.example:8081/other")
        ));
        assert!(!same_site(&portal, &url("http://portal.example/other")));
        assert!(!same_site(&portal, &url("http://evil.example:8080/other")));
        assert!(!same_site(
            &portal,
            &url("http://portal.example.evil:8080/")
        ));
        assert!(!same_site(&portal, &url("http://u:p@portal.example:8080/")));
        let plain = url("http://portal.example/rest/");
        assert!(same_site(&plain, &url("https://portal.example/rest/")));
        assert!(!same_site(
            &plain,
            &url("https://portal.example:8443/rest/")
        ));
        let tls = url("https://portal.example/rest/");
        assert!(
            !same_site(&tls, &url("http://portal.example/rest/")),
            "no downgrade"
        );
        assert!(same_site(&tls, &url("https://portal.example:443/x")));
        assert!(!same_site(&tls, &url("ftp://portal.example/x")));
    }
}
