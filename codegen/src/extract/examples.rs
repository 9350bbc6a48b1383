//! Examples: cURL commands read as a shell reads them, and JSON read as written or after a
//! mechanical repair.
//!
//! Shell rules: words split on blanks; `'…'` is literal; in `"…"` a backslash escapes
//! `"`, `\`, `$` and `` ` ``; outside quotes a backslash escapes the next character and a
//! backslash-newline joins lines; `$(…)` and `` `…` `` command substitutions cannot be run, so
//! their text is kept as written (without quote characters, so that a substitution spliced into
//! a JSON string leaves a JSON string); a `#` at the start of a word starts a comment; an
//! unquoted newline ends a command. An unterminated quote makes the command unreadable.
//!
//! JSON repair (the only repairs made): `//` and `/* */` comments, `...`/`…` placeholders and
//! the commas they leave, and trailing commas are removed.

use serde_json::Value;

/// A cURL command found in a code block.
#[derive(Clone, Debug, PartialEq)]
pub struct Curl {
    /// The request body (the `-d` argument), as the shell would pass it.
    pub body: Option<String>,
    /// The URL.
    pub url: Option<String>,
    /// The line of the command within the code block (0-based).
    pub line: usize,
    /// True when the body is followed by a stray word (quoting split the body in pieces).
    pub body_split: bool,
}

/// Why a command could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct ShellError {
    /// What is wrong.
    pub message: String,
    /// The line within the code block (0-based).
    pub line: usize,
}

/// Splits shell `text` into commands of words. Each command comes with the line it starts on.
pub fn shell_words(text: &str) -> Result<Vec<(usize, Vec<String>)>, ShellError> {
    let chars: Vec<char> = text.chars().collect();
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut line = 0usize;
    let mut command_line = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                if !words.is_empty() {
                    commands.push((command_line, std::mem::take(&mut words)));
                }
                line += 1;
                command_line = line;
                i += 1;
            }
            ' ' | '\t' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                i += 1;
            }
            ';' | '|' | '&' if !in_word => {
                if !words.is_empty() {
                    commands.push((command_line, std::mem::take(&mut words)));
                }
                command_line = line;
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some('\n') => {
                        line += 1;
                    }
                    Some(&next) => {
                        word.push(next);
                        in_word = true;
                    }
                    None => {}
                }
                i += 2;
            }
            '\'' => {
                in_word = true;
                let start_line = line;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(ShellError {
                                message: "unterminated single quote".into(),
                                line: start_line,
                            })
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            word.push(ch);
                            i += 1;
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                let start_line = line;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(ShellError {
                                message: "unterminated double quote".into(),
                                line: start_line,
                            })
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some(&n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                                Some('\n') => line += 1,
                                Some(&n) => {
                                    word.push('\\');
                                    word.push(n);
                                }
                                None => {}
                            }
                            i += 2;
                        }
                        Some('$') if chars.get(i + 1) == Some(&'(') => {
                            i = substitution(&chars, i + 1, &mut word, &mut line)?;
                        }
                        Some(&ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            word.push(ch);
                            i += 1;
                        }
                    }
                }
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                in_word = true;
                i = substitution(&chars, i + 1, &mut word, &mut line)?;
            }
            _ => {
                in_word = true;
                word.push(c);
                i += 1;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if !words.is_empty() {
        commands.push((command_line, words));
    }
    Ok(commands)
}

/// Copies a `$( … )` substitution (from the `(` at `open`) into `word` as its text without
/// quote characters; returns the index after the closing `)`.
fn substitution(
    chars: &[char],
    open: usize,
    word: &mut String,
    line: &mut usize,
) -> Result<usize, ShellError> {
    let start_line = *line;
    let mut depth = 0usize;
    let mut i = open;
    word.push('$');
    while let Some(&c) = chars.get(i) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    word.push(')');
                    return Ok(i + 1);
                }
            }
            '\n' => *line += 1,
            _ => {}
        }
        if c != '"' && c != '\'' && c != '\\' {
            word.push(c);
        }
        i += 1;
    }
    Err(ShellError {
        message: "unterminated command substitution `$(`".into(),
        line: start_line,
    })
}

/// The cURL commands of a shell code block, with their bodies and URLs.
pub fn curl_commands(text: &str) -> Result<Vec<Curl>, ShellError> {
    let mut out = Vec::new();
    for (line, words) in shell_words(text)? {
        let Some(start) = words.iter().position(|w| w == "curl") else {
            continue;
        };
        let mut curl = Curl {
            body: None,
            url: None,
            line,
            body_split: false,
        };
        let mut k = start + 1;
        while k < words.len() {
            let w = &words[k];
            if matches!(
                w.as_str(),
                "-d" | "--data" | "--data-raw" | "--data-binary" | "--json"
            ) {
                curl.body = words.get(k + 1).cloned();
                curl.body_split = words.get(k + 2).is_some_and(|w| {
                    !w.starts_with('-') && !w.contains("://") && !w.contains("/rest/")
                });
                k += 2;
                continue;
            }
            if let Some(rest) = w.strip_prefix("-d").filter(|r| r.starts_with(['{', '['])) {
                curl.body = Some(rest.to_owned());
            } else if matches!(
                w.as_str(),
                "-H" | "--header" | "-X" | "--request" | "-u" | "--user" | "-o" | "-F" | "--form"
            ) {
                k += 2;
                continue;
            } else if !w.starts_with('-') && (w.contains("://") || w.contains("/rest/")) {
                curl.url = Some(w.clone());
            }
            k += 1;
        }
        out.push(curl);
    }
    Ok(out)
}

/// The REST method named at the end of a cURL URL, and whether the URL is a REST 3.0 one.
pub fn method_from_url(url: &str) -> Option<(String, bool)> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let pos = path.find("/rest/")?;
    let rest = &path[pos + "/rest/".len()..];
    let v3 = rest.starts_with("api/");
    let last = rest.trim_end_matches('/').rsplit('/').next()?;
    let last = last.strip_suffix(".json").unwrap_or(last);
    let valid = last.contains('.')
        && last
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        && last.starts_with(|c: char| c.is_ascii_alphabetic());
    let single = !last.contains('.')
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    (valid || single).then(|| (last.to_owned(), v3))
}

/// Reads JSON as written or after a mechanical repair: `(value, repaired)`.
pub fn read_json(text: &str) -> Option<(Value, bool)> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some((v, false));
    }
    let repaired = repair_json(text);
    serde_json::from_str::<Value>(&repaired)
        .ok()
        .map(|v| (v, true))
}

/// Reads a JavaScript object literal as the docs write them in descriptions (`KEY: [{VALUE:
/// 'Y', CODE: 3}]`): bare keys quoted, single-quoted strings made double-quoted, and a bare
/// `key: value` wrapped into an object; then as [`read_json`].
pub fn read_js_literal(text: &str) -> Option<Value> {
    let chars: Vec<char> = text.trim().trim_end_matches([';', ',']).chars().collect();
    let mut out = String::with_capacity(chars.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                // A string: copied as a JSON string.
                let quote = c;
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        s.push(chars[i]);
                        i += 1;
                    } else if chars[i] == '"' {
                        s.push('\\');
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                out.push('"');
                out.push_str(&s);
                out.push('"');
                i += 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let is_key = chars.get(j) == Some(&':');
                if is_key || !matches!(word.as_str(), "true" | "false" | "null") {
                    out.push('"');
                    out.push_str(&word);
                    out.push('"');
                } else {
                    out.push_str(&word);
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    let text = out.trim();
    let wrapped;
    let text = if text.starts_with('"') {
        wrapped = format!("{{{text}}}");
        &wrapped
    } else {
        text
    };
    read_json(text).map(|(v, _)| v)
}

/// Removes comments, `...` placeholders and trailing commas, outside strings.
pub fn repair_json(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
                i += 1;
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            }
            '#' if out.trim_end().ends_with([',', '{', '[']) || out.trim().is_empty() => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                while i < chars.len() && chars[i] == '.' {
                    i += 1;
                }
            }
            '…' => i += 1,
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    remove_stray_commas(&out)
}

/// Removes commas before `}`/`]`, after `{`/`[`, and doubled commas (outside strings).
fn remove_stray_commas(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '}' | ']' => {
                if let Some(pos) = last_significant(&out) {
                    if out[pos] == ',' {
                        out.remove(pos);
                    }
                }
                out.push(c);
            }
            ',' => {
                let prev = last_significant(&out).map(|p| out[p]);
                if !matches!(prev, Some(',' | '{' | '[') | None) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out.into_iter().collect()
}

fn last_significant(out: &[char]) -> Option<usize> {
    out.iter().rposition(|c| !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn curl_body_and_url_from_a_continued_command() {
        let text = "curl -X POST \\\n-H \"Content-Type: application/json\" \\\n-d '{\"code\":\"x\",\"auth\":\"**put_access_token_here**\"}' \\\nhttps://**put_your_bitrix24_address**/rest/crm.activity.badge.add\n";
        let c = curl_commands(text).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].body.as_deref(),
            Some("{\"code\":\"x\",\"auth\":\"**put_access_token_here**\"}")
        );
        assert_eq!(
            method_from_url(c[0].url.as_deref().unwrap()),
            Some(("crm.activity.badge.add".into(), false))
        );
        assert_eq!(
            method_from_url("https://x/rest/api/1/abc/tasks.task.get"),
            Some(("tasks.task.get".into(), true))
        );
        assert_eq!(
            method_from_url("https://x/rest/1/abc/profile.json"),
            Some(("profile".into(), false))
        );
    }

    #[test]
    fn command_substitution_spliced_into_a_json_string() {
        let text =
            "curl -d '{\"id\":999,\"value\":\"'\"$(date -Iseconds)\"'\"}' https://x/rest/m.add";
        let c = curl_commands(text).unwrap();
        let body = c[0].body.clone().unwrap();
        assert_eq!(body, "{\"id\":999,\"value\":\"$(date -Iseconds)\"}");
        assert_eq!(
            read_json(&body).unwrap().0,
            json!({"id": 999, "value": "$(date -Iseconds)"})
        );
        let text = "curl -d \"{\\\"from\\\":\\\"$(date -d \"+1 day\" +%F)\\\"}\" u/rest/a.b";
        let c = curl_commands(text).unwrap();
        assert_eq!(
            c[0].body.as_deref(),
            Some("{\"from\":\"$(date -d +1 day +%F)\"}")
        );
    }

    #[test]
    fn broken_quoting_is_an_error_with_its_line() {
        let err = curl_commands("curl \\\n-d '{\"a\":1}\n https://x/rest/a.b\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("single quote"));
    }

    #[test]
    fn json_repair_is_mechanical_only() {
        assert_eq!(read_json("{\"a\": 1}").unwrap(), (json!({"a": 1}), false));
        let (v, repaired) = read_json(
            "{\n  // the id\n  \"a\": 1, /* x */\n  \"b\": [1, 2, ...],\n  ...\n  \"c\": \"http://x//y\",\n}",
        )
        .unwrap();
        assert!(repaired);
        assert_eq!(v, json!({"a": 1, "b": [1, 2], "c": "http://x//y"}));
        assert_eq!(read_json("[…, 1,]").unwrap().0, json!([1]));
        assert!(read_json("{a: 1}").is_none());
        assert!(read_json("Array ( [a] => 1 )").is_none());
    }
}
