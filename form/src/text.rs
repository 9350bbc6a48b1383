//! Error texts as the runtime and the emulator compare them.
//!
//! The docs, the portal and a client write one error's text with different case, spacing and
//! endings (`Not found.`, `not found`, `Not found<br>`): both sides compare the
//! [`comparable_error_text`] of the two texts.

/// An error text in a form two texts of the same error agree on: trimmed, without trailing
/// `.` or `<br>`, whitespace runs as one space, lower case.
pub fn comparable_error_text(text: &str) -> String {
    let mut t = text.trim();
    loop {
        let before = t;
        for tail in ["<br>", "<br/>", "<br />", "."] {
            // `get`: the text may end in a character of several bytes.
            let cut = t.len().saturating_sub(tail.len());
            if t.get(cut..)
                .is_some_and(|end| end.eq_ignore_ascii_case(tail))
            {
                t = t.get(..cut).unwrap_or(t).trim_end();
            }
        }
        if t == before {
            break;
        }
    }
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::comparable_error_text as comparable;

    #[test]
    fn endings_case_and_spacing_do_not_count() {
        assert_eq!(comparable("  Not   found.<br> "), "not found");
        assert_eq!(comparable("Not found<BR />."), "not found");
        assert_ne!(comparable("Not found"), comparable("Not fund"));
    }

    #[test]
    fn texts_ending_in_a_character_of_several_bytes_compare_without_panicking() {
        assert_eq!(comparable("Не найдено."), "не найдено");
        assert_eq!(comparable("é"), "é");
    }
}
