//! Token substitutions: instance hosts, sys_ids and namespaces, found where they lie.
//!
//! In: raw bytes of a value (as stored in the file, at any escaping depth: hosts, 32-hex ids
//! and namespaces hold no character that escaping changes, so they read the same in every
//! layer). Out: each substitution with its span in those bytes. A sys_id is a whole token: 32
//! lowercase hex digits with no lower-case letter or digit on either side (`sys_script_<id>`,
//! `documentkey=<id>`, `sys_id=<id>` in URLs and `sys_idIN<id>,<id>` in encoded queries, whose
//! operators are upper case, all qualify).

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::ids::IdMap;
use crate::analyze::hosts::{HostFinder, lowercase};
use crate::scan::Span;

/// Why a value changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A sys_id regenerated or mapped.
    #[default]
    SysId,
    /// A source instance host.
    Host,
    /// A bare source instance name (e.g. `instance_name`).
    InstanceName,
    /// A scope namespace.
    Namespace,
    /// A secret replaced or emptied.
    Secret,
    /// `--set`.
    Set,
    /// `--replace`.
    Replace,
    /// `--regenerate-field`.
    RegenerateField,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rule::SysId => "sys_id",
            Rule::Host => "host",
            Rule::InstanceName => "instance_name",
            Rule::Namespace => "namespace",
            Rule::Secret => "secret",
            Rule::Set => "set",
            Rule::Replace => "replace",
            Rule::RegenerateField => "regenerate_field",
        })
    }
}

/// One substitution found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subst<'t> {
    /// Where, in the text scanned.
    pub span: Span,
    /// The bytes replaced.
    pub old: &'t [u8],
    /// Their replacement.
    pub new: Cow<'t, [u8]>,
    /// Why.
    pub rule: Rule,
}

/// The token rules of a rewrite.
#[derive(Debug, Clone, Default)]
pub struct TokenRules {
    /// Source host -> target host (lower case).
    pub hosts: FxHashMap<String, String>,
    /// Old sys_id -> new.
    pub ids: IdMap,
    /// Namespace renames applied as prefixes in text (only with `scope_prefix`).
    pub namespace_prefixes: Vec<(String, String)>,
    finder: HostFinder,
}

/// Byte classes: 0 other, 1 hex digit (lower case), 2 other lower-case letter, 3 upper-case
/// letter, 4 `_`.
const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() || (b >= b'a' && b <= b'f') {
            1
        } else if b.is_ascii_lowercase() {
            2
        } else if b.is_ascii_uppercase() {
            3
        } else if b == b'_' {
            4
        } else {
            0
        };
        i += 1;
    }
    t
}

const CLASS: [u8; 256] = classes();

fn is_hex(b: u8) -> bool {
    CLASS[b as usize] == 1
}

fn is_alnum(b: u8) -> bool {
    matches!(CLASS[b as usize], 1..=3)
}

/// Digits and lower-case letters: what may not touch a sys_id.
fn is_lower_alnum(b: u8) -> bool {
    matches!(CLASS[b as usize], 1 | 2)
}

fn is_word(b: u8) -> bool {
    CLASS[b as usize] != 0
}

/// Every sys_id-shaped whole token in `text` (32 lowercase hex digits, no digit or lower-case
/// letter on either side), in order.
///
/// It looks at every 32nd byte first: a 32-digit run must cover it, so where that byte is not
/// a hex digit, no token starts in the 32 bytes before it.
///
/// ```
/// use sn_retarget::plan::tokens::id_tokens;
/// let text = b"sys_id=0123456789abcdef0123456789abcdef^x 0123456789abcdef0123456789abcdef0";
/// let found: Vec<_> = id_tokens(text).map(|s| s.start).collect();
/// assert_eq!(found, [7]);
/// ```
pub fn id_tokens(text: &[u8]) -> impl Iterator<Item = Span> + '_ {
    let n = text.len();
    // No run of hex digits starts before `i` and continues up to it.
    let mut i = 0;
    std::iter::from_fn(move || {
        while i + 32 <= n {
            let probe = i + 31;
            if !is_hex(text[probe]) {
                i = probe + 1;
                continue;
            }
            let mut start = probe;
            while start > i && is_hex(text[start - 1]) {
                start -= 1;
            }
            let mut end = probe + 1;
            while end < n && is_hex(text[end]) {
                end += 1;
            }
            i = end + 1; // text[end] (if any) is not a hex digit
            let whole = end - start == 32
                && (start == 0 || !is_lower_alnum(text[start - 1]))
                && (end == n || !is_lower_alnum(text[end]));
            if whole {
                return Some(Span::new(start, end));
            }
        }
        None
    })
}

impl TokenRules {
    /// Rules with nothing to do.
    pub fn new(
        hosts: FxHashMap<String, String>,
        ids: IdMap,
        namespace_prefixes: Vec<(String, String)>,
    ) -> TokenRules {
        TokenRules {
            hosts,
            ids,
            namespace_prefixes,
            finder: HostFinder::new(),
        }
    }

    /// `true` when no token can change.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ids.is_empty() && self.namespace_prefixes.is_empty()
    }

    /// Every substitution in `text`, sorted by position, never overlapping.
    ///
    /// ```
    /// use rustc_hash::FxHashMap;
    /// use sn_retarget::plan::ids::IdMap;
    /// use sn_retarget::plan::tokens::TokenRules;
    /// let mut hosts = FxHashMap::default();
    /// hosts.insert("dev1.service-now.com".to_string(), "prod.service-now.com".to_string());
    /// let mut ids = IdMap::default();
    /// ids.insert("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
    /// let rules = TokenRules::new(hosts, ids, vec![]);
    /// let text = b"https://dev1.service-now.com/x.do?sys_id=0123456789abcdef0123456789abcdef";
    /// let out: Vec<_> = rules.scan(text).into_iter().map(|s| s.new.into_owned()).collect();
    /// assert_eq!(out, [b"prod.service-now.com".to_vec(), b"fedcba9876543210fedcba9876543210".to_vec()]);
    /// ```
    pub fn scan<'t>(&'t self, text: &'t [u8]) -> Vec<Subst<'t>> {
        self.scan_with(text, &self.finder)
    }

    /// [`TokenRules::scan`] with a host finder of the caller's (e.g. one made for the document
    /// with [`HostFinder::for_document`]).
    pub fn scan_with<'t>(&'t self, text: &'t [u8], finder: &HostFinder) -> Vec<Subst<'t>> {
        let mut out = Vec::new();
        self.scan_into(text, finder, true, &mut out);
        out
    }

    /// The host and namespace substitutions of [`TokenRules::scan_with`] (and the sys_id ones
    /// when `ids`), appended to `out`, sorted by position and never overlapping.
    pub fn scan_into<'t>(
        &'t self,
        text: &'t [u8],
        finder: &HostFinder,
        ids: bool,
        out: &mut Vec<Subst<'t>>,
    ) {
        out.clear();
        if !self.hosts.is_empty() {
            for m in finder.find_all(text) {
                let key = lowercase(m.host);
                if let Some(new) = self.hosts.get(key.as_ref()) {
                    out.push(Subst {
                        span: m.span,
                        old: &text[m.span.range()],
                        new: Cow::Borrowed(new.as_bytes()),
                        rule: Rule::Host,
                    });
                }
            }
        }
        if ids && !self.ids.is_empty() {
            for span in id_tokens(text) {
                if let Some(new) = self.ids.get(&text[span.range()]) {
                    out.push(Subst {
                        span,
                        old: &text[span.range()],
                        new: Cow::Borrowed(new.as_slice()),
                        rule: Rule::SysId,
                    });
                }
            }
        }
        for (old, new) in &self.namespace_prefixes {
            for at in memchr::memmem::find_iter(text, old.as_bytes()) {
                let end = at + old.len();
                let before_ok = at == 0 || !is_word(text[at - 1]);
                let after_ok = match text.get(end) {
                    None => true,
                    Some(b'.' | b'_') => true,
                    Some(&b) => !is_alnum(b),
                };
                if before_ok && after_ok {
                    out.push(Subst {
                        span: Span::new(at, end),
                        old: &text[at..end],
                        new: Cow::Borrowed(new.as_bytes()),
                        rule: Rule::Namespace,
                    });
                }
            }
        }
        if out.len() > 1 {
            out.sort_by_key(|s| (s.span.start, s.span.end));
            let mut last_end = 0;
            out.retain(|s| {
                let keep = s.span.start >= last_end;
                if keep {
                    last_end = s.span.end;
                }
                keep
            });
        }
    }

    /// `text` with every substitution made.
    pub fn apply_to(&self, text: &str) -> String {
        let subs = self.scan(text.as_bytes());
        if subs.is_empty() {
            return text.to_string();
        }
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        for s in subs {
            out.extend_from_slice(&text.as_bytes()[at..s.span.start]);
            out.extend_from_slice(&s.new);
            at = s.span.end;
        }
        out.extend_from_slice(&text.as_bytes()[at..]);
        String::from_utf8(out).unwrap_or_else(|_| text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TokenRules {
        let mut ids = IdMap::default();
        ids.insert(
            "0123456789abcdef0123456789abcdef",
            "ffffffffffffffffffffffffffffffff",
        );
        TokenRules::new(
            FxHashMap::default(),
            ids,
            vec![("x_old".into(), "x_new".into())],
        )
    }

    #[test]
    fn ids_are_whole_tokens() {
        let r = rules();
        let id = "0123456789abcdef0123456789abcdef";
        for (text, hits) in [
            (format!("sys_script_{id}"), 1),
            (format!("documentkey={id}^x"), 1),
            (format!("{id},{id}"), 2),
            (format!("a{id}"), 0),
            (format!("{id}0"), 0),
            (format!("0{id}"), 0),
            (format!("sys_idNOT IN{id},{id}^EQ"), 2),
            (format!("{id}g"), 0),
        ] {
            assert_eq!(r.scan(text.as_bytes()).len(), hits, "{text}");
        }
    }

    /// The plain left-to-right scan `id_tokens` must agree with.
    fn naive(text: &[u8]) -> Vec<Span> {
        let (n, mut i, mut out) = (text.len(), 0, Vec::new());
        while i < n {
            if !is_hex(text[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && is_hex(text[i]) {
                i += 1;
            }
            if i - start == 32
                && (start == 0 || !is_lower_alnum(text[start - 1]))
                && (i == n || !is_lower_alnum(text[i]))
            {
                out.push(Span::new(start, i));
            }
        }
        out
    }

    #[test]
    fn skipping_scan_agrees_with_the_plain_one() {
        let alphabet = b"0123456789abcdefgxyzABC_ =&;";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..3000 {
            let len = (round % 160) + 1;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Mostly hex, so that 31-, 32- and 33-digit runs are common.
                    let k = (state % 100) as usize;
                    if k < 90 {
                        alphabet[k % 16]
                    } else {
                        alphabet[k % alphabet.len()]
                    }
                })
                .collect();
            assert_eq!(
                id_tokens(&text).collect::<Vec<_>>(),
                naive(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn namespaces_are_prefixes_of_words() {
        let r = rules();
        assert_eq!(
            r.apply_to("x_old.Api x_old_table x_old2 ax_old x_old"),
            "x_new.Api x_new_table x_old2 ax_old x_new"
        );
    }
}
