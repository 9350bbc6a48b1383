//! Where an application keeps the OAuth tokens of the portals it is installed on.
//!
//! A [`TokenStore`] loads and saves [`Tokens`] by the portal's `member_id`. A refresh token works
//! once, so renewing it is a compare-and-set: [`TokenStore::replace`] stores the new pair only if
//! the stored refresh token is still the one the refresh spent. A client refreshing through a
//! store (see [`crate::OAuth::store`]):
//!
//! 1. loads the stored pair first: when its refresh token is not the one the client holds,
//!    another process renewed it, and the stored pair is used without asking the token server;
//! 2. otherwise asks the token server, then [`TokenStore::replace`]s the stored pair: when the
//!    stored refresh token changed meanwhile, the pair stored by the other process wins;
//! 3. uses the new pair only once it is saved. When the store fails, the new pair is kept in
//!    memory (never dropped: the old refresh token is spent) and the save is tried again before
//!    anything else on the next refresh; the call fails with [`crate::RefreshError::Store`].
//!
//! A token server answer whose `member_id` is not the refreshed pair's is refused with
//! [`crate::RefreshError::WrongPortal`] before anything is stored: one portal's answer never
//! replaces another portal's pair, nor becomes the client's (its tokens are dropped unshown).
//! [`crate::App::authorize_for`] checks a code exchange the same way.
//!
//! Within one process, refreshes of one client are single-flight. Between processes, step 1 and
//! the compare-and-set keep every process on the newest pair; two processes that both pass
//! step 1 in the same instant both ask the token server (the second spend is refused by the
//! server, and that process then reloads the pair the first one stored).
//!
//! [`MemoryStore`] keeps the pairs in memory, for tests and single-process apps.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Tokens;
use crate::secret::Secret;

/// The future a [`TokenStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// How long a refresh waits for another process's claim on the same refresh token before it
/// fails with [`crate::RefreshError::Store`].
pub const CLAIM_WAIT: Duration = Duration::from_secs(15);

/// How long a claim lasts unless the refresh ends before (a process that died while holding
/// one does not block the others longer).
pub const CLAIM_TTL: Duration = Duration::from_secs(30);

/// What [`TokenStore::claim`] answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The caller may spend the refresh token now.
    Granted,
    /// Another process holds an unexpired claim on it.
    Held,
}

/// What [`TokenStore::replace`] did.
#[derive(Clone, Debug)]
pub enum Replaced {
    /// The new pair is stored.
    Stored,
    /// The stored refresh token was not the expected one: nothing was written. Holds what is
    /// stored now (`None` when nothing is stored for the portal).
    Changed(Option<Box<Tokens>>),
}

/// An asynchronous, fallible store of token pairs keyed by `member_id`.
///
/// Implementations must make [`TokenStore::replace`] atomic (a transaction, a conditional
/// update `... WHERE refresh_token = ?`, a compare-and-swap).
pub trait TokenStore: Send + Sync {
    /// The pair stored for the portal `member_id`, if any.
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>>;

    /// Stores a pair unconditionally (an install, an authorization code exchange), under
    /// its [`Tokens::member_id`].
    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()>;

    /// Stores `tokens` under its [`Tokens::member_id`] only if the stored pair's refresh token
    /// is `expected` (the one the refresh spent).
    fn replace<'a>(&'a self, expected: &'a Secret, tokens: &'a Tokens)
        -> StoreFuture<'a, Replaced>;

    /// Claims the right to spend `refresh`, the portal's stored refresh token, for `ttl`
    /// (atomically: one caller at a time gets [`Claim::Granted`] until the claim expires, is
    /// released, or a [`TokenStore::replace`] changes the stored pair). The default grants
    /// every claim: a store without claims relies on the compare-and-set alone.
    fn claim<'a>(
        &'a self,
        member_id: &'a str,
        refresh: &'a Secret,
        ttl: Duration,
    ) -> StoreFuture<'a, Claim> {
        let _ = (member_id, refresh, ttl);
        Box::pin(async { Ok(Claim::Granted) })
    }

    /// Gives up a claim (the refresh failed before anything was spent or stored).
    fn release<'a>(&'a self, member_id: &'a str, refresh: &'a Secret) -> StoreFuture<'a, ()> {
        let _ = (member_id, refresh);
        Box::pin(async { Ok(()) })
    }
}

/// A token store failed. Its message never holds a token.
#[derive(Debug, thiserror::Error)]
#[error("token store: {message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// An error with a message (which must not hold a token).
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by another one (a database error, say).
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The error for a pair that has no `member_id` to be stored under.
    pub(crate) fn no_member_id() -> Self {
        StoreError::new("the tokens have no member_id to be stored under")
    }
}

/// A [`TokenStore`] in memory: for tests and for an app that runs as one process.
#[derive(Default)]
pub struct MemoryStore {
    pairs: Mutex<Pairs>,
}

#[derive(Default)]
struct Pairs {
    tokens: HashMap<String, Tokens>,
    /// Claims by portal: the refresh token claimed and until when.
    claims: HashMap<String, (Secret, Instant)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// How many portals have a pair stored.
    pub fn len(&self) -> usize {
        self.lock().tokens.len()
    }

    /// True when no pair is stored.
    pub fn is_empty(&self) -> bool {
        self.lock().tokens.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pairs> {
        self.pairs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("portals", &self.len())
            .finish()
    }
}

impl TokenStore for MemoryStore {
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>> {
        let found = self.lock().tokens.get(member_id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()> {
        let done = match &tokens.member_id {
            Some(member) => {
                let mut pairs = self.lock();
                pairs.claims.remove(member);
                pairs.tokens.insert(member.clone(), tokens.clone());
                Ok(())
            }
            None => Err(StoreError::no_member_id()),
        };
        Box::pin(async move { done })
    }

    fn replace<'a>(
        &'a self,
        expected: &'a Secret,
        tokens: &'a Tokens,
    ) -> StoreFuture<'a, Replaced> {
        let done = match &tokens.member_id {
            None => Err(StoreError::no_member_id()),
            Some(member) => {
                let mut pairs = self.lock();
                let current = pairs.tokens.get(member);
                if current.and_then(|t| t.refresh_token.as_ref()) == Some(expected) {
                    pairs.claims.remove(member);
                    pairs.tokens.insert(member.clone(), tokens.clone());
                    Ok(Replaced::Stored)
                } else {
                    Ok(Replaced::Changed(current.cloned().map(Box::new)))
                }
            }
        };
        Box::pin(async move { done })
    }

    fn claim<'a>(
        &'a self,
        member_id: &'a str,
        refresh: &'a Secret,
        ttl: Duration,
    ) -> StoreFuture<'a, Claim> {
        let now = Instant::now();
        let mut pairs = self.lock();
        let held = pairs
            .claims
            .get(member_id)
            .is_some_and(|(claimed, until)| claimed == refresh && *until > now);
        let answer = if held {
            Claim::Held
        } else {
            pairs
                .claims
                .insert(member_id.to_owned(), (refresh.clone(), now + ttl));
            Claim::Granted
        };
        Box::pin(async move { Ok(answer) })
    }

    fn release<'a>(&'a self, member_id: &'a str, refresh: &'a Secret) -> StoreFuture<'a, ()> {
        let mut pairs = self.lock();
        if pairs
            .claims
            .get(member_id)
            .is_some_and(|(claimed, _)| claimed == refresh)
        {
            pairs.claims.remove(member_id);
        }
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(member: &str, access: &str, refresh: &str) -> Tokens {
        let mut t = Tokens::new(access, Some(Secret::new(refresh)));
        t.member_id = Some(member.to_owned());
        t
    }

    #[tokio::test]
    async fn replace_is_a_compare_and_set_on_the_refresh_token() {
        let store = MemoryStore::new();
        assert!(store.load("m").await.expect("load").is_none());
        store.save(&pair("m", "a0", "r0")).await.expect("save");
        let r1 = pair("m", "a1", "r1");
        assert!(matches!(
            store.replace(&Secret::new("r0"), &r1).await.expect("cas"),
            Replaced::Stored
        ));
        // The same refresh token again: another process already spent it.
        let stale = pair("m", "a2", "r2");
        match store
            .replace(&Secret::new("r0"), &stale)
            .await
            .expect("cas")
        {
            Replaced::Changed(Some(now)) => assert_eq!(now.access_token.expose(), "a1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            store
                .load("m")
                .await
                .expect("load")
                .and_then(|t| t.refresh_token)
                .map(|s| s.expose().to_owned())
                .as_deref(),
            Some("r1")
        );
        let r1s = Secret::new("r1");
        assert_eq!(
            store.claim("m", &r1s, CLAIM_TTL).await.expect("c"),
            Claim::Granted
        );
        assert_eq!(
            store.claim("m", &r1s, CLAIM_TTL).await.expect("c"),
            Claim::Held
        );
        store.release("m", &r1s).await.expect("release");
        assert_eq!(
            store.claim("m", &r1s, Duration::ZERO).await.expect("c"),
            Claim::Granted
        );
        // An expired claim is no claim.
        assert_eq!(
            store.claim("m", &r1s, CLAIM_TTL).await.expect("c"),
            Claim::Granted
        );
        let orphan = Tokens::new("a", None);
        assert!(store.save(&orphan).await.is_err());
        assert!(!format!("{store:?}").contains("a1"));
    }
}
