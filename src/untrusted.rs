//! Untrusted text (record names and values, file and entry names) made safe for the places
//! people read: terminals, Markdown files, HTML pages.
//!
//! In: any text from an input. Out: the same text with nothing in it that the reader's
//! software would act on: no terminal escape sequence, no line break that starts a new
//! Markdown block, no markup.
//!
//! ```
//! use sn_retarget::untrusted::{markdown, terminal};
//! assert_eq!(terminal("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
//! assert_eq!(markdown("x\n## Then\n1. [ ] [go](https://evil.example)"),
//!            r"x\\n\#\# Then\\n1. \[ \] \[go\]\(https\://evil.example\)");
//! ```

use std::borrow::Cow;
use std::fmt::Write;

/// `true` for characters a terminal or a text viewer may act on: C0 controls other than tab
/// and line feed, DEL, C1 controls, and the bidirectional overrides and isolates that reorder
/// what is shown.
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' => !keep_newlines,
        '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn escaped(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c, keep_newlines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' if !keep_newlines => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c, keep_newlines) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text for a terminal (a whole message, several lines allowed): escape sequences, other
/// control characters and bidirectional overrides shown as `\u{..}` escapes.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escaped(s, true)
}

/// Text for one line (a name inside a message or a file): line breaks shown as `\n` too.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escaped(s, false)
}

/// Text for a Markdown line: on one line, and every character that can make markup
/// backslash-escaped (CommonMark), so that nothing in it is a link, an autolink, emphasis, code,
/// an entity or HTML (`_` inside a word is left as it is: it is no emphasis there).
pub fn markdown(s: &str) -> String {
    let line = one_line(s);
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() + 8);
    for (k, &c) in chars.iter().enumerate() {
        let inside_word = |k: Option<usize>| {
            k.and_then(|k| chars.get(k))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let escape = match c {
            '_' => !(inside_word(k.checked_sub(1)) && inside_word(Some(k + 1))),
            '\\' | '`' | '*' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '!' | '|' | '~' | '&'
            | ':' | '{' | '}' | '+' | '=' => true,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text for a Markdown code span: on one line, in a run of backticks longer than any in it.
///
/// ```
/// use sn_retarget::untrusted::markdown_code;
/// assert_eq!(markdown_code("a.xml"), "`a.xml`");
/// assert_eq!(markdown_code("a`b"), "`` a`b ``");
/// ```
pub fn markdown_code(s: &str) -> String {
    let line = one_line(s);
    let longest = line.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{line}{fence}")
    } else {
        format!("{fence} {line} {fence}")
    }
}

/// Text for HTML (element content or a quoted attribute value).
///
/// ```
/// use sn_retarget::untrusted::html;
/// assert_eq!(html("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
/// ```
pub fn html(s: &str) -> Cow<'_, str> {
    let s = one_line_keep(s);
    if !s.contains(['<', '>', '&', '"', '\'']) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Control characters escaped, line breaks kept (HTML shows them as spaces anyway).
fn one_line_keep(s: &str) -> Cow<'_, str> {
    escaped(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_unsafe_passes() {
        for bad in ["\u{1b}[31m", "\u{9b}2J", "\u{202e}txt.exe", "a\rb", "\u{7}"] {
            for out in [
                terminal(bad).into_owned(),
                one_line(bad).into_owned(),
                markdown(bad),
            ] {
                assert!(!out.chars().any(|c| is_unsafe(c, true)), "{out:?}");
            }
        }
        assert_eq!(terminal("a\nb"), "a\nb");
        assert_eq!(one_line("a\nb"), "a\\nb");
        assert_eq!(markdown("OAuth Client Dev"), "OAuth Client Dev");
    }
}
