//! Tokens → formatted Rust source.
//!
//! prettyplease formats the Rust around the runtime's macros, and flows a macro's body like a
//! paragraph. The bodies of the item macros generated code is written in (`object!`,
//! `one_of!`, `method_error!`) are lists of documented lines, and are printed as such here:
//! one field or variant a line, docs as `///` comments.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// The item macros whose bodies are printed a line per field.
const ITEM_MACROS: &[&str] = &["object", "one_of", "method_error"];

/// Formats generated tokens as Rust source. Tokens that do not parse as a file are returned
/// unformatted, so a generator bug shows up in the compiler, not as a panic here.
pub fn render(tokens: &TokenStream) -> String {
    let Ok(mut file) = syn::parse2::<syn::File>(tokens.clone()) else {
        return tokens.to_string();
    };
    let mut macros = Vec::new();
    take_macros(&mut file.items, &mut macros);
    let skeleton = prettyplease::unparse(&file);
    let mut out = String::with_capacity(skeleton.len() * 2);
    for line in skeleton.lines() {
        let trimmed = line.trim_start();
        let placeholder = trimmed
            .strip_prefix(PLACEHOLDER)
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .and_then(|n| macros.get(n));
        match placeholder {
            Some(text) => {
                let indent = &line[..line.len() - trimmed.len()];
                for l in text.lines() {
                    if l.is_empty() {
                        out.push('\n');
                    } else {
                        out.push_str(indent);
                        out.push_str(l);
                        out.push('\n');
                    }
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

const PLACEHOLDER: &str = "const __B24_RENDER_";

/// Replaces every item macro below `items` by a placeholder constant, keeping its text.
fn take_macros(items: &mut [syn::Item], out: &mut Vec<String>) {
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = m.content.as_mut() {
                    take_macros(inner, out);
                }
            }
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| ITEM_MACROS.contains(&s.ident.to_string().as_str()))
                    && matches!(m.mac.delimiter, syn::MacroDelimiter::Brace(_)) =>
            {
                let leading = if m.mac.path.leading_colon.is_some() {
                    "::"
                } else {
                    ""
                };
                let path = m
                    .mac
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::");
                let path = format!("{leading}{path}");
                let mut printer = Printer::default();
                printer.text(&format!("{path}! {{"));
                printer.newline();
                printer.indent += 1;
                printer.block(m.mac.tokens.clone(), false);
                printer.indent -= 1;
                printer.newline();
                printer.text("}");
                let index = out.len();
                out.push(wrapped(&printer.out));
                if let Ok(mut placeholder) =
                    syn::parse_str::<syn::ItemConst>(&format!("{PLACEHOLDER}{index}: () = ();"))
                {
                    // The macro's own attributes (a feature's `cfg`) print above it.
                    placeholder.attrs = std::mem::take(&mut m.attrs);
                    *item = syn::Item::Const(placeholder);
                }
            }
            _ => {}
        }
    }
}

/// The longest line of a macro body before it is broken after its first ` = `.
const WIDTH: usize = 100;

/// `text` with each line longer than [`WIDTH`] (docs aside) broken after its first ` = `, the
/// rest indented one level more: `Variant =` / `Message("a long text")`.
fn wrapped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let body = line.trim_start();
        let split = (line.len() > WIDTH && !body.starts_with("///"))
            .then(|| line.find(" = "))
            .flatten();
        match split {
            Some(at) => {
                let indent = &line[..line.len() - body.len()];
                out.push_str(&line[..at + 2]);
                out.push('\n');
                out.push_str(indent);
                out.push_str("    ");
                out.push_str(&line[at + 3..]);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// What the last token printed was, for spacing.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Last {
    #[default]
    LineStart,
    Word,
    /// A punctuation that takes no space after it (`::`, `<`, `&`, `#`, `(`).
    Glue,
    /// A punctuation followed by a space (`=`, `=>`, `,`).
    Spaced,
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
    last: Last,
}

impl Printer {
    fn newline(&mut self) {
        if self.last != Last::LineStart {
            self.out.push('\n');
            self.last = Last::LineStart;
        }
    }

    fn text(&mut self, text: &str) {
        if self.last == Last::LineStart {
            for _ in 0..self.indent {
                self.out.push_str("    ");
            }
        }
        self.out.push_str(text);
        self.last = Last::Word;
    }

    fn space(&mut self) {
        if matches!(self.last, Last::Word | Last::Spaced) {
            self.out.push(' ');
        }
    }

    /// A line-oriented body: attributes and `;`-terminated items each on their line (and
    /// `,`-terminated ones, `in_braces`), braces as blocks.
    fn block(&mut self, stream: TokenStream, in_braces: bool) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match (&tokens[i], tokens.get(i + 1)) {
                (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                    if p.as_char() == '#' && g.delimiter() == Delimiter::Bracket =>
                {
                    self.newline();
                    match doc_text(g.stream()) {
                        Some(doc) => {
                            for line in doc.split('\n') {
                                self.text(&format!("///{line}"));
                                self.newline();
                            }
                        }
                        None => {
                            self.text("#");
                            self.last = Last::Glue;
                            self.inline(&tokens[i + 1]);
                            self.newline();
                        }
                    }
                    i += 2;
                    continue;
                }
                (TokenTree::Group(g), _) if g.delimiter() == Delimiter::Brace => {
                    self.space();
                    self.text("{");
                    self.newline();
                    self.indent += 1;
                    self.block(g.stream(), true);
                    self.indent -= 1;
                    self.newline();
                    self.text("}");
                    self.newline();
                }
                (TokenTree::Punct(p), _)
                    if p.as_char() == ';' || in_braces && p.as_char() == ',' =>
                {
                    self.text(&p.as_char().to_string());
                    self.newline();
                }
                (tt, _) => self.inline(tt),
            }
            i += 1;
        }
    }

    /// A token within a line.
    fn inline(&mut self, tt: &TokenTree) {
        match tt {
            TokenTree::Ident(ident) => {
                self.space();
                self.text(&ident.to_string());
            }
            TokenTree::Literal(lit) => {
                self.space();
                self.text(&lit.to_string());
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                let joint = p.spacing() == Spacing::Joint;
                match c {
                    ',' | ';' => {
                        self.text(&c.to_string());
                        self.last = Last::Spaced;
                    }
                    ':' if joint || self.out.ends_with(':') && self.last == Last::Glue => {
                        // `::`, spaced after a `:` or a `,` (`code: ::std::string::String`)
                        if joint && self.last == Last::Spaced {
                            self.space();
                        }
                        self.text(":");
                        self.last = Last::Glue;
                    }
                    ':' => {
                        self.text(":");
                        self.last = Last::Spaced;
                    }
                    '<' | '&' | '#' | '!' => {
                        self.text(&c.to_string());
                        self.last = Last::Glue;
                    }
                    '>' if self.out.ends_with('-') || self.out.ends_with('=') => {
                        self.text(">");
                        self.last = Last::Spaced;
                    }
                    '>' => {
                        self.text(">");
                        self.last = Last::Word;
                    }
                    _ => {
                        self.space();
                        self.text(&c.to_string());
                        self.last = if joint { Last::Glue } else { Last::Spaced };
                    }
                }
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                // `Code("x")`, `new(a: B)`, `#[doc]` glue; `Request [ser]` is spaced.
                if !(g.delimiter() == Delimiter::Parenthesis && self.last == Last::Word) {
                    self.space();
                }
                self.text(open);
                self.last = Last::Glue;
                for inner in g.stream() {
                    self.inline(&inner);
                }
                self.text(close);
                self.last = Last::Word;
            }
        }
    }
}

/// The text of a `doc = "..."` attribute.
fn doc_text(attr: TokenStream) -> Option<String> {
    let mut tokens = attr.into_iter();
    match (tokens.next(), tokens.next(), tokens.next(), tokens.next()) {
        (
            Some(TokenTree::Ident(doc)),
            Some(TokenTree::Punct(eq)),
            Some(TokenTree::Literal(lit)),
            None,
        ) if doc == "doc" && eq.as_char() == '=' => syn::parse_str::<syn::LitStr>(&lit.to_string())
            .ok()
            .map(|s| s.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn item_macros_print_a_line_per_field() {
        let tokens = quote! {
            pub mod m {
                __b24::object! {
                    #[doc = " A thing."]
                    #[doc(hidden)]
                    pub struct Thing [de ser] {
                        #[doc = " The id."]
                        opt id: Vec<__b24::Int> = "ID" => ID,
                        req code: String = "code",
                    }
                    fn uf -> __b24::Value = "UF_", digits;
                    new(code: String);
                }
            }
        };
        let text = render(&tokens);
        let expected = "pub mod m {
    __b24::object! {
        /// A thing.
        #[doc(hidden)]
        pub struct Thing [de ser] {
            /// The id.
            opt id: Vec<__b24::Int> = \"ID\" => ID,
            req code: String = \"code\",
        }
        fn uf -> __b24::Value = \"UF_\", digits;
        new(code: String);
    }
}
";
        assert_eq!(text, expected);
        syn::parse_file(&text).expect("the rendered text parses");
    }
}
