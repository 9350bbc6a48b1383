//! `b24-codegen conformance`: write the conformance crate, optionally run it and count failures.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitCode};

use serde::Serialize;

/// What the command prints.
#[derive(Serialize)]
struct Report {
    written: b24_codegen::conformance::Written,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<Run>,
}

/// The outcome of `cargo test` in the crate.
#[derive(Serialize)]
struct Run {
    compiled: bool,
    passed: usize,
    failed: usize,
    pass_rate_percent: f64,
    /// Failed tests of examples `check` reports as contradicting their table.
    failed_at_listed_defect: usize,
    /// The pass rate over the tests of examples with no listed docs defect.
    pass_rate_without_listed_defects_percent: f64,
    failures_by_kind: BTreeMap<String, usize>,
    /// `kind/Request|Response` → count, to see which side fails.
    failures_by_kind_and_side: BTreeMap<String, usize>,
}

pub fn run(
    docs: &Path,
    out: &Path,
    runtime_dir: &Path,
    run_tests: bool,
    require: Option<f64>,
) -> Result<ExitCode, String> {
    let api = b24_codegen::load(docs);
    let runtime_dir = std::fs::canonicalize(runtime_dir)
        .map_err(|e| format!("runtime crate {}: {e}", runtime_dir.display()))?;
    let written = b24_codegen::conformance::write_crate(&api, out, &runtime_dir)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!("b24-codegen: wrote {}", out.display());
    let run = run_tests.then(|| cargo_test(out)).transpose()?;
    let ok = match (&run, require) {
        (Some(run), _) if !run.compiled => false,
        (Some(run), Some(required)) => run.pass_rate_without_listed_defects_percent >= required,
        _ => true,
    };
    let report = Report { written, run };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn cargo_test(crate_dir: &Path) -> Result<Run, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .arg("test")
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .args(["--test", "examples", "--", "--test-threads", "2"])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stdout.lines().rev().find(|l| l.starts_with("test result:"));
    let Some(summary) = summary else {
        eprintln!("{stderr}");
        return Ok(Run {
            compiled: false,
            passed: 0,
            failed: 0,
            pass_rate_percent: 0.0,
            failed_at_listed_defect: 0,
            pass_rate_without_listed_defects_percent: 0.0,
            failures_by_kind: BTreeMap::new(),
            failures_by_kind_and_side: BTreeMap::new(),
        });
    };
    let count = |word: &str| {
        summary
            .split(';')
            .find_map(|part| {
                part.trim()
                    .strip_suffix(word)?
                    .trim()
                    .rsplit(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0usize)
    };
    let (passed, failed) = (count("passed"), count("failed"));
    let mut failures_by_kind = BTreeMap::new();
    let mut failures_by_kind_and_side = BTreeMap::new();
    let mut current_test = "";
    let mut failed_at_listed_defect = 0;
    let defect_tests = stdout
        .lines()
        .filter(|l| l.starts_with("test ") && l.contains("__docs_defect"))
        .count();
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("---- ") {
            current_test = name;
        }
        if let Some((_, rest)) = line.split_once("conformance failure [") {
            let kind = rest.split(']').next().unwrap_or("?").to_owned();
            failed_at_listed_defect += usize::from(current_test.contains("__docs_defect"));
            let side = if current_test.contains("__request_") {
                "request"
            } else if current_test.contains("__event_") {
                "event"
            } else if current_test.contains("__placement_") {
                "placement"
            } else {
                "response"
            };
            *failures_by_kind_and_side
                .entry(format!("{kind}/{side}"))
                .or_insert(0) += 1;
            *failures_by_kind.entry(kind).or_insert(0) += 1;
        }
    }
    let total = (passed + failed).max(1);
    let clean_total = (passed + failed).saturating_sub(defect_tests).max(1);
    let clean_passed =
        passed.saturating_sub(defect_tests - failed_at_listed_defect.min(defect_tests));
    Ok(Run {
        compiled: true,
        passed,
        failed,
        pass_rate_percent: (passed as f64) * 100.0 / total as f64,
        failed_at_listed_defect,
        pass_rate_without_listed_defects_percent: (clean_passed as f64) * 100.0
            / clean_total as f64,
        failures_by_kind,
        failures_by_kind_and_side,
    })
}
