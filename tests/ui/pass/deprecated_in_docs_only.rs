// With `deprecated_in_docs_only`, a method the docs deprecate compiles without a warning (denied
// here) and still says so in its rustdoc.
#![deny(deprecated)]

mod quiet {
    b24::api!(env = "B24_UI_OUTDATED_PAGE", deprecated_in_docs_only);
}

fn main() {
    let request = quiet::thing::old::Request {
        id: Some(7.into()),
        ..quiet::thing::old::Request::new()
    };
    assert!(request.id.is_some());
    assert_eq!(<quiet::thing::old::Request as b24::Method>::NAME, "thing.old");
}
