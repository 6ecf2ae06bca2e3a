//! Secrets in the text of a payload that could not be read (not well-formed, or nested too
//! deep): its records are never handed over, so their secret fields would pass unseen.
//!
//! In: the payload's text (decoded from its field) and the secret rules. Out: each element
//! that holds a secret by the rules (a known secret column of the record it sits in, a
//! secret-looking name, ciphertext), found by a lenient look at its tags, which does not need
//! the document to be well-formed.

use std::borrow::Cow;

use crate::analyze::secrets::{SecretReason, SecretRules};
use crate::plan::spelled::Decoded;
use crate::model::RecordValues;

/// An element of an unread payload that holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadSecret {
    /// Where its value starts in the payload's text (0 for one inside a document escaped in
    /// that text).
    pub offset: usize,
    /// The record element it sits in (the last start tag with an `action` attribute), or the
    /// empty string.
    pub table: String,
    /// The element's name.
    pub field: String,
    /// Why its value is a secret.
    pub reason: SecretReason,
}

/// The table a loose element belongs to, with no other values known.
struct Loose<'a>(&'a str);

impl RecordValues for Loose<'_> {
    fn table(&self) -> &str {
        self.0
    }
    fn value(&self, _: &str) -> Option<Cow<'_, str>> {
        None
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
}

/// Every element of `text` (an unread payload) whose value `rules` hold for a secret (a
/// placeholder is none).
///
/// ```
/// use sn_retarget::analyze::secrets::SecretRules;
/// use sn_retarget::plan::unread::unread_secrets;
/// let text = "<record_update><oauth_entity action=\"INSERT_OR_UPDATE\">\
///     <client_secret>s3cr3t-value</client_secret><name>x</name></oauth_entity></record_updat>";
/// let found = unread_secrets(text, &SecretRules::default());
/// assert_eq!(found.len(), 1);
/// assert_eq!((found[0].table.as_str(), found[0].field.as_str()), ("oauth_entity", "client_secret"));
/// assert_eq!(&text[found[0].offset..found[0].offset + 12], "s3cr3t-value");
/// ```
pub fn unread_secrets(text: &str, rules: &SecretRules) -> Vec<UnreadSecret> {
    let mut found = Vec::new();
    tags(text, rules, &mut found);
    // A document escaped inside it (a payload's own payload) is looked at too, one level of
    // escaping undone at a time (leniently: the text need not be well-formed), in named or
    // numeric references; what is found there is placed at the start of the text.
    let mut inner = text.to_string();
    for _ in 0..crate::model::MAX_PAYLOAD_DEPTH {
        // Numeric references (`&#60;`, `&amp;#x3C;`) are read as the rewrite reads them.
        let named = inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        let decoded = String::from_utf8_lossy(&Decoded::of(named.as_bytes()).bytes).into_owned();
        if decoded == inner {
            break;
        }
        inner = decoded;
        // The outer levels' tags are read again: only what they did not hold counts.
        let mut deeper = Vec::new();
        tags(&inner, rules, &mut deeper);
        for mut f in deeper {
            let seen = |g: &UnreadSecret| (&g.table, &g.field) == (&f.table, &f.field);
            if !found.iter().any(seen) {
                f.offset = 0;
                found.push(f);
            }
        }
    }
    found
}

/// The secrets among the elements of `text` whose tags are written as they are.
fn tags(text: &str, rules: &SecretRules, found: &mut Vec<UnreadSecret>) {
    let b = text.as_bytes();
    let mut table = "";
    let mut at = 0;
    while let Some(k) = memchr::memchr(b'<', &b[at..]) {
        let lt = at + k;
        at = lt + 1;
        let name_len = b[lt + 1..].iter().take_while(|&&c| is_name_byte(c)).count();
        if name_len == 0 {
            continue; // an end tag, a comment, a declaration, or a lone `<`
        }
        let name = &text[lt + 1..lt + 1 + name_len];
        let Some(gt) = memchr::memchr(b'>', &b[lt..]).map(|g| lt + g) else {
            break;
        };
        let tag = &text[lt..=gt];
        if tag.ends_with("/>") {
            continue;
        }
        if tag.contains("action=") {
            table = name;
            continue;
        }
        let start = gt + 1;
        let rest = &text[start..];
        let (offset, value) = match rest.strip_prefix("<![CDATA[") {
            Some(inner) => (start + 9, &inner[..inner.find("]]>").unwrap_or(inner.len())]),
            None => (start, &rest[..rest.find('<').unwrap_or(rest.len())]),
        };
        if rules.is_placeholder(value) {
            continue; // replaced already, by an earlier run
        }
        let reference = tag.contains("display_value");
        if let Some(reason) = rules.classify(&Loose(table), name, value, reference) {
            let lead = value.len() - value.trim_start().len();
            found.push(UnreadSecret {
                offset: offset + lead,
                table: table.to_string(),
                field: name.to_string(),
                reason,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<(String, String)> {
        unread_secrets(text, &SecretRules::default())
            .into_iter()
            .map(|s| (s.table, s.field))
            .collect()
    }

    #[test]
    fn known_columns_secret_names_and_ciphertext_are_found_in_broken_text() {
        let text = "<?xml version=\"1.0\"?><record_update table=\"oauth_entity\">\
            <oauth_entity action=\"INSERT_OR_UPDATE\"><client_secret><![CDATA[abc]]></client_secret>\
            <my_api_token>t-1234567890</my_api_token><name>n</name></oauth_entity></record_updat>";
        assert_eq!(
            fields(text),
            [
                ("oauth_entity".to_string(), "client_secret".to_string()),
                ("oauth_entity".to_string(), "my_api_token".to_string()),
            ]
        );
    }

    #[test]
    fn empty_values_placeholders_references_and_end_tags_are_not_secrets() {
        let text = "<oauth_entity action=\"INSERT\"><client_secret/><client_secret></client_secret>\
            <password>  </password><token display_value=\"x\">0123</token></oauth_entity><";
        assert!(fields(text).is_empty(), "{:?}", fields(text));
        let mut rules = SecretRules::default();
        rules.add_placeholder("__SET_ME__{table}");
        let text = "<oauth_entity action=\"INSERT\"><client_secret>__SET_ME__x</client_secret>";
        assert!(unread_secrets(text, &rules).is_empty());
    }

    #[test]
    fn documents_escaped_inside_are_looked_at_too() {
        let inner = "<oauth_entity action=\"INSERT\"><client_secret>abc</client_secret></oauth_entity>";
        let once = inner.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let twice = once.replace('&', "&amp;");
        for text in [
            format!("<x action=\"INSERT\"><payload>{once}</payload></x><broken"),
            format!("<x action=\"INSERT\"><payload>{twice} &amp;nbsp; &bogus;</payload>"),
            // Spelled with numeric references.
            format!("<x action=\"INSERT\"><payload>{}</payload><broken", inner.replace('<', "&#60;").replace('>', "&#x3e;")),
            // Found once, though the outer tags are read again with the inner ones.
            format!("<oauth_entity action=\"INSERT\"><client_secret>abc</client_secret><payload>{once}</payload>"),
        ] {
            assert_eq!(
                fields(&text),
                [("oauth_entity".to_string(), "client_secret".to_string())],
                "{text}"
            );
        }
    }

    #[test]
    fn a_tag_left_open_ends_the_look() {
        assert!(fields("<oauth_entity action=\"INSERT\"><client_secret").is_empty());
        assert!(fields("").is_empty() && fields("<").is_empty());
    }
}
