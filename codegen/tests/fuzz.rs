//! A bounded mutation fuzzer for the parser (issue 9): pages built from our own `docs/` (and,
//! for the long run, the upstream corpus) are mutated (bytes flipped, YFM and Markdown tokens
//! dropped in, lines duplicated, deleted and spliced, nested tables, includes, anchor chains,
//! deep Markdown and JSON, huge cells) and each is loaded, generated and rendered
//! (`load` + `generate` + `render`) on its own 2 MiB-stack thread, under a time bound, a peak
//! memory bound (Linux) and an output size bound. A panic, a hang or a runaway fails the test;
//! the input is written to `target/fuzz-failures/<case>/` and the case is named so that
//! `B24_FUZZ_CASE=<case>` runs it alone. A crash that cannot be caught (a stack overflow aborts
//! the process) leaves its input in `target/tmp/fuzz-<test>/`, with `case.txt` naming it.
//!
//! ```text
//! cargo test -p b24-codegen --test fuzz                        # the quick run, from docs/
//! codegen/fuzz/run.sh [CASES] [SECONDS]                        # the long run, upstream corpus
//! ```
//!
//! The long run is the ignored test `fuzz_corpus`, set by environment variables:
//! `B24_FUZZ_CASES` (default 100000), `B24_FUZZ_SECONDS` (stop after, default 600),
//! `B24_FUZZ_SEED` (default 1), `B24_DOCS_DIR` (default `../shared/b24restdocs`).

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use b24_codegen::{generate, load, render, Options};

/// A case that takes longer fails.
const TIME_BOUND: Duration = Duration::from_secs(5);
/// How many cases the quick run (part of `cargo test`) tries: about 15 s in debug.
const QUICK_CASES: u64 = 2000;
/// The largest page (and included file) of the quick run.
const QUICK_MAX_BYTES: usize = 64 << 10;
/// Peak resident memory a case may add (Linux only, where it can be measured).
const MEMORY_BOUND_MIB: u64 = 512;

/// xorshift64*: small, deterministic, good enough to choose mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// A number in `lo..=hi`, small ones likelier (a log-uniform pick).
    fn size(&mut self, lo: usize, hi: usize) -> usize {
        let bits = usize::BITS - hi.max(1).leading_zeros();
        let cap = 1usize << self.below(bits as usize + 1);
        (lo + self.below(cap)).min(hi)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What pages are made from.
struct Seeds {
    /// Pages, as read.
    pages: Vec<Vec<u8>>,
    /// Included files, as read.
    includes: Vec<Vec<u8>>,
}

impl Seeds {
    /// Every `*.md` below `dir` (those in `_includes` folders are includes), plus the hostile
    /// shapes of issue 9 as pages of their own.
    fn from_dir(dir: &Path) -> Seeds {
        let mut seeds = Seeds {
            pages: Vec::new(),
            includes: Vec::new(),
        };
        let mut folders = vec![dir.to_owned()];
        let mut files = Vec::new();
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "md") {
                    files.push(path);
                }
            }
        }
        files.sort();
        for path in files {
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            if path.components().any(|c| c.as_os_str() == "_includes") {
                seeds.includes.push(text);
            } else {
                seeds.pages.push(text);
            }
        }
        let mut rng = Rng::new(7);
        for _ in 0..4 {
            seeds
                .pages
                .push(method_page(&nested_table(rng.size(1, 64))).into_bytes());
            seeds.pages.push(anchor_chain(rng.size(1, 64)).into_bytes());
        }
        seeds
            .includes
            .push(b"Included text.\n\n## Section {#a}\n\nMore.\n".to_vec());
        seeds
    }
}

fn method_page(rows: &str) -> String {
    format!(
        "# Do Things fuzz.thing\n\n> Who can execute the method: any user\n\n\
         ## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n{rows}|#\n\n\
         ## Response Handling\n\n```json\n{{\"result\": {{\"id\": 1}}}}\n```\n"
    )
}

/// Rows of a table whose `f` cell holds a table, `depth` deep.
fn nested_table(depth: usize) -> String {
    let open = "|| **f**\n`object` | Level:\n#|\n|| **Name**\n`type` | **Description** ||\n";
    format!(
        "{}|| **leaf**\n`string` | x ||\n{}",
        open.repeat(depth),
        "|#\n||\n".repeat(depth)
    )
}

/// A method page whose parameter links to `#s0`, which links to `#s1`, ..., `depth` long.
fn anchor_chain(depth: usize) -> String {
    let mut page = method_page("|| **f**\n[`object`](#s0) | start ||\n");
    for i in 0..depth {
        page.push_str(&format!(
            "\n## S{i} {{#s{i}}}\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
             || **f**\n[`object`](#s{}) | next ||\n|#\n",
            i + 1
        ));
    }
    page
}

/// Tokens of the dialect, dropped in at random places.
const TOKENS: &[&str] = &[
    "#|",
    "|#",
    "||",
    "|",
    "\\|",
    "```",
    "`",
    "**",
    "*",
    "_",
    "[",
    "]",
    "(",
    ")",
    "{#a}",
    "{#T}",
    "{% note info \"T\" %}",
    "{% endnote %}",
    "{% if x %}",
    "{% else %}",
    "{% endif %}",
    "{% list tabs %}",
    "{% endlist %}",
    "{% cut \"c\" %}",
    "{% endcut %}",
    "{% include [i](_includes/inc.md) %}",
    "{% include notitle [i](_includes/inc.md#a) %}",
    "{% include [s](page.md) %}",
    "{% include [o](other.md) %}",
    "{% include [z](/dev/zero) %}",
    "{% include [p](../../../../etc/passwd) %}",
    "{%",
    "%}",
    "\n",
    "\n\n",
    "# ",
    "## ",
    "### ",
    "> ",
    "- ",
    "1. ",
    "    ",
    "<b>",
    "</b>",
    "<br>",
    "\t",
    "\r\n",
    "\u{a0}",
    "ä",
    "😀",
    "\\",
    "{",
    "}",
    "[]",
    "[][]",
    "object",
    "array",
    "`object`",
    "`string`",
    "`integer[]`",
    "[`object`](#a)",
    "[`object`](#s1)",
    "[`object`](other.md)",
    "[`crm_status`](data-types.md)",
    "[x](../../outside.md)",
    "[x](/abs/x.html#y)",
    ".",
    "null",
    "\"",
    ",",
    ":",
    "...",
    "...",
    "**id***",
    "`a.b.c`",
    "a.b",
    "a[].b",
    "curl -d '{\"a\":1}' https://x/rest/a.b",
    "https://x/rest/fuzz.thing",
    "```json\n{\"result\": [1, {\"a\": null}]}\n```",
];

/// Fillers of a huge cell: each a pattern some pass handles one at a time.
const FILLERS: &[&str] = &[
    "[](x)",
    ",}",
    "#",
    "x ",
    "{.a}",
    "`a`",
    "**a**",
    "\\|",
    "<b>",
    "{#T}",
    "[a](b)",
    "[",
    "*",
    "> ",
    "|",
    "{% note %}",
    "..",
    "\n",
    "a.",
    "\"",
    "{\"a\":",
    "[]",
    "||",
];

/// One mutated docs tree: the page, and the files around it.
struct Case {
    page: Vec<u8>,
    include: Vec<u8>,
    other: Vec<u8>,
    mutations: Vec<String>,
}

fn lines_of(text: &[u8]) -> Vec<Vec<u8>> {
    text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.join(&b'\n')
}

/// Inserts `text` at a random line of `page`.
fn insert_at_line(rng: &mut Rng, page: &mut Vec<u8>, text: &str) {
    let mut lines = lines_of(page);
    let at = rng.below(lines.len() + 1);
    lines.insert(at, text.as_bytes().to_vec());
    *page = join(&lines);
}

/// Applies one random mutation to `page` and says which.
fn mutate(rng: &mut Rng, page: &mut Vec<u8>, seeds: &Seeds, big: bool) -> String {
    // The quick run keeps to small sizes (every bound is still passed: nesting past 32,
    // includes past 8 deep); the long run, in release, goes up to the bounds themselves.
    let (huge, deep) = if big {
        (1 << 20, 3000)
    } else {
        (32 << 10, 300)
    };
    match rng.below(18) {
        0 => {
            let n = rng.size(1, 16);
            for _ in 0..n {
                if !page.is_empty() {
                    let at = rng.below(page.len());
                    page[at] = rng.next() as u8;
                }
            }
            format!("flip {n} bytes")
        }
        1 | 2 => {
            let n = rng.size(1, 8);
            for _ in 0..n {
                let token = rng.pick(TOKENS).as_bytes();
                let at = rng.below(page.len() + 1);
                page.splice(at..at, token.iter().copied());
            }
            format!("insert {n} tokens")
        }
        3 => {
            let mut lines = lines_of(page);
            let start = rng.below(lines.len());
            let len = rng.size(1, 40).min(lines.len() - start);
            let times = rng.size(1, 64);
            let range: Vec<Vec<u8>> = lines[start..start + len].to_vec();
            for _ in 0..times {
                lines.splice(start..start, range.iter().cloned());
            }
            *page = join(&lines);
            format!("duplicate {len} lines {times} times")
        }
        4 => {
            let mut lines = lines_of(page);
            let start = rng.below(lines.len());
            let len = rng.size(1, 40).min(lines.len() - start);
            lines.drain(start..start + len);
            *page = join(&lines);
            format!("delete {len} lines")
        }
        5 => {
            let other: &Vec<u8> = rng.pick(&seeds.pages);
            let other = lines_of(other);
            let start = rng.below(other.len());
            let len = rng.size(1, 60).min(other.len() - start);
            let mut lines = lines_of(page);
            let at = rng.below(lines.len() + 1);
            lines.splice(at..at, other[start..start + len].iter().cloned());
            *page = join(&lines);
            format!("splice {len} lines of another page")
        }
        6 => {
            let depth = if rng.below(8) == 0 {
                deep
            } else {
                rng.size(1, 200)
            };
            insert_at_line(rng, page, &nested_table(depth));
            format!("nested tables {depth} deep")
        }
        7 => {
            let n = rng.size(1, 12);
            let target = *rng.pick(&[
                "page.md",
                "_includes/inc.md",
                "_includes/inc.md#a",
                "other.md",
                "/dev/zero",
                "../outside.md",
                "missing.md",
            ]);
            let line = format!("{{% include [t]({target}) %}}\n").repeat(n);
            insert_at_line(rng, page, &line);
            format!("{n} includes of {target}")
        }
        8 => {
            let depth = rng.size(1, deep);
            let chain = anchor_chain(depth);
            let start = chain.find("\n## S0").unwrap_or(0);
            insert_at_line(rng, page, "|| **g**\n[`object`](#s0) | chain ||");
            page.extend_from_slice(&chain.as_bytes()[start..]);
            format!("anchor chain {depth} long")
        }
        9 => {
            let depth = rng.size(1, 2 * deep);
            let (name, open, close) = *rng.pick(&[
                ("quotes", "> ", ""),
                ("lists", "- ", ""),
                ("brackets", "[", "](x)"),
                ("emphasis", "*", "*"),
                ("notes", "{% note info %}\n", "{% endnote %}\n"),
                ("ifs", "{% if a %}\n", "{% endif %}\n"),
                ("fences", "```\n", ""),
                ("html", "<div>", "</div>"),
            ]);
            let text = if name == "lists" {
                (0..depth)
                    .map(|i| format!("{}- x\n", "  ".repeat(i)))
                    .collect()
            } else {
                format!("{}x{}", open.repeat(depth), close.repeat(depth))
            };
            insert_at_line(rng, page, &text);
            format!("{name} nested {depth} deep")
        }
        10 => {
            let depth = rng.size(1, 400);
            let (open, close) = if rng.below(2) == 0 {
                ("[", "]")
            } else {
                ("{\"a\": ", "}")
            };
            let json = format!(
                "```json\n{{\"result\": {}1{}}}\n```",
                open.repeat(depth),
                close.repeat(depth)
            );
            insert_at_line(rng, page, &json);
            format!("JSON nested {depth} deep")
        }
        11 => {
            let filler = *rng.pick(FILLERS);
            let n = rng.size(1, huge / filler.len().max(1));
            let row = format!("|| **big**\n`string` | {} ||\n", filler.repeat(n));
            // In a row of its own (where it may be outside any table) or in a table.
            let text = if rng.below(2) == 0 {
                row
            } else {
                format!("#|\n|| **Name**\n`type` | **Description** ||\n{row}|#\n")
            };
            insert_at_line(rng, page, &text);
            format!("a cell of {n} × {filler:?}")
        }
        12 => {
            let depth = rng.size(1, deep);
            let rows: String = (1..=depth)
                .map(|n| format!("|| **{}**\n`object` | level ||\n", vec!["a"; n].join(".")))
                .collect();
            insert_at_line(rng, page, &rows);
            format!("dotted rows {depth} deep")
        }
        13 => {
            let filler = *rng.pick(FILLERS);
            let n = rng.size(1, huge / filler.len().max(1));
            let text = if rng.below(2) == 0 {
                format!("```json\n{}\n```", filler.repeat(n))
            } else {
                format!(
                    "```bash\ncurl -d '{}' https://x/rest/a.b\n```",
                    filler.repeat(n)
                )
            };
            insert_at_line(rng, page, &text);
            format!("a code block of {n} × {filler:?}")
        }
        14 => {
            let dims = rng.size(1, deep);
            let row = format!("|| **grid**\n`object{}` | deep ||", "[]".repeat(dims));
            insert_at_line(rng, page, &row);
            format!("{dims} array dimensions")
        }
        15 | 16 => {
            // Many of one small thing: passes that relate each to all the others.
            let (name, item, wrap) = *rng.pick(&[
                ("rows", "|| **f{i}**\n`string` | x ||\n", true),
                ("dotted rows", "|| **a.f{i}**\n`string` | x ||\n", true),
                ("link rows", "|| **f{i}**\n[`object`](#h{i}) | x ||\n", true),
                ("element rows", "|| **f{i}[]**\n`object` | x ||\n", true),
                ("headings", "## H{i} {#g{i}}\n\n", false),
                ("headings named like fields", "## f{i}\n\n", false),
                ("notes", "{% note info %}\n\nx{i}\n\n{% endnote %}\n", false),
                ("taken ifs", "{% if a %}\n{% else %}\n", false),
                ("paragraphs", "p{i}\n\n", false),
                ("code blocks", "```json\n{\"a\": {i}}\n```\n", false),
                ("includes", "{% include [i](_includes/inc.md) %}\n", false),
            ]);
            let n = rng.size(1, huge / 16);
            let items: String = (0..n)
                .map(|i| item.replace("{i}", &i.to_string()))
                .collect();
            let text = if wrap {
                format!("#|\n|| **Name**\n`type` | **Description** ||\n{items}|#\n")
            } else {
                items
            };
            insert_at_line(rng, page, &text);
            format!("{n} {name}")
        }
        _ => {
            let at = rng.below(page.len() + 1);
            page.truncate(at);
            format!("truncate at {at}")
        }
    }
}

/// The first line of `page` (its title) and a random run of up to 80 lines of it.
fn window(rng: &mut Rng, page: &[u8]) -> (Vec<u8>, std::ops::Range<usize>) {
    let lines = lines_of(page);
    let start = rng.below(lines.len());
    let len = rng.size(1, 80).min(lines.len() - start);
    let mut window = vec![lines[0].clone()];
    window.extend_from_slice(&lines[start..start + len]);
    (join(&window), start..start + len)
}

/// Case `index` of a run with `seed`: the same numbers give the same case.
fn make_case(seed: u64, index: u64, seeds: &Seeds, big: bool) -> Case {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut mutations = Vec::new();
    let mut page = rng.pick(&seeds.pages).clone();
    if rng.below(16) != 0 {
        // Most cases are a window of a page under its title: small pages, many cases.
        let (window, range) = window(&mut rng, &page);
        page = window;
        mutations.push(format!("lines {range:?} of the page"));
    }
    let mut include = rng.pick(&seeds.includes).clone();
    // The page links to `other.md` at times: a window of a page is enough to follow.
    let other: Vec<u8> = rng.pick(&seeds.pages).clone();
    let other = window(&mut rng, &other).0;
    for _ in 0..rng.size(1, 4) {
        mutations.push(mutate(&mut rng, &mut page, seeds, big));
    }
    if rng.below(4) == 0 {
        let m = mutate(&mut rng, &mut include, seeds, big);
        mutations.push(format!("include: {m}"));
    }
    if !big {
        // Quick in debug: a page nested 32 deep is re-read at each level, so its cost is 32
        // times its size (the long run, in release, goes up to the 2 MiB file bound).
        for text in [&mut page, &mut include] {
            if text.len() > QUICK_MAX_BYTES {
                mutations.push(format!("cut at {QUICK_MAX_BYTES} bytes"));
                let mut end = QUICK_MAX_BYTES;
                while end > 0 && (text[end] & 0xC0) == 0x80 {
                    end -= 1;
                }
                text.truncate(end);
            }
        }
    }
    Case {
        page,
        include,
        other,
        mutations,
    }
}

/// Writes the case's docs tree into `dir` (always the same files, overwritten).
fn write_case(dir: &Path, case: &Case, data_types: &[u8]) {
    std::fs::create_dir_all(dir.join("_includes")).expect("a temporary folder");
    for (name, text) in [
        (".yfm", &b"lang: en\n"[..]),
        ("page.md", &case.page),
        ("other.md", &case.other),
        ("data-types.md", data_types),
        ("_includes/inc.md", &case.include),
    ] {
        std::fs::write(dir.join(name), text).expect("a temporary file");
    }
}

/// What one case cost.
struct Cost {
    time: Duration,
    peak_mib: Option<u64>,
    code_bytes: usize,
}

/// The peak resident memory of this process since the last reset, in MiB (Linux).
fn peak_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib >> 10)
}

/// Resets the peak resident memory to the current (Linux; elsewhere nothing is measured).
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    peak_mib()
}

/// Loads, generates and renders the tree at `dir` under the bounds; the input size bounds the
/// output size.
fn run_case(dir: &Path, input_bytes: usize) -> Result<Cost, String> {
    let before = reset_peak();
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let path = dir.to_owned();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                let api = load(&path);
                render(&generate(&api, &Options::default())).len()
            }));
            let _ = tx.send(result);
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    let code_bytes = match rx.recv_timeout(TIME_BOUND) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            return Err(format!("panicked: {message}"));
        }
        Err(_) => return Err(format!("took more than {TIME_BOUND:?}")),
    };
    let time = start.elapsed();
    let peak_mib = peak_mib().zip(before).map(|(p, b)| p.saturating_sub(b));
    if let Some(p) = peak_mib.filter(|&p| p > MEMORY_BOUND_MIB) {
        return Err(format!("used {p} MiB, more than {MEMORY_BOUND_MIB} MiB"));
    }
    let max_code = 64 * input_bytes + (1 << 20);
    if code_bytes > max_code {
        return Err(format!(
            "wrote {code_bytes} bytes of code for {input_bytes} bytes of docs"
        ));
    }
    Ok(Cost {
        time,
        peak_mib,
        code_bytes,
    })
}

/// Runs `cases` cases (or only `B24_FUZZ_CASE`) of `seed` over `seeds`, stopping after
/// `budget`; fails on the first case that breaks a bound, with its input saved.
fn fuzz(name: &str, seeds: &Seeds, seed: u64, cases: u64, budget: Duration, big: bool) {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{name}"));
    let data_types = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api-reference/data-types.md"),
    )
    .unwrap_or_default();
    let only: Option<u64> = std::env::var("B24_FUZZ_CASE")
        .ok()
        .and_then(|v| v.parse().ok());
    let indices: Box<dyn Iterator<Item = u64>> = match only {
        Some(case) => Box::new(std::iter::once(case)),
        None => Box::new(0..cases),
    };
    let start = Instant::now();
    let (mut run, mut slowest, mut peak, mut most_code) = (0u64, (Duration::ZERO, 0), 0, 0);
    for index in indices {
        if start.elapsed() > budget {
            break;
        }
        let case = make_case(seed, index, seeds, big);
        write_case(&work, &case, &data_types);
        // What a crash that cannot be caught (a stack overflow aborts) leaves behind.
        let note = format!("seed {seed} case {index}\n{:#?}\n", case.mutations);
        std::fs::write(work.join("case.txt"), note).expect("a temporary file");
        let input = case.page.len() + case.include.len() + case.other.len() + data_types.len();
        match run_case(&work, input) {
            Ok(cost) => {
                run += 1;
                if cost.time > slowest.0 {
                    slowest = (cost.time, index);
                }
                peak = peak.max(cost.peak_mib.unwrap_or(0));
                most_code = most_code.max(cost.code_bytes);
            }
            Err(why) => {
                let saved = failure_dir(name, index);
                write_case(&saved, &case, &data_types);
                let release = if big { "--release " } else { "" };
                panic!(
                    "fuzz case {index} (seed {seed}) {why}\nmutations: {:#?}\ninput: {}\n\
                     rerun: B24_FUZZ_SEED={seed} B24_FUZZ_CASE={index} cargo test {release}\
                     -p b24-codegen --test fuzz {name} -- --include-ignored",
                    case.mutations,
                    saved.display()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    eprintln!(
        "fuzz {name}: {run} cases in {:.1?}; slowest {:.1?} (case {}); peak {peak} MiB above the \
         base; at most {most_code} bytes of code",
        start.elapsed(),
        slowest.0,
        slowest.1
    );
    assert!(run > 0, "no case ran");
}

fn failure_dir(name: &str, index: u64) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("../fuzz-failures")
        .join(format!("{name}-{index}"))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The quick run, part of `cargo test`: our own docs and the hostile shapes.
#[test]
fn fuzz_our_docs() {
    let seeds = Seeds::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs"));
    assert!(seeds.pages.len() > 10 && !seeds.includes.is_empty());
    let seed = env_u64("B24_FUZZ_SEED", 1);
    fuzz(
        "fuzz_our_docs",
        &seeds,
        seed,
        QUICK_CASES,
        Duration::from_secs(3600),
        false,
    );
}

/// The long run over the upstream corpus (`codegen/fuzz/run.sh`).
#[test]
#[ignore = "long: run with codegen/fuzz/run.sh"]
fn fuzz_corpus() {
    let dir = std::env::var_os("B24_DOCS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/b24restdocs"),
        PathBuf::from,
    );
    let seeds = Seeds::from_dir(&dir);
    assert!(
        seeds.pages.len() > 100,
        "no corpus at {} (set B24_DOCS_DIR)",
        dir.display()
    );
    let seed = env_u64("B24_FUZZ_SEED", 1);
    let cases = env_u64("B24_FUZZ_CASES", 100_000);
    let budget = Duration::from_secs(env_u64("B24_FUZZ_SECONDS", 600));
    fuzz("fuzz_corpus", &seeds, seed, cases, budget, true);
}
