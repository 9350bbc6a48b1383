//! Compile tests: a program using the generated API compiles, and pages or options that cannot
//! be turned into code give compile errors naming the file and line (pinned in `tests/ui`).

#[test]
fn generated_api_and_compile_errors() {
    let page =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fail/nameless-page.md");
    // The compiler run by trybuild inherits the environment; the macro reads the page from it.
    std::env::set_var("B24_UI_NAMELESS_PAGE", page);
    let outdated = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/outdated");
    std::env::set_var("B24_UI_OUTDATED_PAGE", outdated);
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
