//! `b24-codegen`: check docs pages and generate Rust from them.
//!
//! ```text
//! b24-codegen check PATH [--json]
//! b24-codegen generate PATH [--out FILE]
//! b24-codegen facts PATH [--json]
//! b24-codegen diff OLD NEW [--json]
//! b24-codegen conformance PATH --out CRATE_DIR [--run] [--require PERCENT] [--runtime-dir DIR]
//! ```

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

mod conformance;

const USAGE: &str = "\
usage:
  b24-codegen check PATH [--json]        parse every page, print diagnostics and a summary;
                                         exits 1 when a page cannot be read or a method page
                                         produces no method
  b24-codegen generate PATH [--out FILE] print or write the generated Rust, formatted (the
                                         other pages' code also when one fails; exits 1 then)
  b24-codegen facts PATH [--json]        what the model says of every method page, in the facts
                                         form of the fidelity check (one JSON array; --json is
                                         the default and only form)
  b24-codegen diff OLD NEW [--json]      what changed in the API from the OLD docs to the NEW:
                                         methods added, removed and changed (parameters,
                                         response fields, types, error codes), breaking changes
                                         marked; exits 1 when a change is breaking
  b24-codegen conformance PATH --out CRATE_DIR [--run] [--require PERCENT] [--runtime-dir DIR]
                                         write a crate with the bindings and one round-trip test
                                         per docs example; --run runs its tests and counts the
                                         failures by kind; --require fails when the pass rate
                                         over examples with no listed docs defect is below it

PATH is a docs folder or a single page.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("b24-codegen: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let (command, rest) = args.split_first().ok_or("no command given")?;
    let mut paths = Vec::new();
    let mut json = false;
    let mut out = None;
    let mut run_tests = false;
    let mut require = None;
    let mut runtime_dir = None;
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--out" => out = Some(PathBuf::from(rest.next().ok_or("--out needs a path")?)),
            "--run" => run_tests = true,
            "--require" => {
                let value = rest.next().ok_or("--require needs a percentage")?;
                require = Some(
                    value
                        .parse::<f64>()
                        .map_err(|_| format!("--require: not a number: {value}"))?,
                );
            }
            "--runtime-dir" => {
                runtime_dir = Some(PathBuf::from(
                    rest.next().ok_or("--runtime-dir needs a folder")?,
                ))
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let wanted = if command == "diff" { 2 } else { 1 };
    if paths.len() < wanted {
        return Err(format!("{command} needs {wanted} path(s)"));
    }
    if let Some(extra) = paths.get(wanted) {
        return Err(format!("unexpected argument {}", extra.display()));
    }
    let path = &paths[0];
    match command.as_str() {
        "check" => Ok(check(path, json)),
        "generate" => generate(path, out),
        "facts" => facts(path),
        "diff" => diff(path, &paths[1], json),
        "conformance" => {
            let out = out.ok_or("conformance needs --out CRATE_DIR")?;
            let runtime_dir = runtime_dir.unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../runtime"))
            });
            conformance::run(path, &out, &runtime_dir, run_tests, require)
        }
        other => Err(format!("unknown command {other}")),
    }
}

fn facts(path: &std::path::Path) -> Result<ExitCode, String> {
    let api = b24_codegen::load(path);
    let facts = b24_codegen::facts::facts(&api);
    let text = serde_json::to_string_pretty(&facts).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn check(path: &std::path::Path, json: bool) -> ExitCode {
    let api = b24_codegen::load(path);
    let summary = b24_codegen::check::summary(&api);
    if json {
        match serde_json::to_string_pretty(&summary) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("b24-codegen: cannot write the summary: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", b24_codegen::check::render_text(&summary));
    }
    if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn diff(old: &std::path::Path, new: &std::path::Path, json: bool) -> Result<ExitCode, String> {
    let changes = b24_codegen::diff::diff(&b24_codegen::load(old), &b24_codegen::load(new));
    if json {
        let text = serde_json::to_string_pretty(&changes)
            .map_err(|e| format!("cannot write the diff: {e}"))?;
        println!("{text}");
    } else {
        print!("{changes}");
    }
    Ok(if changes.is_breaking() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn generate(path: &std::path::Path, out: Option<PathBuf>) -> Result<ExitCode, String> {
    let api = b24_codegen::load(path);
    for diagnostic in api
        .diagnostics
        .iter()
        .filter(|d| d.severity == b24_codegen::Severity::Error)
    {
        eprintln!("{diagnostic}");
    }
    let code = b24_codegen::render(&b24_codegen::generate(&api, &Default::default()));
    match out {
        Some(file) => std::fs::write(&file, code)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?,
        None => print!("{code}"),
    }
    Ok(if b24_codegen::check::summary(&api).passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
