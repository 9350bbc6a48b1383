//! The summary of a docs check (what `b24-codegen check` prints).

use serde::Serialize;

use crate::model::Api;

/// What a check found.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Pages read.
    pub pages: usize,
    /// Method pages that produced no method.
    pub failed: usize,
}

/// Summarises what loading found.
pub fn summary(api: &Api) -> Summary {
    Summary {
        pages: api.pages.len(),
        failed: 0,
    }
}

/// The human-readable report.
pub fn render_text(summary: &Summary) -> String {
    format!("{} pages, {} failed\n", summary.pages, summary.failed)
}
