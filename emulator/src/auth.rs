//! Who is calling: webhooks and OAuth access tokens, and the token endpoint's refresh.

use std::collections::HashMap;
use std::fmt;

use crate::config::{OAuthApp, WebhookAuth};
use crate::reply::ApiError;

/// How long an authorization code can be exchanged, in emulated seconds.
const AUTH_CODE_LIFETIME: f64 = 30.0;

/// The most access tokens (and, apart, authorization codes) kept. Past it, the expired ones are
/// forgotten (an old token then answers `invalid_token` rather than `expired_token`), and if
/// none has expired, the one that expires first; so a loop of refreshes cannot grow memory.
const TOKENS_KEPT: usize = 100_000;

/// The caller of a REST request; limits are kept per caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    /// A key naming the caller in the limits' tables (never sent anywhere).
    pub(crate) key: String,
    /// The id of the calling user: the webhook's user; for an application, the user who
    /// installed it (`1`, the portal's administrator).
    pub(crate) user: String,
}

/// An access/refresh token pair issued by the emulator.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token, sent as `auth`.
    pub access_token: String,
    /// The refresh token, exchanged at the token endpoint.
    pub refresh_token: String,
    /// Seconds (wall clock) until the access token expires, as the token endpoint says.
    pub expires_in: u64,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[derive(Debug)]
struct AccessToken {
    /// Emulated time of expiry.
    expires_at: f64,
}

/// A refresh token spent within its grace: what its refresh answered.
#[derive(Clone)]
struct Spent {
    access: String,
    refresh: String,
    until: f64,
}

/// Every token issued, and the refresh tokens still valid.
#[derive(Default)]
pub(crate) struct Tokens {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, ()>,
    /// Spent refresh tokens still in their grace (see [`OAuthApp::refresh_grace`]): the pair
    /// their refresh issued, and the emulated time the grace ends.
    spent: HashMap<String, Spent>,
    /// Authorization codes and the emulated time they expire.
    codes: HashMap<String, f64>,
    issued: u64,
    seed: u64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &self.access.len())
            .field("refresh", &self.refresh.len())
            .finish()
    }
}

impl Tokens {
    pub(crate) fn new(seed: u64) -> Self {
        Tokens {
            seed,
            ..Tokens::default()
        }
    }

    fn fresh(&mut self) -> String {
        self.issued += 1;
        let mixed = splitmix(self.seed ^ self.issued.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        format!("{:016x}{:016x}", mixed, splitmix(mixed))
    }

    /// Issues a new pair valid for `lifetime` emulated seconds from `now`.
    /// Returns the pair with `expires_in` left for the caller to fill.
    pub(crate) fn issue(&mut self, now: f64, lifetime: f64) -> (String, String) {
        let access = self.fresh();
        let refresh = self.fresh();
        make_room(&mut self.access, now, |t| t.expires_at);
        self.access.insert(
            access.clone(),
            AccessToken {
                expires_at: now + lifetime,
            },
        );
        self.refresh.insert(refresh.clone(), ());
        (access, refresh)
    }

    /// Exchanges a refresh token for a new pair; the old refresh token stops working, except
    /// within `grace` emulated seconds, where presenting it again answers the same new pair
    /// (as long as that pair's refresh token is unspent).
    pub(crate) fn refresh(
        &mut self,
        token: &str,
        now: f64,
        lifetime: f64,
        grace: f64,
    ) -> Option<(String, String)> {
        if self.refresh.remove(token).is_none() {
            let again = self.spent.get(token).filter(|s| s.until > now)?;
            if !self.refresh.contains_key(&again.refresh) {
                return None;
            }
            return Some((again.access.clone(), again.refresh.clone()));
        }
        let (access, refresh) = self.issue(now, lifetime);
        if grace > 0.0 && grace.is_finite() {
            make_room(&mut self.spent, now, |s| s.until);
            self.spent.insert(
                token.to_owned(),
                Spent {
                    access: access.clone(),
                    refresh: refresh.clone(),
                    until: now + grace,
                },
            );
        }
        Some((access, refresh))
    }

    /// Issues a one-time authorization code, valid for 30 emulated seconds (as the docs say).
    pub(crate) fn issue_code(&mut self, now: f64) -> String {
        let code = self.fresh();
        make_room(&mut self.codes, now, |expires_at| *expires_at);
        self.codes.insert(code.clone(), now + AUTH_CODE_LIFETIME);
        code
    }

    /// Exchanges an authorization code for a first pair; the code works once.
    pub(crate) fn redeem_code(
        &mut self,
        code: &str,
        now: f64,
        lifetime: f64,
    ) -> Option<(String, String)> {
        let expires_at = self.codes.remove(code)?;
        (now < expires_at).then(|| self.issue(now, lifetime))
    }

    /// Expires every access token issued so far.
    pub(crate) fn expire_all(&mut self, now: f64) {
        for token in self.access.values_mut() {
            token.expires_at = token.expires_at.min(now);
        }
    }

    /// Checks an access token at `now`.
    pub(crate) fn check(&self, token: &str, app: &OAuthApp, now: f64) -> Result<Caller, ApiError> {
        if token.is_empty() {
            return Err(ApiError::no_auth());
        }
        match self.access.get(token) {
            None => Err(ApiError::new(
                401,
                "invalid_token",
                "The access token provided is invalid.",
            )),
            Some(t) if t.expires_at <= now => Err(ApiError::new(
                401,
                "expired_token",
                "The access token provided has expired.",
            )),
            Some(_) => Ok(Caller {
                key: format!("app:{}", app.client_id),
                user: "1".to_owned(),
            }),
        }
    }
}

/// Makes room for one more entry in `kept` when it holds [`TOKENS_KEPT`]: drops the expired
/// entries, else the one that expires first.
fn make_room<T>(kept: &mut HashMap<String, T>, now: f64, expires_at: impl Fn(&T) -> f64) {
    if kept.len() < TOKENS_KEPT {
        return;
    }
    kept.retain(|_, entry| expires_at(entry) > now);
    if kept.len() >= TOKENS_KEPT {
        let first = kept
            .iter()
            .min_by(|a, b| expires_at(a.1).total_cmp(&expires_at(b.1)))
            .map(|(key, _)| key.clone());
        if let Some(first) = first {
            kept.remove(&first);
        }
    }
}

/// Checks a webhook's user and code.
pub(crate) fn check_webhook(
    auth: &WebhookAuth,
    user: &str,
    code: &str,
) -> Result<Caller, ApiError> {
    let code_ok = auth
        .code
        .as_deref()
        .map_or(true, |c| constant_time_eq(c, code));
    if user == auth.user && code_ok && !code.is_empty() {
        Ok(Caller {
            key: format!("webhook:{user}"),
            user: user.to_owned(),
        })
    } else {
        Err(ApiError::no_auth())
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A small mixing function for tokens and fault draws (not cryptographic; tokens here guard
/// nothing but a loopback test server).
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshing_in_a_loop_keeps_a_bounded_number_of_tokens() {
        let app = OAuthApp::default();
        let mut tokens = Tokens::new(7);
        let (first, mut refresh) = tokens.issue(0.0, 10.0);
        // Just expired: still known as expired.
        assert_eq!(
            tokens.check(&first, &app, 10.0).map_err(|e| e.code),
            Err("expired_token".into())
        );
        for i in 0..TOKENS_KEPT + 5 {
            let now = 20.0 + i as f64;
            let (_, next) = tokens.refresh(&refresh, now, 10.0, 0.0).expect("refreshes");
            refresh = next;
        }
        assert!(tokens.access.len() <= TOKENS_KEPT);
        assert_eq!(tokens.refresh.len(), 1);
        // Long expired and forgotten.
        assert_eq!(
            tokens.check(&first, &app, 1e9).map_err(|e| e.code),
            Err("invalid_token".into())
        );

        for i in 0..TOKENS_KEPT + 5 {
            tokens.issue_code(i as f64);
        }
        assert!(tokens.codes.len() <= TOKENS_KEPT);
    }

    #[test]
    fn a_spent_refresh_token_answers_the_same_pair_only_within_its_grace() {
        let mut tokens = Tokens::new(7);
        let (_, r0) = tokens.issue(0.0, 10.0);
        assert!(tokens.refresh("nonsense", 0.0, 10.0, 5.0).is_none());
        let first = tokens.refresh(&r0, 1.0, 10.0, 5.0).expect("refreshes");
        assert_eq!(tokens.refresh(&r0, 2.0, 10.0, 5.0), Some(first.clone()));
        assert!(tokens.refresh(&r0, 6.5, 10.0, 5.0).is_none(), "grace over");
        // Once the new refresh token is spent, the old one is dead even within its grace.
        let (_, r1) = tokens.issue(10.0, 10.0);
        let second = tokens.refresh(&r1, 10.0, 10.0, 5.0).expect("refreshes");
        tokens
            .refresh(&second.1, 11.0, 10.0, 5.0)
            .expect("refreshes");
        assert!(tokens.refresh(&r1, 11.5, 10.0, 5.0).is_none());
        // No grace: single use.
        let (_, r2) = tokens.issue(20.0, 10.0);
        tokens.refresh(&r2, 20.0, 10.0, 0.0).expect("refreshes");
        assert!(tokens.refresh(&r2, 20.0, 10.0, 0.0).is_none());
    }
}
