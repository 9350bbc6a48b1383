// With `skip_invalid`, a page that cannot be generated is listed instead of failing the build.
mod skipped {
    b24::api!(env = "B24_UI_NAMELESS_PAGE", skip_invalid);
}

fn main() {
    assert_eq!(skipped::SKIPPED_PAGES.len(), 1);
    let entry = skipped::SKIPPED_PAGES[0];
    assert!(entry.ends_with("nameless-page.md:1: error[no_method_name]: no method name in the title or in a cURL example"), "{entry}");
}
