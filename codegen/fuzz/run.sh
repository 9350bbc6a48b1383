#!/bin/sh
# The long run of the parser fuzzer (codegen/tests/fuzz.rs) over the upstream docs corpus, in
# release: pages up to the 2 MiB file bound, nesting to 3,000, cells to 1 MiB.
#
#   codegen/fuzz/run.sh [CASES] [SECONDS] [SEED]
#
# Defaults: 100000 cases, stop after 600 seconds, seed 1. The corpus is B24_DOCS_DIR (default
# ../shared/b24restdocs beside the repository). A failing case is saved under
# target/fuzz-failures/ and named with the command that runs it alone.
set -eu
cd "$(dirname "$0")/../.."
B24_FUZZ_CASES="${1:-100000}" B24_FUZZ_SECONDS="${2:-600}" B24_FUZZ_SEED="${3:-1}" \
    exec cargo test --release -p b24-codegen --test fuzz fuzz_corpus -- --ignored --nocapture
