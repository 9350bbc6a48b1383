//! The `method_error!` macro as generated code uses it.

use b24_runtime::{ApiError, Error, MethodError};

b24_runtime::method_error! {
    /// Errors of `crm.activity.badge.add`.
    pub enum BadgeAddError {
        /// Insufficient permissions to perform the operation
        AccessDenied = Code("ACCESS_DENIED"),
        /// Required fields are not filled
        RequiredArgMissing = Code("REQUIRED_ARG_MISSING"),
        /// The value is out of range,
        /// spread over two lines
        Range = Message("Value out of range"),
        /// A field is missing; the server names it after the colon
        RequiredFields = Prefix("Required fields:"),
    }
}

b24_runtime::method_error! {
    /// A method without documented codes.
    pub enum NoCodes {}
}

#[test]
fn codes_map_to_variants_and_keep_the_api_error() {
    let e = BadgeAddError::from(ApiError::new(403, "ACCESS_DENIED", "Access denied", "{}"));
    assert!(matches!(e, BadgeAddError::AccessDenied(_)));
    assert_eq!(e.api_error().status(), 403);
    assert_eq!(e.documented_code(), Some("ACCESS_DENIED"));
    assert_eq!(
        e.to_string(),
        "Insufficient permissions to perform the operation (HTTP 403 ACCESS_DENIED: Access denied)"
    );

    // Code 100: the description identifies the error.
    let e = BadgeAddError::from(ApiError::new(400, "100", "Value out of range", "{}"));
    assert!(matches!(e, BadgeAddError::Range(_)), "{e:?}");
    assert_eq!(e.documented_code(), None);
    assert_eq!(
        e.documented(),
        Some(b24_runtime::error::Recognise::Message("Value out of range"))
    );
    assert!(e
        .to_string()
        .starts_with("The value is out of range, spread over two lines ("));

    let e = BadgeAddError::from(ApiError::new(500, "INTERNAL_SERVER_ERROR", "boom", "raw"));
    assert!(matches!(e, BadgeAddError::Other(_)));
    assert_eq!(e.documented_code(), None);
    assert_eq!(e.api_error().body(), "raw");
    assert_eq!(
        e.to_string(),
        "API error HTTP 500 INTERNAL_SERVER_ERROR: boom"
    );
}

#[test]
fn texts_match_without_case_a_trailing_period_or_br_and_codes_come_first() {
    let from = |code: &str, text: &str| BadgeAddError::from(ApiError::new(400, code, text, ""));
    for text in [
        "Value out of range",
        "value out of range.",
        "  Value  out of range<br>",
        "Value out of range.<br />",
    ] {
        assert!(
            matches!(from("", text), BadgeAddError::Range(_)),
            "{text:?}"
        );
    }
    assert!(matches!(
        from("", "Value out of range now"),
        BadgeAddError::Other(_)
    ));
    assert!(matches!(
        from("0", "Required fields: code, name"),
        BadgeAddError::RequiredFields(_)
    ));
    assert!(matches!(
        from("0", "Required fields"),
        BadgeAddError::Other(_)
    ));
    // A documented code wins over a text that another variant documents.
    assert!(matches!(
        from("ACCESS_DENIED", "Value out of range"),
        BadgeAddError::AccessDenied(_)
    ));
}

#[test]
fn an_empty_list_works() {
    let e = NoCodes::from(ApiError::new(400, "ANY", "x", ""));
    assert!(matches!(e, NoCodes::Other(_)));
    let _: &dyn std::error::Error = &e;
}

#[test]
fn runtime_errors_wrap_method_errors() {
    let e: Error<BadgeAddError> = Error::Method(BadgeAddError::from(ApiError::new(
        400,
        "REQUIRED_ARG_MISSING",
        "Missing",
        "body",
    )));
    assert_eq!(e.status(), Some(400));
    assert_eq!(
        e.api_error().map(ApiError::code),
        Some("REQUIRED_ARG_MISSING")
    );
    assert!(std::error::Error::source(&e).is_some());
    let e: Error<BadgeAddError> = Error::QueryLimitExceeded(ApiError::new(
        503,
        "QUERY_LIMIT_EXCEEDED",
        "Too many requests",
        "",
    ));
    assert_eq!(e.status(), Some(503));
    assert!(e.to_string().contains("QUERY_LIMIT_EXCEEDED"));
}

#[test]
fn descriptions_ending_in_a_character_of_several_bytes_are_compared_without_panicking() {
    // "<br>" is 4 bytes; the last 4 bytes of "не найдено" are inside a character.
    let e = BadgeAddError::from(ApiError::new(400, "", "не найдено", "{}"));
    assert!(matches!(e, BadgeAddError::Other(_)));
    let e = BadgeAddError::from(ApiError::new(400, "", "Value out of range<br>", "{}"));
    assert!(matches!(e, BadgeAddError::Range(_)));
}
