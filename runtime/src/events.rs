//! Incoming events: the form-encoded POST Bitrix24 sends to an event handler.
//!
//! ```
//! use b24_runtime::events::Event;
//! let body = b"event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124\
//!     &auth%5Bdomain%5D=x.bitrix24.com&auth%5Bapplication_token%5D=51856fef";
//! let event = Event::parse_verified(body, "51856fef").expect("genuine");
//! assert_eq!(event.event, "ONCRMDEALADD");
//! assert_eq!(event.data["FIELDS"]["ID"], "7405");
//! ```
//!
//! The `application_token` is compared in constant time, and it and any OAuth tokens in `auth`
//! are [`Secret`]s: they never show in `Debug` output.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::query::parse_query;
use crate::secret::Secret;
use crate::value::Int;
use crate::Extra;

/// An incoming event.
#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    /// The event code in upper case, e.g. `ONCRMDEALADD`.
    pub event: String,
    /// The id of the registered handler.
    #[serde(default)]
    pub event_handler_id: Option<Int>,
    /// The event's data (its keys depend on the event; usually `FIELDS`).
    #[serde(default)]
    pub data: serde_json::Value,
    /// Unix time the event left the queue.
    #[serde(default)]
    pub ts: Option<Int>,
    /// Authorization data and the portal the event came from.
    #[serde(default)]
    pub auth: EventAuth,
    /// Top-level fields not listed above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `auth` part of an event. OAuth tokens come only to applications, and only when a user
/// caused the event.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct EventAuth {
    /// The OAuth access token of the user who caused the event.
    #[serde(default, deserialize_with = "secret")]
    pub access_token: Option<Secret>,
    /// The OAuth refresh token (only with some events, e.g. `OnAppInstall`).
    #[serde(default, deserialize_with = "secret")]
    pub refresh_token: Option<Secret>,
    /// Seconds until the access token expires.
    #[serde(default)]
    pub expires_in: Option<Int>,
    /// The scope the event belongs to.
    #[serde(default)]
    pub scope: Option<String>,
    /// The portal's address.
    #[serde(default)]
    pub domain: Option<String>,
    /// The authorization server's REST address.
    #[serde(default)]
    pub server_endpoint: Option<String>,
    /// The application's status (`L`, `F`, `D`, `T`, `P`).
    #[serde(default)]
    pub status: Option<String>,
    /// The portal's REST address.
    #[serde(default)]
    pub client_endpoint: Option<String>,
    /// The portal's identifier.
    #[serde(default)]
    pub member_id: Option<String>,
    /// The token proving the event came from Bitrix24.
    #[serde(default, deserialize_with = "secret")]
    pub application_token: Option<Secret>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Extra,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// An event could not be read or is not genuine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not an event.
    #[error("not an event: {0}")]
    Malformed(String),
    /// The `application_token` is missing or wrong.
    #[error("the event's application_token does not match")]
    BadToken,
    /// `data` does not have the expected shape.
    #[error("unexpected event data: {0}")]
    Data(String),
}

impl Event {
    /// Parses a form-encoded event body (`event=…&data[…]=…&auth[…]=…`).
    pub fn parse(body: &[u8]) -> Result<Event, EventError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| EventError::Malformed("the body is not UTF-8".into()))?;
        Event::from_value(parse_query(text.trim()))
    }

    /// Parses an event given as JSON (the same structure as the form).
    pub fn parse_json(body: &[u8]) -> Result<Event, EventError> {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| EventError::Malformed(e.to_string()))?;
        Event::from_value(v)
    }

    fn from_value(v: serde_json::Value) -> Result<Event, EventError> {
        serde_json::from_value(v).map_err(|e| EventError::Malformed(e.to_string()))
    }

    /// Parses a form-encoded event and checks its `application_token`.
    pub fn parse_verified(body: &[u8], application_token: &str) -> Result<Event, EventError> {
        let event = Event::parse(body)?;
        event.verify(application_token)?;
        Ok(event)
    }

    /// Checks the `application_token` against the expected one, in constant time.
    pub fn verify(&self, application_token: &str) -> Result<(), EventError> {
        let got = self
            .auth
            .application_token
            .as_ref()
            .ok_or(EventError::BadToken)?;
        if tokens_match(got.expose(), application_token) {
            Ok(())
        } else {
            Err(EventError::BadToken)
        }
    }

    /// `data` decoded into a type of your choice.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, EventError> {
        T::deserialize(&self.data).map_err(|e| EventError::Data(e.to_string()))
    }
}

/// Constant-time comparison (for equal lengths; an empty expected token never matches).
fn tokens_match(got: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(got.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_EVENT: &str = "event=ONCRMDEALADD&event_handler_id=185&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124\
        &auth%5Baccess_token%5D=s6p6eclrvim6da22ft9ch94ekreb52lv&auth%5Bexpires_in%5D=3600&auth%5Bscope%5D=crm\
        &auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F\
        &auth%5Bstatus%5D=L&auth%5Bclient_endpoint%5D=https%3A%2F%2Fsome-domain.bitrix24.com%2Frest%2F\
        &auth%5Bmember_id%5D=d897063e1ce7c5eb9f04b9751eef5915&auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce";

    #[test]
    fn parses_the_docs_application_event() {
        let e = Event::parse(APP_EVENT.as_bytes()).expect("parses");
        assert_eq!(e.event, "ONCRMDEALADD");
        assert_eq!(e.event_handler_id.as_ref().map(Int::get), Some(185));
        assert_eq!(e.ts.as_ref().map(Int::get), Some(1766047124));
        assert_eq!(e.data["FIELDS"]["ID"], "7405");
        assert_eq!(e.auth.domain.as_deref(), Some("some-domain.bitrix24.com"));
        assert_eq!(
            e.auth.client_endpoint.as_deref(),
            Some("https://some-domain.bitrix24.com/rest/")
        );
        assert_eq!(e.auth.expires_in.as_ref().map(Int::get), Some(3600));
        assert!(e.verify("51856fefc120afa4b628cc82d3935cce").is_ok());
        assert!(matches!(
            e.verify("51856fefc120afa4b628cc82d3935ccf"),
            Err(EventError::BadToken)
        ));
        assert!(matches!(e.verify(""), Err(EventError::BadToken)));
        assert!(matches!(e.verify("short"), Err(EventError::BadToken)));

        #[derive(Deserialize)]
        struct Fields {
            #[serde(rename = "FIELDS")]
            fields: Ids,
        }
        #[derive(Deserialize)]
        struct Ids {
            #[serde(rename = "ID")]
            id: Int,
        }
        assert_eq!(e.data_as::<Fields>().expect("typed").fields.id.get(), 7405);

        let shown = format!("{e:?}");
        for secret in [
            "s6p6eclrvim6da22ft9ch94ekreb52lv",
            "51856fefc120afa4b628cc82d3935cce",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn webhook_event_without_tokens_and_bad_bodies() {
        let body =
            b"event=ONCRMDEALADD&data[FIELDS][ID]=1&auth[application_token]=abc&auth[member_id]=m";
        let e = Event::parse_verified(body, "abc").expect("genuine");
        assert!(e.auth.access_token.is_none());
        assert!(matches!(
            Event::parse_verified(body, "abd"),
            Err(EventError::BadToken)
        ));
        assert!(matches!(
            Event::parse(b"data[FIELDS][ID]=1"),
            Err(EventError::Malformed(_))
        ));
        assert!(matches!(
            Event::parse(b"\xff\xfe"),
            Err(EventError::Malformed(_))
        ));
        let no_token = Event::parse(b"event=X").expect("parses");
        assert!(matches!(no_token.verify("abc"), Err(EventError::BadToken)));
        let j = Event::parse_json(
            br#"{"event":"E","data":{"FIELDS":{"ID":"2"}},"auth":{"application_token":"t"}}"#,
        )
        .expect("json");
        assert!(j.verify("t").is_ok());
    }
}
