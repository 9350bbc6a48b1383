//! Fingerprints this crate's own source as `B24_CODEGEN_SOURCE` (see
//! `b24_codegen::GENERATOR_SOURCE`): a cache of generated code is valid only for the generator
//! that wrote it, and a path or git dependency changes without its version changing.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let mut files = vec![PathBuf::from("Cargo.toml")];
    collect(Path::new("src"), &mut files);
    files.sort();
    // FNV-1a, 64 bits: a fingerprint, not a defence against a chosen collision.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in &files {
        let text = std::fs::read(file).unwrap_or_default();
        let name = file.to_string_lossy();
        for byte in name.bytes().chain([0]).chain(text).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=B24_CODEGEN_SOURCE={hash:016x}");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}
