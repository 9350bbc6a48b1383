// Without `deprecated_in_docs_only`, using a method the docs deprecate is a deprecation warning
// (denied here).
#![deny(deprecated)]

mod loud {
    b24::api!(env = "B24_UI_OUTDATED_PAGE");
}

fn main() {
    let _ = loud::thing::old::Request::new();
}
