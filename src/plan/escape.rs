//! Replacement text written in the style of the place it lands.
//!
//! In: the new text of a field, the field's kind, and the layers the field's document sits in
//! (the file, then CDATA or escaped payloads). Out: the bytes to splice into the file. Text is
//! escaped as ServiceNow writes it (`&lt; &gt; &amp;`, quotes raw unless the file writes
//! `&quot;`), a CDATA value stays CDATA (a `]]>` inside it is split), and each enclosing escaped
//! payload escapes the result once more.

use crate::model::Escaping;

/// Escapes text content: `&`, `<`, `>`, and `"` when `quot`.
///
/// ```
/// use sn_retarget::plan::escape::escape_text;
/// assert_eq!(escape_text("a<b & \"c\"", false), "a&lt;b &amp; \"c\"");
/// assert_eq!(escape_text("\"c\"", true), "&quot;c&quot;");
/// ```
pub fn escape_text(s: &str, quot: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quot => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value: `&`, `<`, `>` and both quotes.
///
/// ```
/// use sn_retarget::plan::escape::escape_attr;
/// assert_eq!(escape_attr("a'b\"c<&"), "a&apos;b&quot;c&lt;&amp;");
/// ```
pub fn escape_attr(s: &str) -> String {
    escape_text(s, true).replace('\'', "&apos;")
}

/// Splits every `]]>` so that `s` can sit inside a CDATA section.
pub fn split_cdata_end(s: &str) -> String {
    s.replace("]]>", "]]]]><![CDATA[>")
}

/// A whole CDATA section holding `s`.
///
/// ```
/// use sn_retarget::plan::escape::cdata_section;
/// assert_eq!(cdata_section("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
/// ```
pub fn cdata_section(s: &str) -> String {
    format!("<![CDATA[{}]]>", split_cdata_end(s))
}

/// Wraps `local` (bytes as they must read in the field's own document) in the enclosing
/// layers, innermost first, giving the bytes that go in the file.
///
/// ```
/// use sn_retarget::model::Escaping;
/// use sn_retarget::plan::escape::through_layers;
/// // Text inside an escaped payload inside a CDATA payload.
/// let s = through_layers("a &amp; b".into(), &[Escaping::Cdata, Escaping::Escaped], false);
/// assert_eq!(s, "a &amp;amp; b");
/// ```
pub fn through_layers(mut local: String, layers: &[Escaping], quot: bool) -> String {
    for layer in layers.iter().rev() {
        local = match layer {
            Escaping::Escaped => escape_text(&local, quot),
            Escaping::Cdata => split_cdata_end(&local),
        };
    }
    local
}
