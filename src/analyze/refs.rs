//! References between records, and scope references.
//!
//! In: a [`Record`] and its fields. Out: the sys_ids it points at ([`references`]), and the
//! application scopes it names ([`scopes`]). A reference is a field written with a
//! `display_value` attribute (how exports write reference columns), a glide list of sys_ids,
//! or the `documentkey=<sys_id>` of a `delete_multiple` side record.

use serde::Serialize;

use crate::model::{Field, Record};

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

/// One reference from a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefFound<'a> {
    /// The field (or attribute, for [`RefKind::DocumentKey`]) holding it.
    pub field: &'a str,
    /// The sys_id pointed at.
    pub target: String,
    /// The `display_value` written beside it, if any.
    pub display_value: Option<String>,
    /// How it is written.
    pub kind: RefKind,
}

/// Every sys_id reference of `record`, in field order.
pub fn references<'a>(record: &Record<'a>) -> Vec<RefFound<'a>> {
    let mut out = Vec::new();
    for field in record.fields() {
        if field.payload.is_some() || field.name == "sys_id" {
            continue;
        }
        field_references(record, field, &mut out);
    }
    if let Some(q) = record.attr("query") {
        let q = q.value();
        for part in q.split('^') {
            if let Some(id) = part.strip_prefix("documentkey=") {
                if is_sys_id(id) {
                    out.push(RefFound {
                        field: "query",
                        target: id.to_string(),
                        display_value: None,
                        kind: RefKind::DocumentKey,
                    });
                }
            }
        }
    }
    out
}

fn field_references<'a>(record: &Record<'a>, field: &Field<'a>, out: &mut Vec<RefFound<'a>>) {
    let display = record.field_attr(field, "display_value");
    let raw = record.raw(field);
    // Cheap filter: references are short tokens of hex and commas.
    if raw.is_empty() || raw.len() > 33 * 1024 || raw[0] == b'<' {
        return;
    }
    let text = record.text(field);
    let text = text.trim();
    if let Some(d) = display {
        if is_sys_id(text) {
            out.push(RefFound {
                field: field.name,
                target: text.to_string(),
                display_value: Some(d.value().into_owned()),
                kind: RefKind::Reference,
            });
            return;
        }
    }
    if text.len() >= 65 && text.contains(',') {
        let ids: Vec<&str> = text.split(',').map(str::trim).collect();
        if ids.iter().all(|id| is_sys_id(id)) {
            out.extend(ids.into_iter().map(|id| RefFound {
                field: field.name,
                target: id.to_string(),
                display_value: None,
                kind: RefKind::GlideList,
            }));
        }
    }
}

/// An application scope named by a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ScopeRef {
    /// The scope's sys_id (`global` for the global scope), when written.
    pub sys_id: Option<String>,
    /// Its display name, when written.
    pub name: Option<String>,
    /// Its namespace (`x_snc_actionpack`, `global`, ...), when written.
    pub namespace: Option<String>,
}

/// Scope fields: references to the application, and the scope name on update sets.
const SCOPE_REF_FIELDS: [&str; 4] = ["sys_scope", "sys_package", "application", "scope_id"];

/// Every scope `record` names: scope reference fields (with `source=` namespaces),
/// `application_scope` text, and the record itself when it is a `sys_app`/`sys_scope`.
pub fn scopes(record: &Record<'_>) -> Vec<ScopeRef> {
    let mut out = Vec::new();
    let nonempty = |s: std::borrow::Cow<'_, str>| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    };
    for field in record.fields() {
        if SCOPE_REF_FIELDS.contains(&field.name) {
            let id = nonempty(record.text(field));
            let Some(id) = id else { continue };
            if !(is_sys_id(&id) || id == "global") {
                continue;
            }
            let name = record
                .field_attr(field, "display_value")
                .and_then(|a| nonempty(a.value()));
            let namespace = record
                .field_attr(field, "source")
                .and_then(|a| nonempty(a.value()))
                .or_else(|| (id == "global").then(|| "global".to_string()));
            out.push(ScopeRef {
                sys_id: Some(id),
                name,
                namespace,
            });
        } else if field.name == "application_scope" {
            if let Some(ns) = nonempty(record.text(field)) {
                let name = record.value("application_name").and_then(nonempty);
                let sys_id = record
                    .field("application")
                    .and_then(|f| nonempty(record.text(f)));
                out.push(ScopeRef {
                    sys_id,
                    name,
                    namespace: Some(ns),
                });
            }
        }
    }
    if matches!(record.table, "sys_app" | "sys_scope" | "sys_store_app") {
        if let Some(id) = record.sys_id() {
            out.push(ScopeRef {
                sys_id: Some(id.to_string()),
                name: record.value("name").and_then(nonempty),
                namespace: record.value("scope").and_then(nonempty),
            });
        }
    }
    out
}
