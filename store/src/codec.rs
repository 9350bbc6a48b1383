//! A token pair as the JSON text a store keeps in its `pair` column.

use b24_runtime::{Secret, StoreError, Tokens};
use serde_json::{Map, Value};

/// The key the portal's domain is kept under (a token server's `domain` means another thing).
const PORTAL_DOMAIN: &str = "b24_store_portal_domain";

/// The largest `pair` text read back (a row is written by this crate; anything larger is not).
const MAX_PAIR_BYTES: usize = 1 << 20;

/// The pair as JSON text: every field, the unknown ones included.
pub(crate) fn encode(t: &Tokens) -> String {
    let mut m: Map<String, Value> = t.extra.clone();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    put("access_token", Some(t.access_token.expose().into()));
    put(
        "refresh_token",
        t.refresh_token.as_ref().map(|s| s.expose().into()),
    );
    put("expires", t.expires.map(Value::from));
    put("expires_in", t.expires_in.map(Value::from));
    put("scope", t.scope.clone().map(Value::from));
    put("member_id", t.member_id.clone().map(Value::from));
    put(PORTAL_DOMAIN, t.domain.clone().map(Value::from));
    put(
        "server_endpoint",
        t.server_endpoint.clone().map(Value::from),
    );
    put(
        "client_endpoint",
        t.client_endpoint.clone().map(Value::from),
    );
    put(
        "application_token",
        t.application_token.as_ref().map(|s| s.expose().into()),
    );
    put("status", t.status.clone().map(Value::from));
    put("user_id", t.user_id.map(Value::from));
    Value::Object(m).to_string()
}

/// Reads back what [`encode`] wrote. The error names no token.
pub(crate) fn decode(text: &str) -> Result<Tokens, StoreError> {
    if text.len() > MAX_PAIR_BYTES {
        return Err(StoreError::new("a stored pair is larger than 1 MiB"));
    }
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(text) else {
        return Err(StoreError::new("a stored pair is not a JSON object"));
    };
    let domain = match m.remove(PORTAL_DOMAIN) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let mut t =
        Tokens::from_json(m).ok_or_else(|| StoreError::new("a stored pair has no access token"))?;
    t.domain = domain;
    Ok(t)
}

/// The refresh token's text, as the compare-and-set column holds it.
pub(crate) fn refresh_text(t: &Tokens) -> Option<&str> {
    t.refresh_token.as_ref().map(Secret::expose)
}

/// The pair's `member_id`, or the store error for a pair without one.
pub(crate) fn member(t: &Tokens) -> Result<&str, StoreError> {
    t.member_id
        .as_deref()
        .ok_or_else(|| StoreError::new("the tokens have no member_id to be stored under"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips() {
        let mut t = Tokens::new("acc", Some(Secret::new("ref")));
        t.expires = Some(1_700_000_000);
        t.expires_in = Some(3600);
        t.scope = Some("crm".into());
        t.member_id = Some("m1".into());
        t.domain = Some("p.bitrix24.com".into());
        t.server_endpoint = Some("https://oauth.bitrix.info/rest/".into());
        t.client_endpoint = Some("https://p.bitrix24.com/rest/".into());
        t.application_token = Some(Secret::new("apptok"));
        t.status = Some("L".into());
        t.user_id = Some(7);
        t.extra.insert("domain".into(), "oauth.bitrix.info".into());
        let back = decode(&encode(&t)).expect("decodes");
        assert_eq!(back.access_token.expose(), "acc");
        assert_eq!(refresh_text(&back), Some("ref"));
        assert_eq!(back.expires, Some(1_700_000_000));
        assert_eq!(back.expires_in, Some(3600));
        assert_eq!(back.scope.as_deref(), Some("crm"));
        assert_eq!(back.member_id.as_deref(), Some("m1"));
        assert_eq!(back.domain.as_deref(), Some("p.bitrix24.com"));
        assert_eq!(back.client_endpoint, t.client_endpoint);
        assert_eq!(back.server_endpoint, t.server_endpoint);
        assert_eq!(back.application_token, t.application_token);
        assert_eq!(back.status.as_deref(), Some("L"));
        assert_eq!(back.user_id, Some(7));
        assert_eq!(back.extra.get("domain"), t.extra.get("domain"));
        assert!(!back.extra.contains_key(PORTAL_DOMAIN));
    }

    #[test]
    fn garbage_is_an_error_without_the_text() {
        for bad in ["", "[1]", "{\"refresh_token\":\"sekrit\"}", "{"] {
            let e = decode(bad).expect_err(bad);
            assert!(!e.to_string().contains("sekrit"));
        }
    }
}
