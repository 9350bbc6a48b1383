//! `b24-codegen fetch` against a local HTTP server (no network): the archive is made at test
//! time from our own pages under `docs/`, in the form GitHub serves (a pax global header, one
//! top folder `b24-rest-docs-REV/`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use sha2::Digest as _;

const REV: &str = "0123456789abcdef0123456789abcdef01234567";

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fetch-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_b24-codegen"));
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "B24_DOCS_ARCHIVE_URL",
    ] {
        command.env_remove(var);
    }
    command
        .env("NO_PROXY", "127.0.0.1,localhost")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One pax record: `LEN key=value\n`, LEN counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

/// A tar.gz of `docs/` under `b24-rest-docs-REV/`, after a pax global header as `git archive`
/// writes one.
fn good_archive() -> Vec<u8> {
    let top = format!("b24-rest-docs-{REV}");
    let mut builder = tar::Builder::new(Vec::new());
    let comment = pax_record("comment", REV);
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::XGlobalHeader);
    header.set_path("pax_global_header").unwrap();
    header.set_size(comment.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, comment.as_slice()).unwrap();
    builder.append_dir_all(&top, docs()).unwrap();
    gzip(&builder.into_inner().unwrap())
}

fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(tar).unwrap();
    gz.finish().unwrap()
}

/// A tar.gz with one good page and then `entry`, written with its raw name (the tar crate's
/// own setters refuse `..`).
fn hostile_archive(name: &[u8], kind: tar::EntryType, link: Option<&str>) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let page = b"# A page\n";
    let mut header = tar::Header::new_gnu();
    header.set_path("top/api-reference/page.md").unwrap();
    header.set_size(page.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append(&header, &page[..]).unwrap();

    let body = b"evil\n";
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_mode(0o644);
    match link {
        Some(target) => {
            header.set_link_name_literal(target).unwrap();
            header.set_size(0);
            header.set_cksum();
            builder.append(&header, std::io::empty()).unwrap();
        }
        None => {
            header.set_size(body.len() as u64);
            header.set_cksum();
            builder.append(&header, &body[..]).unwrap();
        }
    }
    gzip(&builder.into_inner().unwrap())
}

/// What the server answers on a path.
#[derive(Clone)]
enum Answer {
    /// The body, with or without a `Content-Length`.
    Body(Vec<u8>, bool),
    /// A 302 to this location.
    Redirect(String),
}

/// A server on 127.0.0.1 answering `routes` (a path → answer; others are 404) until the test
/// process ends. Returns its port.
fn serve(routes: impl FnOnce(u16) -> BTreeMap<String, Answer>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes = Arc::new(routes(port));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let routes = Arc::clone(&routes);
            std::thread::spawn(move || answer(stream, &routes));
        }
    });
    port
}

fn answer(stream: TcpStream, routes: &BTreeMap<String, Answer>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let path = request.split(' ').nth(1).unwrap_or("").to_owned();
    let mut stream = stream;
    let _ = match routes.get(&path) {
        Some(Answer::Body(body, length)) => {
            let length = if *length {
                format!("Content-Length: {}\r\n", body.len())
            } else {
                String::new()
            };
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-gzip\r\n{length}Connection: close\r\n\r\n"
            )
            .and_then(|()| stream.write_all(body))
        }
        Some(Answer::Redirect(to)) => write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        None => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    };
    let _ = stream.flush();
}

fn template(port: u16, prefix: &str) -> String {
    format!("http://127.0.0.1:{port}/{prefix}/{{rev}}.tar.gz")
}

fn path(prefix: &str) -> String {
    format!("/{prefix}/{REV}.tar.gz")
}

/// Nothing but `keep` is left in `dir`: no temporary file or folder of a failed fetch.
fn only(dir: &Path, keep: &[&str]) {
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, keep, "what is left in {}", dir.display());
}

#[test]
fn the_right_hash_unpacks_the_pages_without_their_top_folder_and_check_reads_them() {
    let archive = good_archive();
    let hash = sha256(&archive);
    let port = serve(|port| {
        BTreeMap::from([
            (path("archive"), Answer::Body(archive, true)),
            // A redirect within the same origin is followed.
            (
                path("moved"),
                Answer::Redirect(format!("http://127.0.0.1:{port}{}", path("archive"))),
            ),
        ])
    });
    let dir = scratch("right");
    for (prefix, name) in [("archive", "docs"), ("moved", "docs-moved")] {
        let out = dir.join(name);
        let o = run(&[
            "fetch",
            "--rev",
            REV,
            "--out",
            out.to_str().unwrap(),
            "--sha256",
            &hash.to_uppercase(),
            "--from",
            &template(port, prefix),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains(&format!("sha256 {hash}")),
            "{}",
            text(&o.stdout)
        );
        assert!(out.join("api-reference/user/user-current.md").is_file());
        assert_eq!(
            std::fs::read(out.join("api-reference/user/user-current.md")).unwrap(),
            std::fs::read(docs().join("api-reference/user/user-current.md")).unwrap()
        );
        assert!(!out.join("pax_global_header").exists());

        let fetched = run(&["check", out.to_str().unwrap(), "--json"]);
        assert!(fetched.status.success(), "{}", text(&fetched.stdout));
        let ours = run(&["check", docs().to_str().unwrap(), "--json"]);
        let fetched: serde_json::Value = serde_json::from_slice(&fetched.stdout).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
        for key in ["pages", "methods", "generated", "typed_fields"] {
            assert_eq!(fetched[key], ours[key], "{key}");
        }
    }
    only(&dir, &["docs", "docs-moved"]);

    // The folder exists now: a second fetch into it is refused and leaves it as it is.
    let o = run(&[
        "fetch",
        "--rev",
        REV,
        "--out",
        dir.join("docs").to_str().unwrap(),
        "--from",
        &template(port, "archive"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("exists"), "{}", text(&o.stderr));
    assert!(dir
        .join("docs/api-reference/user/user-current.md")
        .is_file());
}

#[test]
fn a_wrong_hash_names_both_hashes_and_creates_nothing() {
    let archive = good_archive();
    let hash = sha256(&archive);
    let port = serve(|_| BTreeMap::from([(path("archive"), Answer::Body(archive, true))]));
    let dir = scratch("wrong");
    let wrong = "0".repeat(64);
    let o = run(&[
        "fetch",
        "--rev",
        REV,
        "--out",
        dir.join("docs").to_str().unwrap(),
        "--sha256",
        &wrong,
        "--from",
        &template(port, "archive"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains(&wrong) && err.contains(&hash), "{err}");
    only(&dir, &[]);
}

#[test]
fn the_lock_records_the_first_hash_and_checks_it_on_the_next_fetch() {
    let archive = good_archive();
    let hash = sha256(&archive);
    let port = serve(|_| BTreeMap::from([(path("archive"), Answer::Body(archive, true))]));
    let dir = scratch("lock");
    let lock = dir.join("b24.lock");
    // A lock as `lock update` writes it.
    let o = run(&[
        "lock",
        "update",
        docs().to_str().unwrap(),
        "--lock",
        lock.to_str().unwrap(),
        "--docs-version",
        "v1",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let before = b24_codegen::lock::Lock::read(&lock).unwrap();
    assert!(before.docs_archives.is_empty());
    assert!(!std::fs::read_to_string(&lock)
        .unwrap()
        .contains("docs_archives"));

    let fetch = |name: &str| {
        run(&[
            "fetch",
            "--rev",
            REV,
            "--out",
            dir.join(name).to_str().unwrap(),
            "--lock",
            lock.to_str().unwrap(),
            "--from",
            &template(port, "archive"),
        ])
    };
    let o = fetch("first");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let after = b24_codegen::lock::Lock::read(&lock).unwrap();
    assert_eq!(after.docs_archives.get(REV), Some(&hash));
    assert_eq!(after.methods, before.methods);
    assert_eq!(after.docs_version, "v1");

    let o = fetch("second");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("as expected"),
        "{}",
        text(&o.stdout)
    );

    // `lock update` keeps the recorded hash.
    let o = run(&[
        "lock",
        "update",
        docs().to_str().unwrap(),
        "--lock",
        lock.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let updated = b24_codegen::lock::Lock::read(&lock).unwrap();
    assert_eq!(updated.docs_archives.get(REV), Some(&hash));

    // The lock's hash is the one checked.
    let mut tampered = updated.clone();
    tampered
        .docs_archives
        .insert(REV.to_owned(), "f".repeat(64));
    std::fs::write(&lock, tampered.to_json()).unwrap();
    let o = fetch("third");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains(&"f".repeat(64)),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.join("third").exists());

    // A hash given with --sha256 is recorded in a lock that has none for the revision.
    let given = dir.join("given.lock");
    let o = run(&[
        "fetch",
        "--rev",
        REV,
        "--out",
        dir.join("fourth").to_str().unwrap(),
        "--sha256",
        &hash,
        "--lock",
        given.to_str().unwrap(),
        "--from",
        &template(port, "archive"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let given = b24_codegen::lock::Lock::read(&given).unwrap();
    assert_eq!(given.docs_archives.get(REV), Some(&hash));
}

#[test]
fn an_archive_over_the_size_limit_is_refused_with_or_without_a_length() {
    let archive = good_archive();
    assert!(archive.len() > 2000);
    let port = serve(|_| {
        BTreeMap::from([
            (path("length"), Answer::Body(archive.clone(), true)),
            (path("stream"), Answer::Body(archive, false)),
        ])
    });
    let dir = scratch("large");
    for prefix in ["length", "stream"] {
        let o = run(&[
            "fetch",
            "--rev",
            REV,
            "--out",
            dir.join("docs").to_str().unwrap(),
            "--max-bytes",
            "2000",
            "--from",
            &template(port, prefix),
        ]);
        assert_eq!(o.status.code(), Some(1), "{prefix}");
        assert!(
            text(&o.stderr).contains("--max-bytes 2000"),
            "{}",
            text(&o.stderr)
        );
        only(&dir, &[]);
    }
    // Within the limit, the same archive is fetched; too many unpacked bytes are refused.
    let o = run(&[
        "fetch",
        "--rev",
        REV,
        "--out",
        dir.join("docs").to_str().unwrap(),
        "--max-unpacked-bytes",
        "10000",
        "--from",
        &template(port, "stream"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--max-unpacked-bytes 10000"),
        "{}",
        text(&o.stderr)
    );
    only(&dir, &[]);
}

#[test]
fn entries_escaping_the_folder_and_links_are_refused() {
    // (name, archive, why it is refused)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "parent",
            hostile_archive(b"top/../../evil", tar::EntryType::Regular, None),
            "escapes the folder",
        ),
        (
            "absolute",
            hostile_archive(b"/tmp/b24-fetch-evil", tar::EntryType::Regular, None),
            "escapes the folder",
        ),
        (
            "symlink",
            hostile_archive(b"top/link", tar::EntryType::Symlink, Some("/etc")),
            "is a Symlink",
        ),
        (
            "hardlink",
            hostile_archive(b"top/hard", tar::EntryType::Link, Some("/etc/passwd")),
            "is a Link",
        ),
        (
            "second-top",
            hostile_archive(b"other/page.md", tar::EntryType::Regular, None),
            "outside the single top folder `top`",
        ),
    ];
    let names: Vec<(&str, &str)> = cases.iter().map(|(n, _, why)| (*n, *why)).collect();
    let port = serve(|_| {
        cases
            .into_iter()
            .map(|(name, body, _)| (path(name), Answer::Body(body, true)))
            .collect()
    });
    let dir = scratch("hostile");
    let inner = dir.join("in");
    std::fs::create_dir_all(&inner).unwrap();
    for (name, why) in names {
        let o = run(&[
            "fetch",
            "--rev",
            REV,
            "--out",
            inner.join("docs").to_str().unwrap(),
            "--from",
            &template(port, name),
        ]);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o.stdout));
        let err = text(&o.stderr);
        assert!(
            err.contains("the archive is refused") && err.contains(why),
            "{name}: {err}"
        );
        only(&inner, &[]);
        only(&dir, &["in"]);
    }
    assert!(!Path::new("/tmp/b24-fetch-evil").exists());
}

#[test]
fn a_redirect_to_another_host_is_refused() {
    let archive = good_archive();
    let port = serve(|port| {
        BTreeMap::from([
            (path("archive"), Answer::Body(archive, true)),
            (
                path("away"),
                Answer::Redirect(format!("http://localhost:{port}{}", path("archive"))),
            ),
        ])
    });
    let dir = scratch("redirect");
    let o = run(&[
        "fetch",
        "--rev",
        REV,
        "--out",
        dir.join("docs").to_str().unwrap(),
        "--from",
        &template(port, "away"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("refused a redirect to http://localhost:"),
        "{err}"
    );
    only(&dir, &[]);
}

#[test]
fn bad_revisions_hashes_and_templates_are_refused_before_any_download() {
    let dir = scratch("args");
    let out = dir.join("docs");
    let out = out.to_str().unwrap();
    // Port 9 (discard) on loopback: nothing is fetched in any of these cases.
    let from = "http://127.0.0.1:9/{rev}.tar.gz";
    for (args, said) in [
        (vec!["--rev", "../x"], "--rev"),
        (vec!["--rev", "a/b"], "--rev"),
        (vec!["--rev", REV, "--sha256", "abc"], "--sha256"),
        (
            vec!["--rev", REV, "--from", "http://127.0.0.1:9/a.tar.gz"],
            "{rev}",
        ),
        (
            vec!["--rev", REV, "--from", "file:///etc/{rev}"],
            "http or https",
        ),
    ] {
        let mut all = vec!["fetch", "--out", out];
        all.extend(&args);
        if !args.contains(&"--from") {
            all.extend(["--from", from]);
        }
        let o = run(&all);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            text(&o.stderr).contains(said),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    only(&dir, &[]);
    let missing = run(&["fetch", "--out", out]);
    assert_eq!(missing.status.code(), Some(2));
}
