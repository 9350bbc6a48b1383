//! Parse time of the forms issue 9 found hostile, for `parse_str` and (with
//! `B24_FORM_BENCH_OLD=1`, slow: about a minute) the runtime's previous, quadratic parser.
//!
//! `cargo bench -p b24-form --bench parse`

#[path = "../tests/old/mod.rs"]
mod old;

use std::time::{Duration, Instant};

use b24_form::{find, parse_str, Limits};

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

fn main() {
    let roomy = Limits {
        max_bytes: 64 << 20,
        max_keys: 1_000_000,
        ..Limits::DEFAULT
    };
    let wide: String = (0..100_000).map(|i| format!("data[k{i}]=1&")).collect();
    let appends = "data[]=1&".repeat(50_000);
    let deep = format!("data{}=1", "[a]".repeat(3_000));
    let cases = [
        ("100,000 keys", wide.as_str()),
        ("50,000 appends", appends.as_str()),
        ("3,000 levels", deep.as_str()),
    ];
    let with_old = std::env::var_os("B24_FORM_BENCH_OLD").is_some();
    for (name, form) in cases {
        let (parsed, parse) = time(|| parse_str(form.as_bytes(), &roomy));
        let (_, token) = time(|| find(form.as_bytes(), &["auth", "application_token"], &roomy));
        let outcome = match parsed {
            Ok(m) => format!("{} top-level names", m.len()),
            Err(e) => format!("refused: {e}"),
        };
        print!(
            "{name} ({} KiB): parse_str {parse:.2?} ({outcome}), find {token:.2?}",
            form.len() / 1024
        );
        // The old parser recurses once per level: 3,000 levels overflow a thread's stack.
        if with_old && !name.contains("levels") {
            let (_, before) = time(|| old::parse_query(form));
            print!(", previous parser {before:.2?}");
        }
        println!();
    }
}
