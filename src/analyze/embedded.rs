//! Secrets inside a value: the secret-named keys of a JSON document, the secret-named
//! parameters of a query string.
//!
//! In: a field's decoded text (a whole JSON object or array, or one URL or query string with no
//! blank in it). Out: each string value under a key that looks secret
//! ([`crate::analyze::secrets::looks_secret`]), with its path (`client_secret`,
//! `auth > password`, `?client_secret`) and the span of its characters in the text, so that it
//! can be replaced in place and the JSON stays valid. Values that are empty, or placeholders
//! already, are left out.

use std::ops::Range;

use crate::redact::names::looks_secret;

/// One secret found inside a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded {
    /// The keys leading to it, `>`-separated (`auth > password`), or `?name` for a query
    /// parameter.
    pub path: String,
    /// The value's characters in the text (inside the quotes for JSON).
    pub span: Range<usize>,
}

/// `raw` after its leading blanks, written as they are or as character references (`&#13;`,
/// the carriage return of a line break as ServiceNow exports it).
fn blank_start(mut raw: &[u8]) -> &[u8] {
    loop {
        raw = raw.trim_ascii_start();
        let Some(rest) = raw.strip_prefix(b"&#") else {
            return raw;
        };
        let Some(end) = rest.iter().take(8).position(|&b| b == b';') else {
            return raw;
        };
        match crate::scan::decode_reference(&raw[1..2 + end]) {
            Some(c) if c.is_ascii_whitespace() => raw = &rest[end + 1..],
            _ => return raw,
        }
    }
}

/// `true` when raw field bytes may hold an embedded secret: the value starts with `{` or `[`,
/// or it is one token (no blank) holding `=`. A quick filter before decoding.
pub fn may_embed(raw: &[u8]) -> bool {
    /// Longer values are only looked at as JSON (a URL or query string is shorter).
    const QUERY_MAX: usize = 8 << 10;
    let t = blank_start(raw);
    let t = blank_start(t.strip_prefix(b"<![CDATA[").unwrap_or(t));
    match t.first() {
        Some(b'{' | b'[') => true,
        // Blanks first: most long values (scripts) have one near their start.
        // A character reference may spell the `=` (`&#61;`): decoded, it is looked at.
        Some(_) if t.len() <= QUERY_MAX && memchr::memmem::find(t, b"&#").is_some() => true,
        Some(_) if t.len() <= QUERY_MAX => {
            // One token holding `=`: the first of `=`, space and line feed is a `=`, and no
            // blank follows.
            let t = t.trim_ascii_end();
            match memchr::memchr3(b'=', b' ', b'\n', t) {
                Some(i) if t[i] == b'=' => {
                    memchr::memchr3(b' ', b'\n', b'\t', &t[i..]).is_none()
                        && memchr::memchr(b'\t', &t[..i]).is_none()
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The secrets embedded in `text`, in order. `is_placeholder` says which values are already
/// placeholders.
///
/// ```
/// use sn_retarget::analyze::embedded::embedded_secrets;
/// let text = r#"{"endpoint":"https://example.invalid/api","client_secret":"s3cr3t","retries":3}"#;
/// let found = embedded_secrets(text, &|_| false);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].path, "client_secret");
/// assert_eq!(&text[found[0].span.clone()], "s3cr3t");
/// let url = "https://x.example/cb?state=1&api_key=abc123&x=2";
/// let found = embedded_secrets(url, &|_| false);
/// assert_eq!((found[0].path.as_str(), &url[found[0].span.clone()]), ("?api_key", "abc123"));
/// ```
pub fn embedded_secrets(text: &str, is_placeholder: &dyn Fn(&str) -> bool) -> Vec<Embedded> {
    let t = text.trim_start();
    let mut out = Vec::new();
    if t.starts_with(['{', '[']) {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            json_secrets(text, &mut out);
        }
    } else if !text.trim().contains(char::is_whitespace) {
        query_secrets(text, &mut out);
    }
    out.retain(|e| {
        !text[e.span.clone()].trim().is_empty() && !is_placeholder(&text[e.span.clone()])
    });
    out
}

/// Where a JSON scanner is: in an object (with the key read last), or in an array.
enum Frame {
    Object { key: Option<String>, path: String },
    Array { index: usize, path: String },
}

/// The string values of valid JSON `text` whose key looks secret.
fn json_secrets(text: &str, out: &mut Vec<Embedded>) {
    let b = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // The path of the value about to be read, when in an object after `:` or in an array.
    let value_path = |stack: &Vec<Frame>| -> Option<(String, bool)> {
        match stack.last()? {
            Frame::Object { key: Some(k), path } => {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path} > {k}")
                };
                Some((p, looks_secret(k)))
            }
            Frame::Object { key: None, .. } => None,
            Frame::Array { index, path } => Some((format!("{path}[{index}]"), false)),
        }
    };
    let mut expect_key = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                let path = value_path(&stack).map(|(p, _)| p).unwrap_or_default();
                stack.push(Frame::Object { key: None, path });
                expect_key = true;
                i += 1;
            }
            b'[' => {
                let path = value_path(&stack).map(|(p, _)| p).unwrap_or_default();
                stack.push(Frame::Array { index: 0, path });
                expect_key = false;
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Object { key, .. }) => {
                        *key = None;
                        expect_key = true;
                    }
                    Some(Frame::Array { index, .. }) => *index += 1,
                    None => {}
                }
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let end = string_end(b, i);
                let content = i + 1..end.saturating_sub(1).max(i + 1);
                if expect_key {
                    let key: String = serde_json::from_str(&text[i..end]).unwrap_or_default();
                    if let Some(Frame::Object { key: k, .. }) = stack.last_mut() {
                        *k = Some(key);
                    }
                } else if let Some((path, true)) = value_path(&stack) {
                    out.push(Embedded {
                        path,
                        span: content,
                    });
                }
                i = end;
            }
            _ => i += 1,
        }
    }
}

/// The offset just after the string starting with the `"` at `start`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The values of query parameters whose name looks secret: after the first `?` of a URL, or
/// in a bare `name=value&...` string.
fn query_secrets(text: &str, out: &mut Vec<Embedded>) {
    let start = match text.find('?') {
        Some(q) => q + 1,
        None if text.contains("://") => return,
        None => 0,
    };
    let end = text[start..].find('#').map_or(text.len(), |h| start + h);
    let mut at = start;
    for pair in text[start..end].split(['&', ';']) {
        if let Some((name, _)) = pair.split_once('=') {
            let name = percent_decoded(name);
            if looks_secret(&name) {
                let v = at + pair.find('=').unwrap_or(0) + 1;
                out.push(Embedded {
                    path: format!("?{name}"),
                    span: v..at + pair.len(),
                });
            }
        }
        at += pair.len() + 1;
    }
}

/// `%XX` sequences decoded (others kept as they are).
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String)> {
        embedded_secrets(text, &|v| v.starts_with("SN-RETARGET-SECRET("))
            .into_iter()
            .map(|e| (e.path, text[e.span].to_string()))
            .collect()
    }

    #[test]
    fn json_keys_at_any_depth() {
        let text = r#" {"a":{"Password":"p\"w","n":1,"list":[{"api_key":"k1"},"x"]},"token_url":"https://x","refresh_token":"","secret":"SN-RETARGET-SECRET(t.f:-)"} "#;
        assert_eq!(
            found(text),
            [
                ("a > Password".to_string(), "p\\\"w".to_string()),
                ("a > list[0] > api_key".to_string(), "k1".to_string()),
            ]
        );
        // Not JSON: nothing.
        assert!(found(r#"{"password":"x""#).is_empty());
        // A secret-named key holding an object: its own keys decide.
        assert!(found(r#"{"secret":{"a":"b"}}"#).is_empty());
    }

    #[test]
    fn query_parameters() {
        assert_eq!(
            found("grant_type=password&client_secret=abc&password=xyz"),
            [
                ("?client_secret".to_string(), "abc".to_string()),
                ("?password".to_string(), "xyz".to_string())
            ]
        );
        assert_eq!(
            found("https://x/cb?client%5Fsecret=abc#frag"),
            [("?client_secret".to_string(), "abc".to_string())]
        );
        assert!(found("https://x/a=b").is_empty());
        assert!(found("a = b").is_empty());
        assert!(may_embed(b" {\"a\":1}"));
        assert!(may_embed(b"x?a=b"));
        assert!(!may_embed(b"var a = b;"));
    }
}
