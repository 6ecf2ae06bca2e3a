//! References between records, and scope references.
//!
//! In: a [`Record`] and its fields. Out: the sys_ids it points at ([`for_each_reference`]),
//! and the application scopes it names ([`for_each_scope`]). A reference is a field written with a
//! `display_value` attribute (how exports write reference columns), a glide list of sys_ids,
//! or the `documentkey=<sys_id>` of a `delete_multiple` side record.

use std::borrow::Cow;

use serde::Serialize;

use crate::model::Record;

/// `true` for a sys_id: 32 lowercase hex digits.
///
/// ```
/// use sn_retarget::analyze::refs::is_sys_id;
/// assert!(is_sys_id("e31343e9c37c721038ef5375e40131ac"));
/// assert!(!is_sys_id("global"));
/// ```
pub fn is_sys_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `true` for a sys_id written as bytes, in lower or upper case (a hand-written reference may
/// spell one in capitals; ServiceNow reads both).
fn is_sys_id_bytes(b: &[u8]) -> bool {
    b.len() == 32
        && (b
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            || b.iter()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)))
}

/// [`is_sys_id`], in lower or upper case.
///
/// ```
/// use sn_retarget::analyze::refs::is_sys_id_any_case;
/// assert!(is_sys_id_any_case("E31343E9C37C721038EF5375E40131AC"));
/// assert!(!is_sys_id_any_case("E31343e9c37c721038ef5375e40131ac"));
/// ```
pub fn is_sys_id_any_case(s: &str) -> bool {
    is_sys_id_bytes(s.as_bytes())
}

/// How a reference is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// `<field display_value="...">sys_id</field>`.
    Reference,
    /// A comma-separated list of sys_ids.
    GlideList,
    /// `query="documentkey=<sys_id>"` on a side record.
    DocumentKey,
}

/// One reference from a record, borrowed from the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefFound<'a> {
    /// The field (or attribute, for [`RefKind::DocumentKey`]) holding it.
    pub field: &'a str,
    /// The sys_id pointed at.
    pub target: &'a str,
    /// The `display_value` written beside it, if any.
    pub display_value: Option<Cow<'a, str>>,
    /// How it is written.
    pub kind: RefKind,
}

/// Calls `f` with every sys_id reference of `record`, in field order.
///
/// Works on the raw bytes: only values shaped like a sys_id or a list of them are decoded.
pub fn for_each_reference<'a>(record: &Record<'a>, mut f: impl FnMut(RefFound<'a>)) {
    for field in record.fields() {
        if field.payload.is_some() || field.name == "sys_id" {
            continue;
        }
        let trimmed = record.raw(field).trim_ascii();
        if trimmed.len() == 32 {
            // A reference: a sys_id with its display value beside it.
            let Some(d) = record.field_attr(field, "display_value") else {
                continue;
            };
            if let (true, Ok(id)) = (is_sys_id_bytes(trimmed), std::str::from_utf8(trimmed)) {
                f(RefFound {
                    field: field.name,
                    target: id,
                    display_value: Some(d.value()),
                    kind: RefKind::Reference,
                });
            }
        } else if trimmed.len() >= 65
            && trimmed.len() <= 64 * 1024
            && trimmed[32] == b','
            && trimmed
                .iter()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b',' | b' '))
        {
            // A glide list: sys_ids separated by commas.
            let Ok(text) = std::str::from_utf8(trimmed) else {
                continue;
            };
            let ids = text.split(',').map(str::trim);
            if ids.clone().all(is_sys_id_any_case) {
                for id in ids {
                    f(RefFound {
                        field: field.name,
                        target: id,
                        display_value: None,
                        kind: RefKind::GlideList,
                    });
                }
            }
        }
    }
    if let Some(q) = record.attr("query") {
        for part in q.raw.split('^') {
            if let Some(id) = part.strip_prefix("documentkey=") {
                if is_sys_id_any_case(id) {
                    f(RefFound {
                        field: "query",
                        target: id,
                        display_value: None,
                        kind: RefKind::DocumentKey,
                    });
                }
            }
        }
    }
}

/// An application scope named by a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRef<'a> {
    /// The scope's sys_id (`global` for the global scope), when written.
    pub sys_id: Option<Cow<'a, str>>,
    /// Its display name, when written.
    pub name: Option<Cow<'a, str>>,
    /// Its namespace (`x_snc_actionpack`, `global`, ...), when written.
    pub namespace: Option<Cow<'a, str>>,
}

/// Scope fields: references to the application.
const SCOPE_REF_FIELDS: [&str; 4] = ["sys_scope", "sys_package", "application", "scope_id"];

fn nonempty(s: Cow<'_, str>) -> Option<Cow<'_, str>> {
    match s {
        Cow::Borrowed(b) => Some(Cow::Borrowed(b.trim())).filter(|t| !t.is_empty()),
        Cow::Owned(o) => Some(Cow::<str>::Owned(o.trim().to_string())).filter(|t| !t.is_empty()),
    }
}

/// Calls `f` with every scope `record` names: scope reference fields (with `source=`
/// namespaces), `application_scope` text, and the record itself when it is a `sys_app`,
/// `sys_scope` or `sys_store_app`.
pub fn for_each_scope<'a>(record: &Record<'a>, mut f: impl FnMut(ScopeRef<'a>)) {
    for field in record.fields() {
        if SCOPE_REF_FIELDS.contains(&field.name) {
            let Some(id) = nonempty(record.text(field)) else {
                continue;
            };
            if !(is_sys_id(&id) || id == "global") {
                continue;
            }
            let name = record
                .field_attr(field, "display_value")
                .and_then(|a| nonempty(a.value()));
            let namespace = record
                .field_attr(field, "source")
                .and_then(|a| nonempty(a.value()))
                .or_else(|| (id == "global").then_some(Cow::Borrowed("global")));
            f(ScopeRef {
                sys_id: Some(id),
                name,
                namespace,
            });
        } else if field.name == "application_scope" {
            if let Some(ns) = nonempty(record.text(field)) {
                f(ScopeRef {
                    sys_id: record
                        .field("application")
                        .and_then(|a| nonempty(record.text(a))),
                    name: record.value("application_name").and_then(nonempty),
                    namespace: Some(ns),
                });
            }
        }
    }
    if matches!(record.table, "sys_app" | "sys_scope" | "sys_store_app") {
        if let Some(id) = record.sys_id() {
            f(ScopeRef {
                sys_id: Some(Cow::Borrowed(id)),
                name: record.value("name").and_then(nonempty),
                namespace: record.value("scope").and_then(nonempty),
            });
        }
    }
}
