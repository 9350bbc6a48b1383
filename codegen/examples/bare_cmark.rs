//! The baseline of the `check` benchmark (codegen/BENCHMARKS.md): one bare pulldown-cmark pass,
//! inline Markdown included, over every Markdown file under a folder, with the options the page
//! reader uses. It reads and parses, nothing else, so `check`'s CPU time over this one's says
//! what YFM, includes, classification and extraction cost on top of Markdown itself.
//!
//! ```sh
//! cargo build --release -p b24-codegen --example bare_cmark
//! perf stat -e task-clock target/release/examples/bare_cmark ../shared/b24restdocs
//! ```

use std::path::{Path, PathBuf};

use pulldown_cmark::{Options, Parser};

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => markdown_files(&path, out),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "md") => out.push(path),
            _ => {}
        }
    }
}

fn main() {
    let Some(root) = std::env::args_os().nth(1) else {
        eprintln!("usage: bare_cmark DOCS_DIR");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    markdown_files(Path::new(&root), &mut files);
    let options =
        Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let (mut bytes, mut events) = (0usize, 0usize);
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        bytes += text.len();
        events += Parser::new_ext(&text, options).count();
    }
    println!(
        "{} files, {} bytes, {} Markdown events",
        files.len(),
        bytes,
        events
    );
}
