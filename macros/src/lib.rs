//! `api!`: typed Bitrix24 REST bindings from documentation pages, at compile time.
//!
//! This crate is thin: it resolves the path, calls [`b24_codegen`] to load the pages and generate
//! the code, turns pages that cannot be generated into compile errors that name the file and the
//! line, and makes cargo rebuild when any page read changes. What an expansion generated is
//! kept in the target folder and used again while nothing it was made from changed (see the
//! `cache` module; `B24_API_CACHE=off` turns it off, `B24_API_CACHE=DIR` moves it).
//!
//! ```ignore
//! // Every method page under `docs/` (relative to the crate's Cargo.toml):
//! b24_macros::api!("docs");
//! // One page:
//! b24_macros::api!("docs/api-reference/user/user-current.md");
//! // A docs tree named by an environment variable, a selection of methods, and skipping the
//! // pages that cannot be generated (they are listed in `SKIPPED_PAGES`):
//! b24_macros::api!(env = "B24_DOCS_DIR", only = ["crm.item", "user"], skip_invalid);
//! ```
//!
//! Options: a path literal, or `path = "..."`; `env = "VAR"` (the docs path comes from that
//! environment variable at compile time; with `path` as well, the path is the fallback when the
//! variable is unset); `only = ["prefix", ...]` (methods named so or below; a prefix that
//! selects no method is a compile error at that prefix); `skip_invalid`;
//! `deprecated_in_docs_only` (methods the docs deprecate say so in their rustdoc but get no
//! `#[deprecated]` attribute, so using them gives no warning); `runtime = path::to::runtime`
//! (default `::b24_runtime`); `lock = "b24.lock"` (a lock of the published API, relative to
//! `CARGO_MANIFEST_DIR`: every Rust name it records is kept, and the methods and fields the
//! docs dropped stay, deprecated; see `b24-codegen lock update`).

#![warn(missing_docs)]

mod cache;

use std::path::{Path, PathBuf};

use b24_codegen::{Options, Severity};
use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token};

/// Generates a module tree of typed API bindings from Bitrix24 documentation pages.
/// See the crate docs for the options.
#[proc_macro]
pub fn api(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let written = input.to_string();
    match syn::parse::<Args>(input).and_then(|args| expand(args, &written)) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The parsed macro input.
struct Args {
    path: Option<LitStr>,
    env: Option<LitStr>,
    only: Vec<LitStr>,
    skip_invalid: bool,
    deprecated_in_docs_only: bool,
    runtime: Option<syn::Path>,
    lock: Option<LitStr>,
    span: Span,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args {
            path: None,
            env: None,
            only: Vec::new(),
            skip_invalid: false,
            deprecated_in_docs_only: false,
            runtime: None,
            lock: None,
            span: input.span(),
        };
        while !input.is_empty() {
            if input.peek(LitStr) {
                args.path = Some(input.parse()?);
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
                continue;
            }
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "skip_invalid" => args.skip_invalid = true,
                "deprecated_in_docs_only" => args.deprecated_in_docs_only = true,
                "path" => args.path = Some(value(input)?),
                "env" => args.env = Some(value(input)?),
                "lock" => args.lock = Some(value(input)?),
                "runtime" => {
                    input.parse::<Token![=]>()?;
                    args.runtime = Some(input.parse()?);
                }
                "only" => {
                    input.parse::<Token![=]>()?;
                    let list;
                    syn::bracketed!(list in input);
                    let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
                    args.only = items.into_iter().collect();
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{other}`; expected one of: path, env, only, skip_invalid, deprecated_in_docs_only, runtime, lock"),
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

fn value(input: ParseStream) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    input.parse()
}

/// The expansion of the call with arguments `args` (`written`, as written): from the cache
/// when nothing it depends on changed, else generated (and stored when it has no error).
fn expand(args: Args, written: &str) -> syn::Result<TokenStream> {
    let (path, span) = docs_path(&args)?;
    let runtime = match &args.runtime {
        Some(path) => path.to_token_stream(),
        None => quote!(::b24_runtime),
    };
    let entry = cache::Entry::for_call(written, &path);
    if let Some(code) = entry.as_ref().and_then(cache::Entry::read) {
        if let Ok(tokens) = code.parse() {
            return Ok(cache::with_runtime(tokens, &runtime));
        }
    }
    let mut api = b24_codegen::load(&path);
    let mut options = Options {
        // What is stored names the runtime by a placeholder, put back below.
        runtime: match entry {
            Some(_) => cache::runtime_placeholder(),
            None => runtime.clone(),
        },
        only: args.only.iter().map(LitStr::value).collect(),
        ..Options::default()
    };
    let lock_file = match &args.lock {
        Some(file) => {
            let path = manifest_relative(&file.value(), file.span())?;
            let lock = b24_codegen::lock::Lock::read(&path)
                .map_err(|e| syn::Error::new(file.span(), format!("{}: {e}", file.value())))?;
            // What the lock published and the docs no longer have, kept deprecated.
            let facts = b24_codegen::lock::Lock::facts(&api, "", Some(&lock));
            lock.update(&facts).apply(&mut api);
            options.lock = Some(std::sync::Arc::new(lock));
            Some(path)
        }
        None => None,
    };
    if !api.files_read.is_empty() {
        unselected_prefixes(&args.only, &api)?;
    }
    if args.deprecated_in_docs_only {
        // The note moves into the method's description: the docs still say it.
        for method in &mut api.methods {
            if let Some(note) = method.deprecated.take() {
                method
                    .description
                    .push_str(&format!("\n\n**Deprecated:** {}", note.trim()));
            }
        }
    }
    let code = b24_codegen::generate(&api, &options);

    let errors: Vec<TokenStream> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && !args.skip_invalid)
        .map(|d| {
            let message = format!(
                "{}\n(pass `skip_invalid` to api! to generate the other pages and list this one in SKIPPED_PAGES)",
                relative_to_manifest(&d.to_string())
            );
            syn::Error::new(span, message).to_compile_error()
        })
        .collect();
    if api.files_read.is_empty() {
        return Err(syn::Error::new(
            span,
            format!("no documentation pages found at {}", path.display()),
        ));
    }
    let tracked = tracking(api.files_read.iter().chain(&lock_file));
    // Reading the variable with option_env! makes cargo rebuild when it changes.
    let env_dep = args.env.as_ref().map(|var| {
        let var = var.value();
        quote!(
            const _: ::std::option::Option<&str> = option_env!(#var);
        )
    });
    let expansion = quote! {
        #(#errors)*
        #tracked
        #env_dep
        #code
    };
    let Some(entry) = entry else {
        return Ok(expansion);
    };
    if errors.is_empty() {
        let read: Vec<PathBuf> = api.files_read.iter().chain(&lock_file).cloned().collect();
        entry.write(&read, &expansion.to_string());
    }
    Ok(cache::with_runtime(expansion, &runtime))
}

/// An item that makes cargo rebuild the calling crate when one of `files` changes: each file
/// read with `include_bytes!`, which puts it in rustc's dep-info. The reads sit in a closure
/// nothing calls: as constants, their bytes would be written into the crate's metadata (48 MB
/// for the upstream corpus); an uncalled closure keeps nothing and, unlike a function, needs
/// no `allow(dead_code)`, which a crate's `forbid(dead_code)` would refuse.
fn tracking<'a>(files: impl Iterator<Item = &'a PathBuf>) -> TokenStream {
    let reads = files.filter_map(|file| {
        let file = std::fs::canonicalize(file).ok()?;
        let file = file.to_str()?.to_owned();
        Some(quote!(let _ = include_bytes!(#file);))
    });
    quote!(
        const _: () = {
            let _ = || {
                #(#reads)*
            };
        };
    )
}

/// An error at the first `only` prefix that selects nothing of `api` (a misspelt prefix
/// would otherwise generate nothing, silently).
fn unselected_prefixes(only: &[LitStr], api: &b24_codegen::Api) -> syn::Result<()> {
    for prefix in only {
        let alone = Options {
            only: vec![prefix.value()],
            ..Options::default()
        };
        if !alone.selects_any(api) {
            return Err(syn::Error::new(
                prefix.span(),
                format!(
                    "`only` prefix \"{}\" selects nothing of these docs ({} methods); a prefix selects a method named so or below it (\"crm.item\" selects crm.item.add), `events`, `events.SCOPE` or an event code, `placements` or a placement code",
                    prefix.value(),
                    api.methods.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The docs path: from the environment variable when given and set, else the path; relative
/// paths resolve against the invoking crate's `CARGO_MANIFEST_DIR`.
fn docs_path(args: &Args) -> syn::Result<(PathBuf, Span)> {
    let from_env = args
        .env
        .as_ref()
        .and_then(|var| Some((std::env::var(var.value()).ok()?, var.span())));
    let (raw, span) = match (from_env, &args.path, &args.env) {
        (Some(found), _, _) => found,
        (None, Some(path), _) => (path.value(), path.span()),
        (None, None, Some(var)) => {
            return Err(syn::Error::new(
                var.span(),
                format!(
                    "the environment variable {} is not set; set it to a docs folder or give a fallback with `path = \"...\"`",
                    var.value()
                ),
            ))
        }
        (None, None, None) => {
            return Err(syn::Error::new(
                args.span,
                "expected a docs path: api!(\"docs\") or api!(env = \"B24_DOCS_DIR\")",
            ))
        }
    };
    Ok((manifest_relative(&raw, span)?, span))
}

/// `raw` as a path: a relative one resolves against the invoking crate's
/// `CARGO_MANIFEST_DIR`.
fn manifest_relative(raw: &str, span: Span) -> syn::Result<PathBuf> {
    let path = Path::new(raw);
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let base = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| {
        syn::Error::new(
            span,
            "CARGO_MANIFEST_DIR is not set; is this built by cargo?",
        )
    })?;
    Ok(Path::new(&base).join(path))
}

/// A diagnostic with an absolute path under the invoking crate shown relative to it, as a
/// person reading the compile error would write it.
fn relative_to_manifest(diagnostic: &str) -> String {
    match std::env::var("CARGO_MANIFEST_DIR") {
        Ok(dir) if !dir.is_empty() => {
            let dir = format!("{}/", dir.trim_end_matches('/'));
            diagnostic
                .strip_prefix(&dir)
                .unwrap_or(diagnostic)
                .to_owned()
        }
        _ => diagnostic.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiled by rustc, the tracking item lists every file in the dep-info, as cargo needs
    /// to rebuild on a change, and does not copy their bytes into the metadata.
    #[test]
    fn tracked_files_reach_the_dep_info_and_not_the_metadata() {
        let root = std::env::temp_dir().join(format!("b24-tracking-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let pages = [root.join("a.md"), root.join("b.md")];
        std::fs::write(&pages[0], "# a\n").unwrap();
        std::fs::write(&pages[1], "# б\n".repeat(250_000)).unwrap();
        let lib = root.join("lib.rs");
        std::fs::write(&lib, tracking(pages.iter()).to_string()).unwrap();
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let status = std::process::Command::new(rustc)
            .args([
                "--edition",
                "2021",
                "--crate-type",
                "lib",
                "--crate-name",
                "tracked",
            ])
            .arg("--emit=dep-info,metadata")
            .arg("--out-dir")
            .arg(&root)
            .arg(&lib)
            .status()
            .unwrap();
        assert!(status.success());
        let dep_info = std::fs::read_to_string(root.join("tracked.d")).unwrap();
        for page in &pages {
            let page = std::fs::canonicalize(page).unwrap();
            assert!(dep_info.contains(page.to_str().unwrap()), "{dep_info}");
        }
        let metadata = std::fs::metadata(root.join("libtracked.rmeta"))
            .unwrap()
            .len();
        assert!(
            metadata < 100_000,
            "the 1.25 MB page is in the metadata: {metadata} bytes"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
