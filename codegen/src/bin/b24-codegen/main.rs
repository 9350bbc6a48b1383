//! `b24-codegen`: check docs pages, generate Rust from them, and compare two docs versions.
//!
//! ```text
//! b24-codegen check PATH [--json]
//! b24-codegen generate PATH [--out FILE]
//! b24-codegen facts PATH [--json]
//! b24-codegen diff OLD NEW [--json] [--changelog FILE [--release NAME]]
//! b24-codegen diff --lock b24.lock NEW [--json] [--changelog FILE [--release NAME]]
//! b24-codegen lock update DOCS --lock b24.lock [--docs-version VERSION]
//! b24-codegen conformance PATH --out CRATE_DIR [--run] [--require PERCENT] [--runtime-dir DIR]
//! b24-codegen fetch --rev COMMIT --out DIR [--sha256 HEX] [--lock b24.lock] [--from URL_TEMPLATE]
//! ```
//!
//! Exit codes: 0 success; 1 the command ran and found a failure (a page that cannot be read
//! or generated, a breaking change, a conformance rate below `--require`, a download refused or
//! not matching its sha256); 2 the command line
//! is wrong (unknown command or flag, a missing or extra argument).

#![forbid(unsafe_code)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod conformance;
mod fetch;

/// Reads Bitrix24 REST documentation pages and generates typed Rust from them.
///
/// PATH is a docs folder or a single page.
#[derive(Parser, Debug)]
#[command(
    name = "b24-codegen",
    version,
    after_help = "Exit codes:\n  0  success\n  1  the command found a failure (an unreadable or ungenerated page, a breaking \
                  change, a conformance rate below --require, a refused or mismatched download)\n  2  the command line is wrong"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Parse every page, print diagnostics and a summary.
    ///
    /// Exits 1 when a page cannot be read or a method page produces no method.
    Check {
        /// A docs folder or a single page.
        path: PathBuf,
        /// Print the summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print or write the generated Rust, formatted.
    ///
    /// The other pages' code is generated also when one fails; the command exits 1 then.
    Generate {
        /// A docs folder or a single page.
        path: PathBuf,
        /// Write the code to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Keep every Rust path this lock published: old spellings of renamed methods and
        /// methods the docs dropped are generated too, `#[deprecated]`.
        #[arg(long, value_name = "FILE")]
        lock: Option<PathBuf>,
    },
    /// What the model says of every method page, in the facts form of the fidelity check.
    ///
    /// One JSON object: `methods` (the fidelity check's form), `events` (each payload's `data`
    /// by path) and `placements` (each `PLACEMENT_OPTIONS` by path). `--json` is the default
    /// and only form.
    Facts {
        /// A docs folder or a single page.
        path: PathBuf,
        /// Accepted for symmetry with `check`: the output is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// What changed in the API from the OLD docs to the NEW, and what to do about it.
    ///
    /// Every change in a category (added, removed, renamed, newly typed, retyped, required
    /// changed, deprecated, changed) with its file:line, breaking changes marked, and the
    /// semver bump a crate regenerated from the new docs needs. Exits 1 when a change is
    /// breaking (the bump is major).
    ///
    /// With `--lock b24.lock NEW`, the old side is the published API the lock records.
    Diff {
        /// OLD NEW, or NEW alone with `--lock`: docs folders or pages.
        #[arg(value_name = "OLD NEW", num_args = 1..=2, required = true)]
        paths: Vec<PathBuf>,
        /// Compare NEW with the published API in this lock instead of with OLD docs.
        #[arg(long, value_name = "FILE")]
        lock: Option<PathBuf>,
        /// With --lock: the crate is generated with `generate --lock`, which keeps removed
        /// methods, old spellings and dropped fields deprecated, so they are not breaking.
        #[arg(long, requires = "lock")]
        kept: bool,
        /// Print the diff as one JSON object.
        #[arg(long)]
        json: bool,
        /// Also write a changelog section (Keep a Changelog form) into this file: inserted
        /// above the newest release section, or a new file.
        #[arg(long, value_name = "FILE")]
        changelog: Option<PathBuf>,
        /// The heading of the changelog section.
        #[arg(
            long,
            value_name = "NAME",
            default_value = "Unreleased",
            requires = "changelog"
        )]
        release: String,
    },
    /// Write a publishable crate of the bindings: a cargo feature per top-level module.
    ///
    /// Cargo.toml (features, `full`), the sources split by feature, README.md, CHANGELOG.md
    /// (a section for this release: the difference from `--lock`, or the first release) and
    /// the crate's `b24.lock`. With `--lock`, every path the previous release published is
    /// kept. Exits 1 when a method page could not be generated (the rest is written).
    Crate {
        /// A docs folder.
        docs: PathBuf,
        /// The crate folder to write (its `src/` is written anew).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The lock of the previous release (usually DIR/b24.lock).
        #[arg(long, value_name = "FILE")]
        lock: Option<PathBuf>,
        /// The crate's name.
        #[arg(long, value_name = "NAME", default_value = "bitrix24-api")]
        name: String,
        /// The crate's version.
        #[arg(long = "crate-version", value_name = "SEMVER", default_value = "0.1.0")]
        crate_version: String,
        /// The docs version recorded in the lock (default: the docs folder's name).
        #[arg(long, value_name = "NAME")]
        docs_version: Option<String>,
        /// Depend on the b24-runtime crate at this path instead of on its published version.
        #[arg(long, value_name = "DIR")]
        runtime_path: Option<PathBuf>,
    },
    /// Work with the lock of the published API (`b24.lock`).
    Lock {
        #[command(subcommand)]
        command: LockCommand,
    },
    /// Write a crate with the bindings and one round-trip test per docs example.
    Conformance {
        /// A docs folder or a single page.
        path: PathBuf,
        /// The crate folder to write.
        #[arg(long, value_name = "CRATE_DIR")]
        out: PathBuf,
        /// Run the crate's tests and count the failures by kind.
        #[arg(long)]
        run: bool,
        /// Fail when the pass rate over examples with no listed docs defect is below this.
        #[arg(long, value_name = "PERCENT")]
        require: Option<f64>,
        /// The b24-runtime crate the written crate depends on (default: this repository's).
        #[arg(long, value_name = "DIR")]
        runtime_dir: Option<PathBuf>,
    },
    /// Download the upstream docs archive of one commit, check its sha256 and unpack it.
    ///
    /// The sha256 checked is `--sha256`'s or the one the lock records for the revision; with
    /// neither it is printed, and written into the lock when `--lock` is given. Exits 1 when
    /// the download or the archive is refused or the hash differs; DIR is not created then.
    Fetch(fetch::FetchArgs),
}

/// The subcommands of `lock`.
#[derive(Subcommand, Debug)]
enum LockCommand {
    /// Write the lock of DOCS' API; what the previous lock had and DOCS no longer do is kept,
    /// deprecated, with the docs version that dropped it.
    ///
    /// Prints the diff from the previous lock (or says the lock is new). Exits 0 when the
    /// lock was written.
    Update {
        /// The docs folder or page.
        docs: PathBuf,
        /// The lock file to read (when it exists) and write.
        #[arg(long, value_name = "FILE")]
        lock: PathBuf,
        /// The docs version recorded in the lock (default: the docs folder's name).
        #[arg(long, value_name = "VERSION")]
        docs_version: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("b24-codegen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Check { path, json } => Ok(check(&path, json)),
        Command::Generate { path, out, lock } => generate(&path, out, lock.as_deref()),
        Command::Facts { path, json: _ } => facts(&path),
        Command::Diff {
            paths,
            lock,
            kept,
            json,
            changelog,
            release,
        } => {
            let changes = match (lock, paths.as_slice()) {
                (None, [old, new]) => {
                    b24_codegen::diff::diff(&b24_codegen::load(old), &b24_codegen::load(new))
                }
                (Some(lock), [new]) => {
                    let old = b24_codegen::lock::Lock::read(&lock)
                        .map_err(|e| format!("{}: {e}", lock.display()))?;
                    let new =
                        b24_codegen::lock::Lock::facts(&b24_codegen::load(new), "", Some(&old));
                    // What the regenerated crate keeps: the docs' API plus what the lock
                    // keeps deprecated.
                    let new = if kept { old.update(&new) } else { new };
                    let mut changes = b24_codegen::diff::diff_locks(&old, &new);
                    changes.kept_by_lock = kept;
                    changes
                }
                (None, _) => usage_error("diff needs OLD and NEW (or --lock FILE and NEW)"),
                (Some(_), _) => usage_error("diff --lock FILE takes NEW alone"),
            };
            report(&changes, json, changelog.as_deref(), &release)
        }
        Command::Crate {
            docs,
            out,
            lock,
            name,
            crate_version,
            docs_version,
            runtime_path,
        } => write_crate(
            &docs,
            &out,
            lock.as_deref(),
            name,
            crate_version,
            docs_version,
            runtime_path,
        ),
        Command::Lock {
            command:
                LockCommand::Update {
                    docs,
                    lock,
                    docs_version,
                },
        } => lock_update(&docs, &lock, docs_version),
        Command::Conformance {
            path,
            out,
            run,
            require,
            runtime_dir,
        } => {
            let runtime_dir = runtime_dir.unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../runtime"))
            });
            conformance::run(&path, &out, &runtime_dir, run, require)
        }
        Command::Fetch(args) => fetch::run(args),
    }
}

fn facts(path: &Path) -> Result<ExitCode, String> {
    let api = b24_codegen::load(path);
    let facts = b24_codegen::facts::all_facts(&api);
    let text = serde_json::to_string_pretty(&facts).map_err(|e| e.to_string())?;
    write_out(&format!("{text}\n"));
    Ok(ExitCode::SUCCESS)
}

fn check(path: &Path, json: bool) -> ExitCode {
    let api = b24_codegen::load(path);
    let summary = b24_codegen::check::summary(&api);
    if json {
        match serde_json::to_string_pretty(&summary) {
            Ok(text) => write_out(&format!("{text}\n")),
            Err(e) => {
                eprintln!("b24-codegen: cannot write the summary: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        write_out(&b24_codegen::check::render_text(&summary));
    }
    if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes to standard output; a reader that went away (`| head`) ends the output, not the
/// program.
fn write_out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Exits with clap's usage error (code 2).
fn usage_error(message: &str) -> ! {
    use clap::CommandFactory as _;
    Cli::command()
        .error(clap::error::ErrorKind::WrongNumberOfValues, message)
        .exit()
}

fn write_crate(
    docs: &Path,
    out: &Path,
    lock: Option<&Path>,
    name: String,
    version: String,
    docs_version: Option<String>,
    runtime_path: Option<PathBuf>,
) -> Result<ExitCode, String> {
    use b24_codegen::package::{write_package, Package, Runtime};
    let previous = lock
        .map(|file| {
            b24_codegen::lock::Lock::read(file).map_err(|e| format!("{}: {e}", file.display()))
        })
        .transpose()?;
    let runtime = match runtime_path {
        Some(dir) => Runtime::Path(
            std::fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))?,
        ),
        None => Runtime::Version(env!("CARGO_PKG_VERSION").to_owned()),
    };
    let api = b24_codegen::load(docs);
    let package = Package {
        name,
        version,
        docs_version: docs_version.unwrap_or_else(|| folder_name(docs)),
        runtime,
        previous,
    };
    let written = write_package(&api, &package, out)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!(
        "b24-codegen: wrote {} ({} features; {} methods, {} events, {} fields and {} error codes kept from the lock)",
        out.display(),
        written.features.len(),
        written.kept.methods,
        written.kept.events,
        written.kept.fields,
        written.kept.errors
    );
    write_out(&format!(
        "{}\n",
        serde_json::to_string_pretty(&written).map_err(|e| e.to_string())?
    ));
    Ok(if b24_codegen::check::summary(&api).passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A docs folder's own name (`b24restdocs`), the default docs version.
fn folder_name(docs: &Path) -> String {
    docs.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

fn lock_update(docs: &Path, file: &Path, docs_version: Option<String>) -> Result<ExitCode, String> {
    use b24_codegen::lock::Lock;
    let previous = if file.exists() {
        Some(Lock::read(file).map_err(|e| format!("{}: {e}", file.display()))?)
    } else {
        None
    };
    let version = docs_version.unwrap_or_else(|| folder_name(docs));
    let api = b24_codegen::load(docs);
    let new = Lock::of(&api, &version, previous.as_ref());
    let (next, said) = match &previous {
        Some(previous) => (
            previous.update(&new),
            b24_codegen::diff::diff_locks(previous, &new).to_string(),
        ),
        None => {
            let said = format!("new lock: {} methods\n", new.methods.len());
            (new, said)
        }
    };
    std::fs::write(file, next.to_json())
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    write_out(&said);
    Ok(ExitCode::SUCCESS)
}

/// Prints a diff (text or JSON), writes its changelog section when asked, and gives the exit
/// code: 1 when the bump is major.
fn report(
    changes: &b24_codegen::diff::ApiDiff,
    json: bool,
    changelog: Option<&Path>,
    release: &str,
) -> Result<ExitCode, String> {
    if let Some(file) = changelog {
        let existing = match std::fs::read_to_string(file) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let text =
            b24_codegen::diff::insert_changelog(existing.as_deref(), &changes.changelog(release));
        std::fs::write(file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    if json {
        let fail = |e: serde_json::Error| format!("cannot write the diff: {e}");
        // The diff, with the bump and the count of each category beside it.
        let mut value = serde_json::to_value(changes).map_err(fail)?;
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "bump".into(),
                serde_json::to_value(changes.bump()).map_err(fail)?,
            );
            object.insert(
                "counts".into(),
                serde_json::to_value(changes.counts()).map_err(fail)?,
            );
        }
        write_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&value).map_err(fail)?
        ));
    } else {
        write_out(&changes.to_string());
    }
    Ok(if changes.is_breaking() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn generate(path: &Path, out: Option<PathBuf>, lock: Option<&Path>) -> Result<ExitCode, String> {
    let mut api = b24_codegen::load(path);
    let mut options = b24_codegen::Options::default();
    if let Some(file) = lock {
        let lock =
            b24_codegen::lock::Lock::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        // What the lock published and these docs no longer have, kept deprecated.
        let facts = b24_codegen::lock::Lock::facts(&api, "", Some(&lock));
        let kept = lock.update(&facts).apply(&mut api);
        eprintln!(
            "b24-codegen: {} methods, {} events, {} fields and {} error codes kept from {}, deprecated",
            kept.methods,
            kept.events,
            kept.fields,
            kept.errors,
            file.display()
        );
        options.lock = Some(std::sync::Arc::new(lock));
    }
    for diagnostic in api
        .diagnostics
        .iter()
        .filter(|d| d.severity == b24_codegen::Severity::Error)
    {
        eprintln!("{diagnostic}");
    }
    let code = b24_codegen::render(&b24_codegen::generate(&api, &options));
    match out {
        Some(file) => std::fs::write(&file, code)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?,
        None => write_out(&code),
    }
    Ok(if b24_codegen::check::summary(&api).passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
