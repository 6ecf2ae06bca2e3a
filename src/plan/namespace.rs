//! Scope namespaces found where they name the scope: whole identifiers, at any depth.
//!
//! In: raw bytes (a value, a whole file: a namespace holds only ASCII letters, digits and `_`,
//! which read the same in every escaping layer) and the namespaces to look for. Out: the spans
//! where a namespace stands as an identifier or the start of one: `x_ns`, `x_ns.api`,
//! `x_ns_table`, `/api/x_ns/...`, `sys_dictionary_x_ns_table_field`, but never inside a longer
//! identifier that only starts with the same characters (`x_ns2`, `x_nsa`), nor inside a longer
//! namespace named as protected (`x_ns_core`, another application's scope).
//!
//! ```
//! use sn_retarget::plan::namespace::NamespaceRenames;
//! let renames = NamespaceRenames::new(vec![("x_acme_app".into(), "x_beta_app".into())])
//!     .protect(["x_acme_app_core".to_string()]);
//! let text = "new x_acme_app.Util(); x_acme_app_task; x_acme_app2; x_acme_app_core.Api";
//! assert_eq!(
//!     renames.apply_to(text),
//!     "new x_beta_app.Util(); x_beta_app_task; x_acme_app2; x_acme_app_core.Api"
//! );
//! ```

use crate::scan::Span;

/// Namespace renames (`old` -> `new`) and the longer namespaces never to touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespaceRenames {
    renames: Vec<(String, String)>,
    protected: Vec<String>,
}

impl NamespaceRenames {
    /// Renames of `old` to `new` namespaces.
    pub fn new(renames: Vec<(String, String)>) -> NamespaceRenames {
        NamespaceRenames {
            renames: renames.into_iter().filter(|(o, _)| !o.is_empty()).collect(),
            protected: Vec::new(),
        }
    }

    /// The same renames, leaving alone every `names` entry (longer namespaces that start with
    /// a renamed one).
    pub fn protect(mut self, names: impl IntoIterator<Item = String>) -> NamespaceRenames {
        self.protected.extend(names);
        self.protected.sort();
        self.protected.dedup();
        self
    }

    /// `true` when nothing is renamed.
    pub fn is_empty(&self) -> bool {
        self.renames.is_empty()
    }

    /// The renames, `(old, new)`.
    pub fn renames(&self) -> &[(String, String)] {
        &self.renames
    }

    /// The protected namespaces.
    pub fn protected(&self) -> &[String] {
        &self.protected
    }

    /// Every rename in `text`, `(span, new)`, appended to `out` (not sorted across renames).
    pub fn find_into<'a>(&'a self, text: &[u8], out: &mut Vec<(Span, &'a str)>) {
        for (old, new) in &self.renames {
            out.extend(occurrences(old, &self.protected, text, false).map(|s| (s, new.as_str())));
        }
    }

    /// `text` with every rename made.
    pub fn apply_to(&self, text: &str) -> String {
        let mut found = Vec::new();
        self.find_into(text.as_bytes(), &mut found);
        if found.is_empty() {
            return text.to_string();
        }
        found.sort_by_key(|(s, _)| (s.start, s.end));
        let mut out = String::with_capacity(text.len() + 16);
        let mut at = 0;
        for (span, new) in found {
            if span.start < at {
                continue;
            }
            out.push_str(&text[at..span.start]);
            out.push_str(new);
            at = span.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Where `namespace` stands in `text` as an identifier or the start of one (see the module
/// docs), skipping places where one of `protected` (longer namespaces starting with it) stands
/// instead. `ignore_case` also finds it written in other cases (for reporting leftovers).
///
/// ```
/// use sn_retarget::plan::namespace::occurrences;
/// let text = b"sys_dictionary_x_a_b_t_f x_a_b2 X_A_B.x";
/// let found: Vec<_> = occurrences("x_a_b", &[], text, false).map(|s| s.start).collect();
/// assert_eq!(found, [15]);
/// assert_eq!(occurrences("x_a_b", &[], text, true).count(), 2);
/// // After a percent-escape in a URL.
/// assert_eq!(occurrences("x_a_b", &[], b"%2Fapi%2Fx_a_b%2Fv1", false).count(), 1);
/// ```
pub fn occurrences<'t>(
    namespace: &'t str,
    protected: &'t [String],
    text: &'t [u8],
    ignore_case: bool,
) -> impl Iterator<Item = Span> + 't {
    let ns = namespace.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        if ns.is_empty() {
            return None;
        }
        loop {
            let at = from + find(&text[from.min(text.len())..], ns, ignore_case)?;
            from = at + 1;
            let end = at + ns.len();
            let left = at == 0
                || !is_alnum(text[at - 1])
                || crate::scan::escapes::escape_ends_at(text, at);
            let right = end == text.len() || !is_alnum(text[end]);
            if !(left && right) {
                continue;
            }
            let shadowed = protected.iter().any(|p| {
                let p = p.as_bytes();
                p.len() > ns.len()
                    && text.len() >= at + p.len()
                    && same(&text[at..at + p.len()], p, ignore_case)
                    && text.get(at + p.len()).is_none_or(|&b| !is_alnum(b))
            });
            if !shadowed {
                from = end;
                return Some(Span::new(at, end));
            }
        }
    })
}

fn same(a: &[u8], b: &[u8], ignore_case: bool) -> bool {
    if ignore_case {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The first place of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8], ignore_case: bool) -> Option<usize> {
    if !ignore_case {
        return memchr::memmem::find(hay, needle);
    }
    let first = needle[0];
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lo, up, hay).find(|&i| {
        hay.len() - i >= needle.len() && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

/// Why `name` cannot be a new application scope, or `None` when it can: `x_`, a vendor prefix
/// (letters and digits), `_`, a name (letters, digits and `_`, not ending with `_`), all lower
/// case, at most 18 characters (ServiceNow's rules for a scope).
///
/// ```
/// use sn_retarget::plan::namespace::scope_name_problem;
/// assert_eq!(scope_name_problem("x_acme_hr"), None);
/// assert!(scope_name_problem("x_acme").is_some());          // no name
/// assert!(scope_name_problem("x_Acme_hr").is_some());       // upper case
/// assert!(scope_name_problem("x_acme_human_resource").is_some()); // 21 characters
/// ```
pub fn scope_name_problem(name: &str) -> Option<&'static str> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_chars {
        return Some("only lower-case letters, digits and _ are allowed");
    }
    if name.len() > 18 {
        return Some("a scope is at most 18 characters long");
    }
    let Some(rest) = name.strip_prefix("x_") else {
        return Some("a scope starts with x_");
    };
    let Some((vendor, app)) = rest.split_once('_') else {
        return Some("a scope is x_<vendor prefix>_<name>");
    };
    if vendor.is_empty() {
        return Some("the vendor prefix is empty");
    }
    if app.is_empty() || app.starts_with('_') || app.ends_with('_') {
        return Some("the name after the vendor prefix must start and end with a letter or digit");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(ns: &str, protected: &[String], text: &str) -> Vec<(usize, usize)> {
        occurrences(ns, protected, text.as_bytes(), false)
            .map(|s| (s.start, s.end))
            .collect()
    }

    #[test]
    fn whole_identifiers_and_their_starts() {
        let ns = "x_58872_needit";
        for (text, hits) in [
            ("x_58872_needit", 1),
            ("x_58872_needit.admin", 1),
            ("x_58872_needit_needit.u_other", 1),
            ("sys_dictionary_x_58872_needit_needit_u_other", 1),
            ("/api/x_58872_needit/v1", 1),
            ("AutoGen-scope-x_58872_needit-instance", 1),
            ("&lt;x_58872_needit_t action", 1),
            ("x_58872_needit2", 0),
            ("x_58872_neediter", 0),
            ("ax_58872_needit", 0),
            ("9x_58872_needit", 0),
            ("x_58872_needit x_58872_needit", 2),
        ] {
            assert_eq!(spans(ns, &[], text).len(), hits, "{text}");
        }
    }

    #[test]
    fn protected_longer_namespaces_stay() {
        let p = vec!["x_a_b_core".to_string()];
        assert_eq!(
            spans("x_a_b", &p, "x_a_b_core.Api x_a_b_core_t x_a_b_t"),
            [(28, 33)]
        );
        // Only where the protected one is whole.
        assert_eq!(spans("x_a_b", &p, "x_a_b_corex"), [(0, 5)]);
    }

    #[test]
    fn scope_names() {
        for ok in [
            "x_a_b",
            "x_58872_needit",
            "x_acme_h_r",
            "x_123456789012_abc",
        ] {
            assert_eq!(scope_name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "x_",
            "x_a",
            "x__b",
            "x_a_",
            "x_a__",
            "y_a_b",
            "x_a_b!",
            "X_a_b",
            "global",
            "x_123456789012_abcd",
        ] {
            assert!(scope_name_problem(bad).is_some(), "{bad}");
        }
    }
}
