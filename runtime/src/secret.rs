//! Strings that must never be shown (webhook codes, tokens, client secrets), and the one
//! function that cuts them out of text a server sent back.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, RwLock};

const REDACTED: &str = "[redacted]";

/// A secret string. `Debug` and `Display` print `[redacted]`; read it with
/// [`Secret::expose`], only where it is sent or stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces every occurrence of each secret in `text` with `[redacted]`, in every form a
/// server or proxy echoing a request could write it: as sent, `urlencode`d, and JSON-escaped
/// (as serde_json writes it, and as PHP's `json_encode` does, with `\/` for `/`).
pub(crate) fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut forms: Vec<String> = secrets
        .into_iter()
        .filter(|s| !s.is_empty())
        .flat_map(|s| {
            let quoted = serde_json::Value::from(s).to_string();
            let json = quoted
                .strip_prefix('"')
                .and_then(|q| q.strip_suffix('"'))
                .unwrap_or(s)
                .to_owned();
            let php = json.replace('/', "\\/");
            [s.to_owned(), b24_form::urlencode(s), json, php]
        })
        .collect();
    // Longest first, so that a secret inside another one does not leave the rest behind.
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    let mut out = text.to_owned();
    for form in &forms {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), REDACTED);
        }
    }
    out
}

/// `value`'s `Debug` output (`{:#?}` too) with `secrets` scrubbed.
pub(crate) fn debug_scrubbed<'a>(
    f: &mut fmt::Formatter<'_>,
    value: &dyn fmt::Debug,
    secrets: impl IntoIterator<Item = &'a str>,
) -> fmt::Result {
    let text = if f.alternate() {
        format!("{value:#?}")
    } else {
        format!("{value:?}")
    };
    f.write_str(&scrub(&text, secrets))
}

/// The secrets a client holds, to [`scrub`] from everything it shows: the fixed ones (webhook
/// code, client secret) and the last few rotating tokens (a server may echo a token that was
/// current when the request left). Clones share the list.
#[derive(Clone, Default)]
pub(crate) struct Redactor(Arc<RwLock<Known>>);

#[derive(Default)]
struct Known {
    fixed: Vec<String>,
    recent: VecDeque<String>,
}

/// Rotating tokens remembered: the access and refresh tokens of the last four pairs.
const RECENT: usize = 8;

impl Redactor {
    /// Remembers a secret for the client's life.
    pub(crate) fn fixed(&self, secret: &Secret) {
        let mut known = self.0.write().unwrap_or_else(|p| p.into_inner());
        known.fixed.push(secret.expose().to_owned());
    }

    /// Remembers a rotating token (the oldest is forgotten beyond [`RECENT`]).
    pub(crate) fn rotating(&self, secret: &Secret) {
        let mut known = self.0.write().unwrap_or_else(|p| p.into_inner());
        if known.recent.len() == RECENT {
            known.recent.pop_front();
        }
        known.recent.push_back(secret.expose().to_owned());
    }

    /// `text` without any secret this client holds.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let known = self.0.read().unwrap_or_else(|p| p.into_inner());
        scrub(
            text,
            known.fixed.iter().chain(&known.recent).map(String::as_str),
        )
    }

    /// `value`'s `Debug` output without any secret this client holds.
    pub(crate) fn debug(&self, f: &mut fmt::Formatter<'_>, value: &dyn fmt::Debug) -> fmt::Result {
        let known = self.0.read().unwrap_or_else(|p| p.into_inner());
        debug_scrubbed(
            f,
            value,
            known.fixed.iter().chain(&known.recent).map(String::as_str),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_echoed_form_is_scrubbed() {
        let text = r#"a=s3c/r+t&b=s3c%2Fr%2Bt&c="s3c\/r+t" d=other"#;
        let out = scrub(text, ["s3c/r+t", ""]);
        assert_eq!(out, r#"a=[redacted]&b=[redacted]&c="[redacted]" d=other"#);
        assert_eq!(scrub("x \"a\\\"b\" y", ["a\"b"]), "x \"[redacted]\" y");
        assert_eq!(scrub("abcd abc", ["abc", "abcd"]), "[redacted] [redacted]");
    }

    #[test]
    fn the_redactor_keeps_the_last_rotating_tokens() {
        let r = Redactor::default();
        r.fixed(&Secret::new("code"));
        for i in 0..=RECENT {
            r.rotating(&Secret::new(format!("tok{i}x")));
        }
        assert_eq!(r.scrub("code tok0x tok1x"), "[redacted] tok0x [redacted]");
    }
}
