#!/usr/bin/env bash
# What compiling the generated API costs an application: a scratch crate whose lib.rs is
# `b24::api!` over the upstream corpus, once with issue 10's five-prefix selection (feature
# `five`) and once whole (feature `full`). For each: the first build after the dependencies
# are built, then two rebuilds after `touch src/lib.rs`; wall time, user CPU time and the
# largest child's peak RSS (rustc) from /usr/bin/time. The dependencies are timed first, so
# a first build with them is the sum of `dependencies` and `first`. codegen/BENCHMARKS.md has the figures.
#
# The selection `split` is the layout the README recommends for the whole API: `api!` in a
# library crate of its own (this scratch crate with `full`) and an application crate beside it
# (`app/`, a binary that calls one method); the rebuilds touch the application's `main.rs`,
# so they show what an edit of the application costs once the API is built.
#
#   bench/compile.sh                 # both selections, debug proc macro
#   B24_COMPILE_OPT=3 bench/compile.sh   # with [profile.dev.build-override] opt-level = 3
#
# Knobs: B24_DOCS_DIR (default ../shared/b24restdocs), B24_COMPILE_DIR (the scratch crate and
# its target dir, default target/compile-bench), B24_COMPILE_SELECTIONS (default "five full";
# `split` as well on request).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DOCS=$(realpath "${B24_DOCS_DIR:-../shared/b24restdocs}")
DIR=${B24_COMPILE_DIR:-$ROOT/target/compile-bench}
SELECTIONS=${B24_COMPILE_SELECTIONS:-five full}
mkdir -p "$DIR/src"

# The head of a scratch manifest: package NAME, a workspace of its own, depending on b24.
manifest_head() {
  echo '[package]'
  echo "name = \"$1\""
  echo 'version = "0.0.0"'
  echo 'edition = "2021"'
  echo 'publish = false'
  echo '[workspace]'
  echo '[dependencies]'
  echo "b24 = { path = \"$ROOT\" }"
}

{
  manifest_head compile-bench
  echo '[features]'
  echo 'five = []'
  echo 'full = []'
  if [ -n "${B24_COMPILE_OPT:-}" ]; then
    echo '[profile.dev.build-override]'
    echo "opt-level = ${B24_COMPILE_OPT}"
  fi
} > "$DIR/Cargo.toml"
cat > "$DIR/src/lib.rs" <<'EOF'
//! The generated API, for timing its compile.
#![allow(missing_docs)]
#[cfg(feature = "five")]
b24::api!(
    env = "B24_DOCS_DIR",
    only = ["crm.deal", "crm.contact", "crm.company", "user.get", "tasks.task"]
);
#[cfg(feature = "full")]
b24::api!(env = "B24_DOCS_DIR");
EOF

mkdir -p "$DIR/app/src"
{
  manifest_head compile-bench-app
  echo 'compile-bench = { path = "..", features = ["full"] }'
  echo 'tokio = { version = "1", features = ["rt", "macros"] }'
} > "$DIR/app/Cargo.toml"
cat > "$DIR/app/src/main.rs" <<'EOF'
//! An application of the whole generated API, for timing an edit of the application.
#![allow(deprecated)]
use compile_bench::crm::deal;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let client = b24::Client::builder()
        .webhook("https://example.invalid/rest/1/code/")
        .build()
        .expect("a valid webhook URL");
    match deal::get::call(&client, &deal::get::Request::new(5)).await {
        Ok(deal) => println!("{deal:?}"),
        Err(e) => println!("{e}"),
    }
}
EOF

export B24_DOCS_DIR="$DOCS"
export CARGO_TARGET_DIR="$DIR/target"
cd "$DIR"
timed() {
  /usr/bin/time -f "$1: %e s wall, %U s user, %M KB peak" cargo build -q --features "$2" 2>&1 \
    | grep -E '^[a-z]+ [a-z0-9]+:|^error' || true
}
# The dependencies (b24, its proc macro, reqwest, ...) with no feature: no api! expands.
/usr/bin/time -f "dependencies: %e s wall, %U s user, %M KB peak" cargo build -q 2>&1 \
  | grep -E '^[a-z]+: ' || true
for selection in $SELECTIONS; do
  if [ "$selection" = split ]; then
    (
      cd app
      timed "split first" ""
      for i in 1 2; do
        touch src/main.rs
        timed "split rebuild$i" ""
      done
    )
    continue
  fi
  timed "$selection first" "$selection"
  for i in 1 2; do
    touch src/lib.rs
    timed "$selection rebuild$i" "$selection"
  done
done
