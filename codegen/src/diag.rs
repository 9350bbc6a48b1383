//! Diagnostics: what is wrong or doubtful in the docs, always with file:line.

use std::fmt;

use serde::Serialize;

use crate::model::Source;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The page could not be turned into code.
    Error,
    /// The docs are wrong or incomplete; code was generated anyway.
    Defect,
}

/// What kind of problem a diagnostic reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// A file could not be read.
    Io,
    /// A method page whose method name could not be found.
    NoMethodName,
    /// The H1 and the cURL URL name different methods.
    NameMismatch,
    /// Two pages document the same method and version.
    DuplicateMethod,
    /// A table is not closed, or a row is malformed.
    MalformedTable,
    /// An `{% include %}` whose target does not exist.
    MissingInclude,
    /// An example that is not JSON, even after a mechanical repair.
    InvalidExample,
    /// An example that a mechanical repair (comments, `...`, trailing commas) made readable.
    RepairedExample,
    /// A cURL command whose words cannot be read as a shell would.
    InvalidShell,
    /// An example whose keys or values contradict the parameter or result table.
    ExampleContradictsTable,
    /// A type name that is not in the docs' dictionary.
    UnknownType,
    /// A link to a page or an anchor that does not exist.
    DanglingLink,
    /// The same parameter twice in one table.
    DuplicateParameter,
    /// A part of the docs too vague to type (kept as raw JSON).
    Untyped,
    /// A bound of [`crate::Limits`] was reached (file size, include depth or count, page size
    /// after includes, nesting depth): what is past it was left out or typed as untyped.
    Limit,
    /// An include or a link to a file outside the docs root (symlinks followed): not read.
    OutsideRoot,
    /// An event or placement page whose event or placement code could not be found.
    NoEventName,
}

impl DefectKind {
    /// The snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            DefectKind::Io => "io",
            DefectKind::NoMethodName => "no_method_name",
            DefectKind::NameMismatch => "name_mismatch",
            DefectKind::DuplicateMethod => "duplicate_method",
            DefectKind::MalformedTable => "malformed_table",
            DefectKind::MissingInclude => "missing_include",
            DefectKind::InvalidExample => "invalid_example",
            DefectKind::RepairedExample => "repaired_example",
            DefectKind::InvalidShell => "invalid_shell",
            DefectKind::ExampleContradictsTable => "example_contradicts_table",
            DefectKind::UnknownType => "unknown_type",
            DefectKind::DanglingLink => "dangling_link",
            DefectKind::DuplicateParameter => "duplicate_parameter",
            DefectKind::Untyped => "untyped",
            DefectKind::Limit => "limit",
            DefectKind::OutsideRoot => "outside_root",
            DefectKind::NoEventName => "no_event_name",
        }
    }
}

/// One finding, with its place in the docs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// Where.
    pub source: Source,
    /// How bad.
    pub severity: Severity,
    /// What kind.
    pub kind: DefectKind,
    /// What is wrong, for a person.
    pub message: String,
}

impl Diagnostic {
    /// A page that could not be turned into code.
    pub fn error(source: Source, kind: DefectKind, message: impl Into<String>) -> Self {
        Diagnostic {
            source,
            severity: Severity::Error,
            kind,
            message: message.into(),
        }
    }

    /// A docs defect that did not stop generation.
    pub fn defect(source: Source, kind: DefectKind, message: impl Into<String>) -> Self {
        Diagnostic {
            source,
            severity: Severity::Defect,
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Defect => "defect",
        };
        write!(
            f,
            "{}: {level}[{}]: {}",
            self.source,
            self.kind.as_str(),
            self.message
        )
    }
}
