//! `b24-codegen fetch`: download the upstream docs archive of one revision, check its sha256,
//! and unpack it into a folder.
//!
//! Every step is bounded and the archive is treated as hostile:
//! - the download stops beyond `--max-bytes` (the `Content-Length` is checked first, then the
//!   streamed body, hashed while it is written to a temporary file beside DIR);
//! - redirects are followed (at most [`MAX_REDIRECTS`]) only to the origin (scheme, host and
//!   port) of the configured URL, or, when that URL is on `https://github.com`, to
//!   `https://codeload.github.com`, where GitHub sends archive downloads;
//! - the sha256 is checked before anything is unpacked; a mismatch names both hashes;
//! - entries are unpacked into a temporary folder beside DIR, which becomes DIR only when every
//!   entry was unpacked: an entry with `..`, an absolute path, a link or a device, an archive
//!   without a single top folder, more than [`MAX_ENTRIES`] entries or more than
//!   `--max-unpacked-bytes` refuses the whole archive, and DIR is never created.
//!
//! The URL (which may carry a token in its query, for a private mirror) is printed without its
//! query and user information.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use sha2::Digest as _;

/// Where the archives come from; `{rev}` is replaced by the revision.
pub const DEFAULT_URL: &str = "https://github.com/bitrix-tools/b24-rest-docs/archive/{rev}.tar.gz";

/// The most redirects followed.
pub const MAX_REDIRECTS: usize = 5;

/// The most entries an archive may have.
pub const MAX_ENTRIES: u64 = 200_000;

/// The longest revision accepted.
const MAX_REV_LEN: usize = 128;

/// The arguments of `fetch`.
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// The upstream revision (a commit; a tag or branch works too, but only a commit is
    /// pinned): letters, digits, `.`, `_`, `-`.
    #[arg(long, value_name = "COMMIT")]
    rev: String,
    /// The folder to create; it must not exist. The archive's top folder is stripped, so
    /// DIR/api-reference/... holds the pages.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The expected sha256 of the archive (64 hex digits).
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
    /// A lock (`b24.lock`): the sha256 it records for REV is checked; when it records none,
    /// the archive's (checked against `--sha256` when given) is written into it once the
    /// archive is unpacked (a lock that does not exist is created).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    /// The archive URL, with `{rev}` where the revision goes.
    #[arg(
        long = "from",
        value_name = "URL_TEMPLATE",
        env = "B24_DOCS_ARCHIVE_URL",
        default_value = DEFAULT_URL
    )]
    from: String,
    /// The largest archive downloaded, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 512 * 1024 * 1024)]
    max_bytes: u64,
    /// The most bytes unpacked from the archive, all files together.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024 * 1024)]
    max_unpacked_bytes: u64,
}

/// Runs `fetch`: exit 0 when DIR holds the checked archive's files; an error otherwise.
pub fn run(args: FetchArgs) -> Result<ExitCode, String> {
    check_rev(&args.rev)?;
    let given = args.sha256.as_deref().map(check_sha256).transpose()?;
    let url = archive_url(&args.from, &args.rev)?;
    let lock = match &args.lock {
        Some(file) if file.exists() => Some(
            b24_codegen::lock::Lock::read(file).map_err(|e| format!("{}: {e}", file.display()))?,
        ),
        Some(_) => Some(b24_codegen::lock::Lock {
            format: b24_codegen::lock::FORMAT,
            ..Default::default()
        }),
        None => None,
    };
    let locked = lock
        .as_ref()
        .and_then(|l| l.docs_archives.get(&args.rev).cloned());
    let recorded = locked.is_some();
    let expected = match (given, locked) {
        (Some(given), Some(locked)) if given != locked => {
            return Err(format!(
                "--sha256 {given} differs from the sha256 {locked} the lock records for rev {}",
                args.rev
            ))
        }
        (given, locked) => given.or(locked),
    };

    let (parent, name) = split_out(&args.out)?;
    if args.out.exists() {
        return Err(format!(
            "{} exists; fetch writes a new folder (remove it or choose another --out)",
            args.out.display()
        ));
    }
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;

    let archive = Scratch::file(&parent, &name, "tar.gz")?;
    let actual = download(&url, archive.path(), args.max_bytes)?;
    match &expected {
        Some(expected) if *expected != actual => {
            return Err(format!(
                "sha256 mismatch for rev {}: expected {expected}, the archive has {actual}; \
                 nothing unpacked, {} not created",
                args.rev,
                args.out.display()
            ))
        }
        Some(_) => println!("sha256 {actual} (rev {}): as expected", args.rev),
        None => println!("sha256 {actual} (rev {})", args.rev),
    }

    let unpacked = Scratch::dir(&parent, &name)?;
    let (files, bytes) = unpack(archive.path(), unpacked.path(), args.max_unpacked_bytes)?;
    if args.out.exists() {
        return Err(format!(
            "{} appeared while fetching; left alone",
            args.out.display()
        ));
    }
    unpacked.keep_as(&args.out)?;
    drop(archive);
    println!(
        "unpacked {files} files ({bytes} bytes) into {}",
        args.out.display()
    );

    match (args.lock, lock) {
        (Some(file), Some(mut lock)) if !recorded => {
            lock.docs_archives.insert(args.rev.clone(), actual);
            std::fs::write(&file, lock.to_json())
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            println!(
                "recorded the sha256 of rev {} in {}",
                args.rev,
                file.display()
            );
        }
        (None, _) if expected.is_none() => eprintln!(
            "b24-codegen: nothing to check the archive against; pin it with --sha256 or --lock"
        ),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// A revision is a URL path segment: letters, digits, `.`, `_`, `-`, not starting with `.`
/// or `-`, no `..`.
fn check_rev(rev: &str) -> Result<(), String> {
    let ok = !rev.is_empty()
        && rev.len() <= MAX_REV_LEN
        && rev
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !rev.starts_with(['.', '-'])
        && !rev.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--rev must be 1 to {MAX_REV_LEN} letters, digits, `.`, `_` or `-` (a commit)"
        ))
    }
}

/// 64 hex digits, lowercased.
fn check_sha256(hex: &str) -> Result<String, String> {
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err("--sha256 must be 64 hex digits".to_owned())
    }
}

/// The archive URL of `rev`: an http or https URL with a host.
fn archive_url(template: &str, rev: &str) -> Result<reqwest::Url, String> {
    if !template.contains("{rev}") {
        return Err("the archive URL template has no `{rev}`".to_owned());
    }
    let url = reqwest::Url::parse(&template.replace("{rev}", rev))
        .map_err(|e| format!("the archive URL is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("the archive URL must be http or https, with a host".to_owned());
    }
    Ok(url)
}

/// `scheme://host:port/path`, without user information and query: what is printed of a URL.
fn shown(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// DIR's parent folder (`.` for a bare name) and its last component.
fn split_out(out: &Path) -> Result<(PathBuf, String), String> {
    let name = match out.components().next_back() {
        Some(Component::Normal(name)) => name.to_string_lossy().into_owned(),
        _ => return Err(format!("--out {} names no folder", out.display())),
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Downloads `url` into `file` (at most `max` bytes) and returns its sha256 in hex.
fn download(url: &reqwest::Url, file: &Path, max: u64) -> Result<String, String> {
    let origin = url.origin();
    let github = url.scheme() == "https" && url.host_str() == Some("github.com");
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let to = attempt.url();
        let codeload = github
            && to.scheme() == "https"
            && to.host_str() == Some("codeload.github.com")
            && to.port().is_none();
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if to.origin() == origin || codeload {
            attempt.follow()
        } else {
            let refused = format!(
                "refused a redirect to {}: only the archive URL's own origin{} is followed",
                shown(to),
                if github {
                    " and https://codeload.github.com"
                } else {
                    ""
                }
            );
            attempt.error(refused)
        }
    });
    let client = reqwest::blocking::Client::builder()
        .redirect(policy)
        .user_agent(concat!("b24-codegen/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {}", chain(&e.without_url())))?;
    let failed = |e: reqwest::Error| {
        format!(
            "cannot download {}: {}",
            shown(url),
            chain(&e.without_url())
        )
    };
    let mut response = client.get(url.clone()).send().map_err(failed)?;
    if !response.status().is_success() {
        return Err(format!(
            "cannot download {}: the server answered {}",
            shown(url),
            response.status()
        ));
    }
    let too_large = || {
        format!(
            "the archive at {} is larger than --max-bytes {max}; nothing unpacked",
            shown(url)
        )
    };
    if response.content_length().is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut out = std::io::BufWriter::new(
        File::options()
            .write(true)
            .open(file)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?,
    );
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = response
            .read(&mut buffer)
            .map_err(|e| format!("cannot download {}: {}", shown(url), chain(&e)))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > max {
            return Err(too_large());
        }
        hasher.update(&buffer[..n]);
        out.write_all(&buffer[..n])
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// An error and its sources, joined by `: `.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

/// Unpacks the gzipped tar `archive` into the empty folder `into`, its single top folder
/// stripped; returns the files and bytes written.
fn unpack(archive: &Path, into: &Path, max_bytes: u64) -> Result<(u64, u64), String> {
    let refuse = |what: String| format!("the archive is refused: {what}; nothing unpacked");
    let file =
        File::open(archive).map_err(|e| format!("cannot read {}: {e}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let entries = tar
        .entries()
        .map_err(|e| refuse(format!("not a tar.gz ({e})")))?;
    let (mut top, mut files, mut bytes, mut count) = (None::<std::ffi::OsString>, 0u64, 0u64, 0u64);
    for entry in entries {
        let mut entry = entry.map_err(|e| refuse(format!("not a valid tar.gz ({e})")))?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(refuse(format!("more than {MAX_ENTRIES} entries")));
        }
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = entry
            .path()
            .map_err(|e| refuse(format!("entry `{raw}` has no usable path ({e})")))?
            .into_owned();
        let mut parts = Vec::new();
        for part in path.components() {
            match part {
                Component::Normal(p) => parts.push(p.to_os_string()),
                Component::CurDir => {}
                _ => return Err(refuse(format!("entry `{raw}` escapes the folder"))),
            }
        }
        let Some((first, rest)) = parts.split_first() else {
            return Err(refuse(format!("entry `{raw}` has an empty path")));
        };
        match &top {
            None => top = Some(first.clone()),
            Some(t) if t != first => {
                return Err(refuse(format!(
                    "entry `{raw}` is outside the single top folder `{}`",
                    t.to_string_lossy()
                )))
            }
            Some(_) => {}
        }
        let dest: PathBuf = rest.iter().fold(into.to_path_buf(), |p, c| p.join(c));
        if kind.is_dir() {
            std::fs::create_dir_all(&dest)
                .map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
            continue;
        }
        if !kind.is_file() {
            return Err(refuse(format!(
                "entry `{raw}` is a {kind:?}, not a file or a folder"
            )));
        }
        if rest.is_empty() {
            return Err(refuse(format!(
                "entry `{raw}` is a file, not the top folder"
            )));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        let left = max_bytes - bytes;
        if size > left {
            return Err(refuse(format!(
                "its files hold more than --max-unpacked-bytes {max_bytes}"
            )));
        }
        if let Some(folder) = dest.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        }
        let mut out = File::create_new(&dest).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                refuse(format!("entry `{raw}` is there twice"))
            } else {
                format!("cannot create {}: {e}", dest.display())
            }
        })?;
        let written = std::io::copy(&mut (&mut entry).take(left.saturating_add(1)), &mut out)
            .map_err(|e| refuse(format!("entry `{raw}` cannot be read ({e})")))?;
        if written > left {
            return Err(refuse(format!(
                "its files hold more than --max-unpacked-bytes {max_bytes}"
            )));
        }
        bytes += written;
        files += 1;
    }
    if files == 0 {
        return Err(refuse("it holds no file".to_owned()));
    }
    Ok((files, bytes))
}

/// A temporary file or folder beside DIR, removed when dropped unless kept.
struct Scratch {
    path: Option<PathBuf>,
    dir: bool,
}

impl Scratch {
    fn name(parent: &Path, name: &str, ext: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        parent.join(format!(
            ".{name}.fetch-{}-{nanos}.{ext}",
            std::process::id()
        ))
    }

    /// A new empty file.
    fn file(parent: &Path, name: &str, ext: &str) -> Result<Scratch, String> {
        let path = Self::name(parent, name, ext);
        File::create_new(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Scratch {
            path: Some(path),
            dir: false,
        })
    }

    /// A new empty folder.
    fn dir(parent: &Path, name: &str) -> Result<Scratch, String> {
        let path = Self::name(parent, name, "tmp");
        std::fs::create_dir(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Scratch {
            path: Some(path),
            dir: true,
        })
    }

    fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Renames it to `to`, and no longer removes it.
    fn keep_as(mut self, to: &Path) -> Result<(), String> {
        let from = self.path.take().unwrap_or_default();
        std::fs::rename(&from, to).map_err(|e| {
            self.path = Some(from);
            format!("cannot rename the unpacked folder to {}: {e}", to.display())
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = if self.dir {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
    }
}
